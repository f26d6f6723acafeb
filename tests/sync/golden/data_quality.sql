-- reporting.data_quality: generated from datasets/data_quality.yaml; edit the spec, not this SQL.
CREATE TABLE reporting.data_quality (
  loop_id BIGINT,
  profile_id BIGINT,
  loop_name TEXT,
  side TEXT,
  metric TEXT,
  problem TEXT,
  reason TEXT,
  value TEXT
);

CREATE INDEX data_quality_loop_id_idx ON reporting.data_quality(loop_id);

CREATE INDEX data_quality_problem_loop_id_idx ON reporting.data_quality(problem, loop_id);

COMMENT ON TABLE reporting.data_quality IS 'One row per loop (and side, where it matters) and problem that made a report leave something out: a detail that could not be read, a closed deal without a closing date, a represented side without an agent, a loop with no represented side, a side whose GCI or volume cannot be derived, an agent without an e-mail, a side whose agents are all outside the brokerage''s roster, a pipeline deal without a closing date. Fix the loop in Dotloop (or the roster); the row goes away after the next sync.';

COMMENT ON COLUMN reporting.data_quality.loop_id IS 'The loop (reporting.loops.loop_id).';

COMMENT ON COLUMN reporting.data_quality.profile_id IS 'The Dotloop profile the loop belongs to.';

COMMENT ON COLUMN reporting.data_quality.loop_name IS 'The loop''s name, usually the property address.';

COMMENT ON COLUMN reporting.data_quality.side IS 'The side concerned, ''buy'' or ''sell''; NULL for the whole loop.';

COMMENT ON COLUMN reporting.data_quality.metric IS 'What is left out: a reporting.loops column whose value could not be read (price, closing_date, ...), or gci, volume, agent_credit, sides; closing_date also for a closed or pipeline deal without one.';

COMMENT ON COLUMN reporting.data_quality.problem IS 'The kind of problem: unreadable_value, closed_without_closing_date, no_agent_on_side, agent_without_email, no_represented_side, gci_not_derivable, no_volume, outside_agents_only (with a roster loaded, a side worked only by agents not on it does not count) or pipeline_without_closing_date (an UNDER_CONTRACT loop with no Closing Date is in no month of the pipeline).';

COMMENT ON COLUMN reporting.data_quality.reason IS 'What is wrong, in words, naming the Dotloop field to fix.';

COMMENT ON COLUMN reporting.data_quality.value IS 'The offending value as entered in Dotloop, when there is one.';

INSERT INTO reporting.data_quality
SELECT
  CAST(l.loop_id AS BIGINT) AS loop_id,
  CAST(l.profile_id AS BIGINT) AS profile_id,
  CAST(l.name AS TEXT) AS loop_name,
  CAST(NULL AS TEXT) AS side,
  CAST(f.field AS TEXT) AS metric,
  CAST('unreadable_value' AS TEXT) AS problem,
  CAST((
    f.info ->> 'label'
  ) || ' cannot be read as ' || (
    f.info ->> 'parse'
  ) || '; it is left out of every figure that uses it' AS TEXT) AS reason,
  CAST(f.info ->> 'value' AS TEXT) AS value
FROM reporting.loops AS l
CROSS JOIN LATERAL JSONB_EACH(l.unparsed_fields) AS f(field, info)
UNION ALL
SELECT
  CAST(l.loop_id AS BIGINT) AS loop_id,
  CAST(l.profile_id AS BIGINT) AS profile_id,
  CAST(l.name AS TEXT) AS loop_name,
  CAST(NULL AS TEXT) AS side,
  CAST(c.metric AS TEXT) AS metric,
  CAST(c.problem AS TEXT) AS problem,
  CAST(c.reason AS TEXT) AS reason,
  CAST(c.value AS TEXT) AS value
FROM reporting.loops AS l
CROSS JOIN LATERAL (
  VALUES
    (
      'closing_date',
      'closed_without_closing_date',
      l.is_closed AND l.closing_date IS NULL,
      'status ' || l.status || ' but Contract Dates / Closing Date is' || ' empty or unreadable: the deal is in no period',
      NULL
    ),
    (
      'sides',
      'no_represented_side',
      l.represented_side IS NULL,
      CASE
        WHEN l.transaction_type IS NULL
        THEN 'the loop has no transaction type, so no side is represented'
        WHEN l.transaction_type IN ('REAL_ESTATE_OTHER', 'OTHER')
        THEN 'transaction type ' || l.transaction_type || ' represents neither a buy nor a sell side'
        ELSE 'unknown transaction type ' || l.transaction_type || ': no side is represented'
      END,
      l.transaction_type
    )
) AS c(metric, problem, found, reason, value)
WHERE
  c.found
UNION ALL
SELECT
  CAST(s.loop_id AS BIGINT) AS loop_id,
  CAST(s.profile_id AS BIGINT) AS profile_id,
  CAST(s.loop_name AS TEXT) AS loop_name,
  CAST(s.side AS TEXT) AS side,
  CAST(c.metric AS TEXT) AS metric,
  CAST(c.problem AS TEXT) AS problem,
  CAST(c.reason AS TEXT) AS reason,
  CAST(c.value AS TEXT) AS value
