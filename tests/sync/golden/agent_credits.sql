-- reporting.agent_credits: generated from datasets/agent_credits.yaml; edit the spec, not this SQL.
CREATE TABLE reporting.agent_credits (
  loop_id BIGINT,
  profile_id BIGINT,
  office TEXT,
  team TEXT,
  loop_name TEXT,
  side TEXT,
  agent_email TEXT,
  agent_name TEXT,
  agent_role TEXT,
  transaction_type TEXT,
  status TEXT,
  is_closed BOOLEAN,
  closing_date DATE,
  closing_month DATE,
  closing_year INT,
  projected_close_month DATE,
  days_to_close INT,
  days_on_market INT,
  agents_on_side INT,
  gci_credit NUMERIC,
  volume_credit NUMERIC,
  unit_credit NUMERIC,
  referral_fee_credit NUMERIC,
  adjusted_gci_credit NUMERIC,
  transactions INT,
  gci_rule TEXT,
  plan_name TEXT,
  cap_year_start DATE,
  pre_cap_company_dollar NUMERIC,
  company_dollar NUMERIC,
  deal_fees NUMERIC,
  agent_net NUMERIC,
  name_on_loop TEXT,
  loop_updated TIMESTAMPTZ,
  plan_cap NUMERIC
);

CREATE INDEX agent_credits_loop_id_idx ON reporting.agent_credits(loop_id);

CREATE INDEX agent_credits_closing_date_idx ON reporting.agent_credits(closing_date);

CREATE INDEX agent_credits_agent_email_closing_date_idx ON reporting.agent_credits(agent_email, closing_date);

CREATE INDEX agent_credits_team_idx ON reporting.agent_credits(team);

COMMENT ON TABLE reporting.agent_credits IS 'One row per loop, represented side and agent working it: a LISTING_AGENT on the sell side; a BUYING_AGENT, or TENANT_AGENT on a lease, on the buy side. The agents of a side share its GCI, volume and unit equally. Agents are identified by e-mail (lower-cased); agents without one get no credit and, once a roster is loaded (reporting_config.agent), only roster agents get credits; an agent listed twice on a side (the e-mail in another case) gets one credit, from the first listing. With a commission plan, each closed credit shows the company dollar (capped per cap year), the per-deal fees and the agent''s net. Sum the credits over rows with is_closed for an agent''s or a team''s production; company and office totals come from reporting.loop_sides, which also counts sides without an agent.';

COMMENT ON COLUMN reporting.agent_credits.loop_id IS 'The loop (reporting.loops.loop_id).';

COMMENT ON COLUMN reporting.agent_credits.profile_id IS 'The Dotloop profile the loop belongs to.';

COMMENT ON COLUMN reporting.agent_credits.office IS 'The office the credit counts for: the agent''s office on the roster, else the office of the side (reporting.loop_sides.office).';

COMMENT ON COLUMN reporting.agent_credits.team IS 'The agent''s team on the roster; NULL without one.';

COMMENT ON COLUMN reporting.agent_credits.loop_name IS 'The loop''s name, usually the property address.';

COMMENT ON COLUMN reporting.agent_credits.side IS 'The side the agent worked, ''buy'' or ''sell''.';

COMMENT ON COLUMN reporting.agent_credits.agent_email IS 'The agent''s e-mail address, lower-cased; identifies the agent.';

COMMENT ON COLUMN reporting.agent_credits.agent_name IS 'The agent''s name: the roster''s, else the one on the most recently updated loop where this e-mail works a side (the e-mail when no loop has a name).';

COMMENT ON COLUMN reporting.agent_credits.agent_role IS 'The agent''s role in the loop: LISTING_AGENT, BUYING_AGENT or TENANT_AGENT.';

COMMENT ON COLUMN reporting.agent_credits.transaction_type IS 'The loop''s Dotloop transaction type.';

COMMENT ON COLUMN reporting.agent_credits.status IS 'The loop''s Dotloop status.';

COMMENT ON COLUMN reporting.agent_credits.is_closed IS 'True when the deal closed (SOLD, or LEASED for a lease).';

COMMENT ON COLUMN reporting.agent_credits.closing_date IS 'The deal''s closing date.';

COMMENT ON COLUMN reporting.agent_credits.closing_month IS 'First day of the month of closing_date.';

COMMENT ON COLUMN reporting.agent_credits.closing_year IS 'The year of closing_date.';

COMMENT ON COLUMN reporting.agent_credits.projected_close_month IS 'For the pipeline: the month an UNDER_CONTRACT loop is expected to close (reporting.loop_sides.projected_close_month).';

COMMENT ON COLUMN reporting.agent_credits.days_to_close IS 'Days from the Contract Agreement Date to the Closing Date of the loop; average it over the agent''s rows with transactions = 1.';

COMMENT ON COLUMN reporting.agent_credits.days_on_market IS 'Days from the Listing Date to the Contract Agreement Date of the loop; average it over the agent''s rows with transactions = 1.';

COMMENT ON COLUMN reporting.agent_credits.agents_on_side IS 'How many agents share this side.';

