-- reporting.agent_credits: generated from datasets/agent_credits.yaml; edit the spec, not this SQL.
CREATE TABLE reporting.agent_credits (
  loop_id BIGINT,
  profile_id BIGINT,
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
  agents_on_side INT,
  gci_credit NUMERIC,
  volume_credit NUMERIC,
  unit_credit NUMERIC,
  gci_rule TEXT
);

CREATE INDEX agent_credits_loop_id_idx ON reporting.agent_credits(loop_id);

CREATE INDEX agent_credits_agent_email_idx ON reporting.agent_credits(agent_email);

CREATE INDEX agent_credits_closing_date_idx ON reporting.agent_credits(closing_date);

COMMENT ON TABLE reporting.agent_credits IS 'One row per loop, represented side and agent working it: a LISTING_AGENT on the sell side; a BUYING_AGENT, or TENANT_AGENT on a lease, on the buy side. The agents of a side share its GCI, volume and unit equally. Agents are identified by e-mail (lower-cased); agents without one get no credit. Sum the credits over rows with is_closed for an agent''s production; company totals come from reporting.loop_sides, which also counts sides without an agent.';

COMMENT ON COLUMN reporting.agent_credits.loop_id IS 'The loop (reporting.loops.loop_id).';

COMMENT ON COLUMN reporting.agent_credits.profile_id IS 'The Dotloop profile the loop belongs to.';

COMMENT ON COLUMN reporting.agent_credits.loop_name IS 'The loop''s name, usually the property address.';

COMMENT ON COLUMN reporting.agent_credits.side IS 'The side the agent worked, ''buy'' or ''sell''.';

COMMENT ON COLUMN reporting.agent_credits.agent_email IS 'The agent''s e-mail address, lower-cased; identifies the agent.';

COMMENT ON COLUMN reporting.agent_credits.agent_name IS 'The agent''s name: the one on the most recently updated loop where this e-mail works a side (the e-mail when no loop has a name).';

COMMENT ON COLUMN reporting.agent_credits.agent_role IS 'The agent''s role in the loop: LISTING_AGENT, BUYING_AGENT or TENANT_AGENT.';

COMMENT ON COLUMN reporting.agent_credits.transaction_type IS 'The loop''s Dotloop transaction type.';

COMMENT ON COLUMN reporting.agent_credits.status IS 'The loop''s Dotloop status.';

COMMENT ON COLUMN reporting.agent_credits.is_closed IS 'True when the deal closed (SOLD, or LEASED for a lease).';

COMMENT ON COLUMN reporting.agent_credits.closing_date IS 'The deal''s closing date.';

COMMENT ON COLUMN reporting.agent_credits.closing_month IS 'First day of the month of closing_date.';

COMMENT ON COLUMN reporting.agent_credits.agents_on_side IS 'How many agents share this side.';

COMMENT ON COLUMN reporting.agent_credits.gci_credit IS 'The agent''s share of the side''s GCI (reporting.loop_sides.gci divided by agents_on_side, unrounded); NULL when the side''s GCI is unknown.';

COMMENT ON COLUMN reporting.agent_credits.volume_credit IS 'The agent''s share of the side''s volume.';

COMMENT ON COLUMN reporting.agent_credits.unit_credit IS 'The agent''s share of the side''s unit (0.5 for one of two agents).';

COMMENT ON COLUMN reporting.agent_credits.gci_rule IS 'The rule that gave the side''s GCI: ''split_amount'', ''split_percent'', ''total_commission'', or NULL when the GCI is unknown.';

INSERT INTO reporting.agent_credits
SELECT
  CAST(s.loop_id AS BIGINT) AS loop_id,
  CAST(s.profile_id AS BIGINT) AS profile_id,
  CAST(s.loop_name AS TEXT) AS loop_name,
  CAST(s.side AS TEXT) AS side,
  CAST(p.email AS TEXT) AS agent_email,
  CAST(COALESCE(
    FIRST_VALUE(p.full_name) OVER (
      PARTITION BY p.email
      ORDER BY p.full_name IS NULL, s.loop_updated DESC NULLS LAST, s.loop_id DESC
    ),
    p.email
  ) AS TEXT) AS agent_name,
  CAST(p.role AS TEXT) AS agent_role,
  CAST(s.transaction_type AS TEXT) AS transaction_type,
  CAST(s.status AS TEXT) AS status,
  CAST(s.is_closed AS BOOLEAN) AS is_closed,
  CAST(s.closing_date AS DATE) AS closing_date,
  CAST(s.closing_month AS DATE) AS closing_month,
  CAST(s.agent_count AS INT) AS agents_on_side,
  CAST(s.gci / s.agent_count AS NUMERIC) AS gci_credit,
  CAST(s.volume / s.agent_count AS NUMERIC) AS volume_credit,
  CAST(s.units / s.agent_count AS NUMERIC) AS unit_credit,
  CAST(s.gci_rule AS TEXT) AS gci_rule
FROM reporting.loop_sides AS s
JOIN reporting.loop_participants AS p
  ON p.loop_id = s.loop_id AND p.agent_side = s.side
WHERE
  NOT p.email IS NULL;