FROM reporting.loop_sides AS s
CROSS JOIN LATERAL (
  VALUES
    (
      'agent_credit',
      'no_agent_on_side',
      s.agent_count = 0,
      CASE s.side
        WHEN 'sell'
        THEN 'no LISTING_AGENT with an e-mail'
        ELSE 'no BUYING_AGENT (or TENANT_AGENT on a lease) with an e-mail'
      END || ': the side counts for the company but for no agent',
      NULL
    ),
    (
      'agent_credit',
      'agent_without_email',
      NOT s.agents_without_email IS NULL,
      'agent without an e-mail, who gets no credit: ' || s.agents_without_email,
      s.agents_without_email
    ),
    (
      'gci',
      'gci_not_derivable',
      s.gci IS NULL AND (
        s.is_closed OR s.status = 'UNDER_CONTRACT'
      ),
      CASE
        WHEN NOT s.split_percent IS NULL
        THEN 'Sale Commission Split % is filled but there is no total' || ' commission (Sale Commission Total, or price x Sale' || ' Commission Rate)'
        WHEN s.is_dual_agency
        THEN 'dual agency, but this side''s Sale Commission Split is' || ' not readable'
        WHEN NOT s.deal_commission IS NULL
        THEN 'a Sale Commission Split is filled, but not readably for' || ' this side'
        ELSE 'no commission: Sale Commission Total is empty and price x' || ' Sale Commission Rate is not available'
      END,
      NULL
    ),
    (
      'volume',
      'no_volume',
      s.is_closed AND s.volume IS NULL,
      'closed, but Financials / Purchase/Sale Price (or Rent on a lease)' || ' is empty or unreadable: the side adds no volume',
      NULL
    )
) AS c(metric, problem, found, reason, value)
WHERE
  c.found
UNION ALL
SELECT
  CAST(s.loop_id AS BIGINT) AS loop_id,
  CAST(s.profile_id AS BIGINT) AS profile_id,
  CAST(s.loop_name AS TEXT) AS loop_name,
  CAST(NULL AS TEXT) AS side,
  CAST('closing_date' AS TEXT) AS metric,
  CAST('pipeline_without_closing_date' AS TEXT) AS problem,
  CAST('under contract, but Contract Dates / Closing Date is empty or' || ' unreadable: the deal is in no month of the pipeline' AS TEXT) AS reason,
  CAST(NULL AS TEXT) AS value
FROM reporting.loop_sides AS s
WHERE
  s.transactions = 1 AND s.status = 'UNDER_CONTRACT' AND s.closing_date IS NULL
UNION ALL
SELECT
  CAST(l.loop_id AS BIGINT) AS loop_id,
  CAST(l.profile_id AS BIGINT) AS profile_id,
  CAST(l.name AS TEXT) AS loop_name,
  CAST(s.side AS TEXT) AS side,
  CAST(CASE WHEN s.outside IS NULL THEN 'agent_credit' ELSE 'sides' END AS TEXT) AS metric,
  CAST(CASE WHEN s.outside IS NULL THEN 'no_agent_on_side' ELSE 'outside_agents_only' END AS TEXT) AS problem,
  CAST(CASE
    WHEN s.outside IS NULL
    THEN CASE s.side
      WHEN 'sell'
      THEN 'no LISTING_AGENT with an e-mail'
      ELSE 'no BUYING_AGENT (or TENANT_AGENT on a lease) with an e-mail'
    END || ': with a roster loaded, the side does not count'
    ELSE 'every agent on this side is outside the brokerage (not on the' || ' roster): the side does not count'
  END AS TEXT) AS reason,
  CAST(s.outside AS TEXT) AS value
FROM reporting.loops AS l
CROSS JOIN (
  SELECT
    EXISTS(
      SELECT
        1
      FROM reporting_config.agent
    ) AS loaded
) AS roster
CROSS JOIN LATERAL (
  SELECT
    COUNT(*) FILTER(WHERE
      p.agent_side = 'buy') AS buy_agents,
    COUNT(*) FILTER(WHERE
      p.agent_side = 'sell') AS sell_agents,
    COUNT(*) FILTER(WHERE
      p.agent_side = 'buy' AND NOT r.email IS NULL) AS buy_roster,
    COUNT(*) FILTER(WHERE
      p.agent_side = 'sell' AND NOT r.email IS NULL) AS sell_roster,
    STRING_AGG(p.email, ', '
    ORDER BY
      p.participant_order) FILTER(WHERE
      p.agent_side = 'buy') AS buy_outside,
    STRING_AGG(p.email, ', '
    ORDER BY
      p.participant_order) FILTER(WHERE
      p.agent_side = 'sell') AS sell_outside
  FROM reporting.loop_participants AS p
  LEFT JOIN reporting_config.agent AS r
    ON r.email = p.email
  WHERE
    p.loop_id = l.loop_id
) AS a
CROSS JOIN LATERAL (
  VALUES
    ('buy', a.buy_roster, a.buy_outside),
    ('sell', a.sell_roster, a.sell_outside)
) AS s(side, roster_agents, outside)
WHERE
  roster.loaded
  AND NOT l.represented_side IS NULL
  AND s.roster_agents = 0
  AND (
    s.side = l.represented_side
    OR (
      a.buy_agents > 0
      AND a.sell_agents > 0
      AND l.buy_side_split_entered
      AND l.sell_side_split_entered
    )
  );
