-- reporting.agents: generated from datasets/agents.yaml; edit the spec, not this SQL.
CREATE OR REPLACE VIEW reporting.agents AS
SELECT
  CAST(r.email AS TEXT) AS agent_email,
  CAST(COALESCE(r.name, n.agent_name, r.email) AS TEXT) AS agent_name,
  CAST(r.team AS TEXT) AS team,
  CAST(r.office AS TEXT) AS office,
  CAST(r.plan AS TEXT) AS plan_name,
  CAST(pl.agent_split_percent AS NUMERIC) AS agent_split_percent,
  CAST(pl.per_deal_fee AS NUMERIC) AS per_deal_fee,
  CAST(pl.cap AS NUMERIC) AS cap,
  CAST(r.anniversary AS DATE) AS anniversary,
  CAST(CASE WHEN NOT pl.name IS NULL THEN cy.start END AS DATE) AS cap_year_start,
  CAST(CASE
    WHEN NOT pl.name IS NULL
    THEN COALESCE(months.paid, 0) + COALESCE(days.paid, 0)
  END AS NUMERIC) AS company_dollar_this_cap_year,
  CAST(pl.cap - COALESCE(months.paid, 0) - COALESCE(days.paid, 0) AS NUMERIC) AS left_to_cap,
  CAST(p.anchor AS DATE) AS period_anchor
FROM reporting_config.agent AS r
LEFT JOIN reporting_config.plan AS pl
  ON pl.name = r.plan
CROSS JOIN (
  SELECT
    reporting_lib.period_anchor() AS anchor
  OFFSET 0
) AS p
CROSS JOIN LATERAL (
  SELECT
    y.start,
    CAST(DATE_TRUNC('MONTH', p.anchor) AS DATE) AS anchor_month,
    CASE
      WHEN EXTRACT(DAY FROM y.start) = 1
      THEN y.start
      ELSE CAST((
        DATE_TRUNC('MONTH', y.start) + INTERVAL '1 MONTH'
      ) AS DATE)
    END AS full_start
  FROM (
    SELECT
      reporting_lib.cap_year_start(r.anniversary, p.anchor) AS start
  ) AS y
) AS cy
LEFT JOIN LATERAL (
  SELECT
    SUM(m.company_dollar) AS paid
  FROM reporting.agent_monthly_production AS m
  WHERE
    m.agent_email = r.email
    AND m.closing_month >= cy.full_start
    AND m.closing_month < cy.anchor_month
) AS months
  ON TRUE
LEFT JOIN LATERAL (
  SELECT
    SUM(c.company_dollar) AS paid
  FROM reporting.agent_credits AS c
  WHERE
    c.agent_email = r.email
    AND c.is_closed
    AND (
      (
        c.closing_date >= cy.start AND c.closing_date < cy.full_start
      )
      OR (
        c.closing_date >= GREATEST(cy.start, cy.anchor_month)
        AND c.closing_date <= p.anchor
      )
    )
) AS days
  ON TRUE
LEFT JOIN LATERAL (
  SELECT
    c.agent_name
  FROM reporting.agent_credits AS c
  WHERE
    c.agent_email = r.email
  LIMIT 1
) AS n
  ON TRUE
UNION ALL
SELECT
  CAST(c.agent_email AS TEXT) AS agent_email,
  CAST(c.agent_name AS TEXT) AS agent_name,
  CAST(NULL AS TEXT) AS team,
  CAST(NULL AS TEXT) AS office,
  CAST(NULL AS TEXT) AS plan_name,
  CAST(NULL AS NUMERIC) AS agent_split_percent,
  CAST(NULL AS NUMERIC) AS per_deal_fee,
  CAST(NULL AS NUMERIC) AS cap,
  CAST(NULL AS DATE) AS anniversary,
  CAST(NULL AS DATE) AS cap_year_start,
  CAST(NULL AS NUMERIC) AS company_dollar_this_cap_year,
  CAST(NULL AS NUMERIC) AS left_to_cap,
  CAST(p.anchor AS DATE) AS period_anchor
FROM reporting.agent_credits AS c
CROSS JOIN (
  SELECT
    reporting_lib.period_anchor() AS anchor
) AS p
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM reporting_config.agent
  )
GROUP BY
  c.agent_email,
  c.agent_name,
  p.anchor;

COMMENT ON VIEW reporting.agents IS 'One row per agent: every agent on the roster (reporting_config.agent) or, while no roster is loaded, every e-mail with an agent credit. With the agent''s team, office and commission plan, and what is left of the plan''s cap in the cap year holding the anchor date (period_anchor: SET dotloop_reporter.anchor_date, else today).';

COMMENT ON COLUMN reporting.agents.agent_email IS 'The agent''s e-mail address, lower-cased; identifies the agent.';

COMMENT ON COLUMN reporting.agents.agent_name IS 'The agent''s name as in reporting.agent_credits: the roster''s, else the one on the agent''s most recently updated loop.';

COMMENT ON COLUMN reporting.agents.team IS 'The agent''s team on the roster.';

COMMENT ON COLUMN reporting.agents.office IS 'The agent''s office on the roster.';

COMMENT ON COLUMN reporting.agents.plan_name IS 'The agent''s commission plan on the roster; NULL without one.';

COMMENT ON COLUMN reporting.agents.agent_split_percent IS 'The plan''s agent split, in percent of adjusted GCI until the cap.';

COMMENT ON COLUMN reporting.agents.per_deal_fee IS 'The plan''s fee per closed side.';

COMMENT ON COLUMN reporting.agents.cap IS 'The plan''s company dollar cap per cap year; NULL without a cap.';

COMMENT ON COLUMN reporting.agents.anniversary IS 'The agent''s anniversary on the roster: each cap year starts on its month and day (January 1 when NULL).';

COMMENT ON COLUMN reporting.agents.cap_year_start IS 'First day of the cap year holding period_anchor; NULL without a plan.';

COMMENT ON COLUMN reporting.agents.company_dollar_this_cap_year IS 'Company dollar of the agent''s credits closed from cap_year_start to period_anchor; NULL without a plan.';

COMMENT ON COLUMN reporting.agents.left_to_cap IS 'cap - company_dollar_this_cap_year: what the agent still pays the brokerage before the cap is reached; NULL without a plan or a cap.';

COMMENT ON COLUMN reporting.agents.period_anchor IS 'The day the cap year is read at: dotloop_reporter.anchor_date when set in the session, else today.';