COMMENT ON COLUMN reporting.agent_credits.gci_credit IS 'The agent''s share of the side''s GCI (reporting.loop_sides.gci divided by agents_on_side, unrounded); NULL when the side''s GCI is unknown.';

COMMENT ON COLUMN reporting.agent_credits.volume_credit IS 'The agent''s share of the side''s volume.';

COMMENT ON COLUMN reporting.agent_credits.unit_credit IS 'The agent''s share of the side''s unit (0.5 for one of two agents); by side, the agent''s list sides and buy sides.';

COMMENT ON COLUMN reporting.agent_credits.referral_fee_credit IS 'The agent''s share of the side''s outbound referral fee.';

COMMENT ON COLUMN reporting.agent_credits.adjusted_gci_credit IS 'The agent''s share of the side''s GCI after the referral fee (reporting.loop_sides.adjusted_gci divided by agents_on_side).';

COMMENT ON COLUMN reporting.agent_credits.transactions IS '1 on the agent''s first row of each loop, else 0: summed over closed rows, the agent''s transactions (distinct closed loops with a credit). Not additive across agents: a loop two agents share is one transaction of the company.';

COMMENT ON COLUMN reporting.agent_credits.gci_rule IS 'The rule that gave the side''s GCI: ''split_amount'', ''split_percent'', ''total_commission'', or NULL when the GCI is unknown.';

COMMENT ON COLUMN reporting.agent_credits.plan_name IS 'The agent''s commission plan on the roster (reporting_config.plan); NULL without one, and then the plan figures below are NULL too.';

COMMENT ON COLUMN reporting.agent_credits.cap_year_start IS 'First day of the agent''s cap year holding the closing date: the latest anniversary month and day (January 1 without one) on or before it. Set on closed credits with a closing date and a plan.';

COMMENT ON COLUMN reporting.agent_credits.pre_cap_company_dollar IS 'The company''s share of adjusted_gci_credit by the plan''s split, before the cap: adjusted_gci_credit x (100 - agent_split_percent) / 100.';

COMMENT ON COLUMN reporting.agent_credits.company_dollar IS 'What the brokerage keeps of this credit: pre_cap_company_dollar, but no more than what is left of the plan''s cap in the cap year once the agent''s earlier closed credits of that year (by closing date, loop and side) have paid theirs; without a cap, pre_cap_company_dollar. NULL without a plan or when the GCI is unknown (which pays nothing toward the cap).';

COMMENT ON COLUMN reporting.agent_credits.deal_fees IS 'The plan''s per-deal fee for this closed credit: per_deal_fee x unit_credit (a referral, with no unit, pays none).';

COMMENT ON COLUMN reporting.agent_credits.agent_net IS 'What the agent takes home of this credit: adjusted_gci_credit - company_dollar - deal_fees.';

COMMENT ON COLUMN reporting.agent_credits.name_on_loop IS 'The agent''s name as this credit gives it: the roster''s, else the participant''s full name on the loop (agent_name picks one per agent).';

COMMENT ON COLUMN reporting.agent_credits.loop_updated IS 'When the loop was last updated in Dotloop.';

COMMENT ON COLUMN reporting.agent_credits.plan_cap IS 'The cap of the agent''s plan (reporting_config.plan.cap); NULL without a plan or a cap.';

INSERT INTO reporting.agent_credits
SELECT
  _rows.loop_id,
  _rows.profile_id,
  _rows.office,
  _rows.team,
  _rows.loop_name,
  _rows.side,
  _rows.agent_email,
  CAST(COALESCE(
    FIRST_VALUE(_rows.name_on_loop) OVER (
      PARTITION BY _rows.agent_email
      ORDER BY _rows.name_on_loop IS NULL, _rows.loop_updated DESC NULLS LAST, _rows.loop_id DESC
    ),
    _rows.agent_email
  ) AS TEXT) AS agent_name,
  _rows.agent_role,
  _rows.transaction_type,
  _rows.status,
  _rows.is_closed,
  _rows.closing_date,
  _rows.closing_month,
  _rows.closing_year,
  _rows.projected_close_month,
  _rows.days_to_close,
  _rows.days_on_market,
  _rows.agents_on_side,
  _rows.gci_credit,
  _rows.volume_credit,
  _rows.unit_credit,
  _rows.referral_fee_credit,
  _rows.adjusted_gci_credit,
  _rows.transactions,
  _rows.gci_rule,
  _rows.plan_name,
  _rows.cap_year_start,
  _rows.pre_cap_company_dollar,
  CAST(CASE
    WHEN _rows.pre_cap_company_dollar IS NULL
    THEN NULL
    WHEN _rows.plan_cap IS NULL
    THEN _rows.pre_cap_company_dollar
    ELSE LEAST(
      _rows.pre_cap_company_dollar,
      GREATEST(
        _rows.plan_cap - COALESCE(
          SUM(_rows.pre_cap_company_dollar) OVER (
            PARTITION BY _rows.agent_email, _rows.cap_year_start
            ORDER BY _rows.closing_date, _rows.loop_id, _rows.side
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
          ),
          0
        ),
        0
      )
    )
  END AS NUMERIC) AS company_dollar,
  _rows.deal_fees,
  CAST(_rows.adjusted_gci_credit - (
    CAST(CASE
      WHEN _rows.pre_cap_company_dollar IS NULL
      THEN NULL
      WHEN _rows.plan_cap IS NULL
      THEN _rows.pre_cap_company_dollar
      ELSE LEAST(
        _rows.pre_cap_company_dollar,
        GREATEST(
          _rows.plan_cap - COALESCE(
            SUM(_rows.pre_cap_company_dollar) OVER (
              PARTITION BY _rows.agent_email, _rows.cap_year_start
              ORDER BY _rows.closing_date, _rows.loop_id, _rows.side
              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ),
            0
          ),
          0
        )
      )
    END AS NUMERIC)
  ) - _rows.deal_fees AS NUMERIC) AS agent_net,
  _rows.name_on_loop,
  _rows.loop_updated,
  _rows.plan_cap
FROM (
  SELECT
    CAST(s.loop_id AS BIGINT) AS loop_id,
    CAST(s.profile_id AS BIGINT) AS profile_id,
    CAST(COALESCE(r.office, s.office) AS TEXT) AS office,
    CAST(r.team AS TEXT) AS team,
    CAST(s.loop_name AS TEXT) AS loop_name,
    CAST(s.side AS TEXT) AS side,
    CAST(p.email AS TEXT) AS agent_email,
    CAST(p.role AS TEXT) AS agent_role,
    CAST(s.transaction_type AS TEXT) AS transaction_type,
    CAST(s.status AS TEXT) AS status,
    CAST(s.is_closed AS BOOLEAN) AS is_closed,
    CAST(s.closing_date AS DATE) AS closing_date,
    CAST(s.closing_month AS DATE) AS closing_month,
    CAST(s.closing_year AS INT) AS closing_year,
    CAST(s.projected_close_month AS DATE) AS projected_close_month,
    CAST(s.days_to_close AS INT) AS days_to_close,
    CAST(s.days_on_market AS INT) AS days_on_market,
    CAST(s.agent_count AS INT) AS agents_on_side,
    CAST(s.gci / s.agent_count AS NUMERIC) AS gci_credit,
    CAST(s.volume / s.agent_count AS NUMERIC) AS volume_credit,
    _c0.unit_credit AS unit_credit,
    CAST(s.referral_fee / s.agent_count AS NUMERIC) AS referral_fee_credit,
    _c0.adjusted_gci_credit AS adjusted_gci_credit,
    CAST(CASE
      WHEN ROW_NUMBER() OVER (PARTITION BY p.email, s.loop_id ORDER BY s.side, p.participant_order) = 1
      THEN 1
      ELSE 0
    END AS INT) AS transactions,
    CAST(s.gci_rule AS TEXT) AS gci_rule,
    CAST(r.plan AS TEXT) AS plan_name,
    _c0.cap_year_start AS cap_year_start,
    CAST(CASE
      WHEN NOT _c0.cap_year_start IS NULL
      THEN _c0.adjusted_gci_credit * (
        100 - pl.agent_split_percent
      ) / 100
    END AS NUMERIC) AS pre_cap_company_dollar,
    CAST(CASE WHEN NOT _c0.cap_year_start IS NULL THEN pl.per_deal_fee * _c0.unit_credit END AS NUMERIC) AS deal_fees,
    CAST(COALESCE(r.name, p.full_name) AS TEXT) AS name_on_loop,
    CAST(s.loop_updated AS TIMESTAMPTZ) AS loop_updated,
    CAST(pl.cap AS NUMERIC) AS plan_cap
  FROM reporting.loop_sides AS s
  JOIN reporting.loop_participants AS p
    ON p.loop_id = s.loop_id AND p.agent_side = s.side
  CROSS JOIN (
    SELECT
      EXISTS(
        SELECT
          1
        FROM reporting_config.agent
      ) AS loaded
  ) AS roster
  LEFT JOIN reporting_config.agent AS r
    ON r.email = p.email
  LEFT JOIN reporting_config.plan AS pl
    ON pl.name = r.plan
  CROSS JOIN LATERAL (
    SELECT
      CAST(s.units / s.agent_count AS NUMERIC) AS unit_credit,
      CAST(s.adjusted_gci / s.agent_count AS NUMERIC) AS adjusted_gci_credit,
      CAST(CASE
        WHEN NOT pl.name IS NULL AND s.is_closed
        THEN reporting_lib.cap_year_start(r.anniversary, s.closing_date)
      END AS DATE) AS cap_year_start
    OFFSET 0
  ) AS _c0
  WHERE
    NOT p.email IS NULL
    AND (
      NOT roster.loaded OR NOT r.email IS NULL
    )
    AND NOT EXISTS(
      SELECT
        1
      FROM reporting.loop_participants AS twice
      WHERE
        twice.loop_id = p.loop_id
        AND twice.agent_side = p.agent_side
        AND twice.email = p.email
        AND twice.participant_order < p.participant_order
    )
) AS _rows;
