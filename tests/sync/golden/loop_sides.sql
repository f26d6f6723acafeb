-- reporting.loop_sides: generated from datasets/loop_sides.yaml; edit the spec, not this SQL.
CREATE TABLE reporting.loop_sides (
  loop_id BIGINT,
  profile_id BIGINT,
  loop_name TEXT,
  transaction_type TEXT,
  status TEXT,
  side TEXT,
  is_dual_agency BOOLEAN,
  is_closed BOOLEAN,
  closing_date DATE,
  closing_month DATE,
  loop_updated TIMESTAMPTZ,
  price NUMERIC,
  deal_commission NUMERIC,
  split_amount NUMERIC,
  split_percent NUMERIC,
  gci_rule TEXT,
  gci NUMERIC,
  is_referral_only BOOLEAN,
  volume NUMERIC,
  units NUMERIC,
  agent_count INT,
  agents_without_email TEXT
);

CREATE INDEX loop_sides_loop_id_idx ON reporting.loop_sides(loop_id);

CREATE INDEX loop_sides_closing_month_idx ON reporting.loop_sides(closing_month);

CREATE INDEX loop_sides_closing_date_idx ON reporting.loop_sides(closing_date);

COMMENT ON TABLE reporting.loop_sides IS 'One row per loop and represented side (''buy'' or ''sell''). Purchase and lease offers are the buy side, listings the sell side; a loop with both a listing and a buying agent and both sides'' commission split filled counts both sides (dual agency). Sum gci, volume and units over rows with is_closed, by closing_month, for production; company totals come from this view, never from summing agent credits.';

COMMENT ON COLUMN reporting.loop_sides.loop_id IS 'The loop (reporting.loops.loop_id).';

COMMENT ON COLUMN reporting.loop_sides.profile_id IS 'The Dotloop profile the loop belongs to.';

COMMENT ON COLUMN reporting.loop_sides.loop_name IS 'The loop''s name, usually the property address.';

COMMENT ON COLUMN reporting.loop_sides.transaction_type IS 'The loop''s Dotloop transaction type.';

COMMENT ON COLUMN reporting.loop_sides.status IS 'The loop''s Dotloop status.';

COMMENT ON COLUMN reporting.loop_sides.side IS 'The represented side, ''buy'' or ''sell''.';

COMMENT ON COLUMN reporting.loop_sides.is_dual_agency IS 'True when the loop counts both sides: it has a LISTING_AGENT and a BUYING_AGENT (or, on a lease, TENANT_AGENT) and the commission split of both sides is filled.';

COMMENT ON COLUMN reporting.loop_sides.is_closed IS 'True when the deal closed (SOLD, or LEASED for a lease).';

COMMENT ON COLUMN reporting.loop_sides.closing_date IS 'The deal''s closing date; a closed side without one is in no period and is listed in reporting.data_quality.';

COMMENT ON COLUMN reporting.loop_sides.closing_month IS 'First day of the month of closing_date.';

COMMENT ON COLUMN reporting.loop_sides.loop_updated IS 'When the loop last changed in Dotloop.';

COMMENT ON COLUMN reporting.loop_sides.price IS 'The deal''s Purchase/Sale Price.';

COMMENT ON COLUMN reporting.loop_sides.deal_commission IS 'The deal''s total commission before the split between the sides (see reporting.loops.deal_commission).';

COMMENT ON COLUMN reporting.loop_sides.split_amount IS 'This side''s Sale Commission Split $.';

COMMENT ON COLUMN reporting.loop_sides.split_percent IS 'This side''s Sale Commission Split % as a fraction.';

COMMENT ON COLUMN reporting.loop_sides.gci_rule IS 'Which rule gave the GCI, the first that yields a value: ''split_amount'' (this side''s Sale Commission Split $), ''split_percent'' (deal_commission x this side''s Split %), ''total_commission'' (a single-side loop with no split filled gets the whole deal_commission); NULL when none applies and gci is unknown.';

COMMENT ON COLUMN reporting.loop_sides.gci IS 'Gross commission income of this side, by gci_rule; NULL when it cannot be derived (listed in reporting.data_quality for closed and under-contract sides). Set for open sides too, as the pipeline''s expected GCI: filter is_closed for production.';

COMMENT ON COLUMN reporting.loop_sides.is_referral_only IS 'True for a referral: a commission with no deal price (missing or 0). It adds GCI but no volume and no unit.';

COMMENT ON COLUMN reporting.loop_sides.volume IS 'The side''s sales volume: the Purchase/Sale Price; for a lease without a price, the Rent as entered (one rent payment, not the lease''s total); 0 for a referral; NULL when the price is missing or unreadable. Filter is_closed for closed volume.';

COMMENT ON COLUMN reporting.loop_sides.units IS 'The side counted as a unit: 1, or 0 for a referral. Filter is_closed for closed units.';

COMMENT ON COLUMN reporting.loop_sides.agent_count IS 'How many agents with an e-mail work this side (LISTING_AGENTs on the sell side; BUYING_AGENTs, or TENANT_AGENTs on a lease, on the buy side); they share its GCI, volume and unit equally in reporting.agent_credits.';

COMMENT ON COLUMN reporting.loop_sides.agents_without_email IS 'Names of this side''s agents who have no e-mail and so get no credit, comma-separated; NULL when there are none.';

INSERT INTO reporting.loop_sides
SELECT
  CAST(l.loop_id AS BIGINT) AS loop_id,
  CAST(l.profile_id AS BIGINT) AS profile_id,
  CAST(l.name AS TEXT) AS loop_name,
  CAST(l.transaction_type AS TEXT) AS transaction_type,
  CAST(l.status AS TEXT) AS status,
  CAST(s.side AS TEXT) AS side,
  _c0.is_dual_agency AS is_dual_agency,
  CAST(l.is_closed AS BOOLEAN) AS is_closed,
  CAST(l.closing_date AS DATE) AS closing_date,
  CAST(l.closing_month AS DATE) AS closing_month,
  CAST(l.updated AS TIMESTAMPTZ) AS loop_updated,
  CAST(l.price AS NUMERIC) AS price,
  CAST(l.deal_commission AS NUMERIC) AS deal_commission,
  _c0.split_amount AS split_amount,
  _c0.split_percent AS split_percent,
  _c1.gci_rule AS gci_rule,
  _c2.gci AS gci,
  _c3.is_referral_only AS is_referral_only,
  CAST(CASE
    WHEN _c3.is_referral_only
    THEN 0
    ELSE COALESCE(l.price, CASE WHEN l.is_lease THEN l.rent END)
  END AS NUMERIC) AS volume,
  CAST(CASE WHEN _c3.is_referral_only THEN 0 ELSE 1 END AS NUMERIC) AS units,
  CAST(CASE s.side WHEN 'buy' THEN a.buy_credited ELSE a.sell_credited END AS INT) AS agent_count,
  CAST(CASE s.side WHEN 'buy' THEN a.buy_uncredited ELSE a.sell_uncredited END AS TEXT) AS agents_without_email
FROM reporting.loops AS l
CROSS JOIN LATERAL (
  SELECT
    COUNT(*) FILTER(WHERE
      p.agent_side = 'buy') AS buy_agents,
    COUNT(*) FILTER(WHERE
      p.agent_side = 'sell') AS sell_agents,
    COUNT(*) FILTER(WHERE
      p.agent_side = 'buy' AND NOT p.email IS NULL) AS buy_credited,
    COUNT(*) FILTER(WHERE
      p.agent_side = 'sell' AND NOT p.email IS NULL) AS sell_credited,
    STRING_AGG(COALESCE(p.full_name, '(no name)'), ', '
    ORDER BY
      p.participant_order) FILTER(WHERE
      p.agent_side = 'buy' AND p.email IS NULL) AS buy_uncredited,
    STRING_AGG(COALESCE(p.full_name, '(no name)'), ', '
    ORDER BY
      p.participant_order) FILTER(WHERE
      p.agent_side = 'sell' AND p.email IS NULL) AS sell_uncredited
  FROM reporting.loop_participants AS p
  WHERE
    p.loop_id = l.loop_id
) AS a
CROSS JOIN LATERAL (
  VALUES
    ('buy'),
    ('sell')
) AS s(side)
CROSS JOIN LATERAL (
  SELECT
    CAST(NOT l.represented_side IS NULL
    AND a.buy_agents > 0
    AND a.sell_agents > 0
    AND l.buy_side_split_entered
    AND l.sell_side_split_entered AS BOOLEAN) AS is_dual_agency,
    CAST(CASE s.side
      WHEN 'buy'
      THEN l.buy_side_split_amount
      ELSE l.sell_side_split_amount
    END AS NUMERIC) AS split_amount,
    CAST(CASE s.side
      WHEN 'buy'
      THEN l.buy_side_split_percent
      ELSE l.sell_side_split_percent
    END AS NUMERIC) AS split_percent
  OFFSET 0
) AS _c0
CROSS JOIN LATERAL (
  SELECT
    CAST(CASE
      WHEN NOT _c0.split_amount IS NULL
      THEN 'split_amount'
      WHEN NOT _c0.split_percent IS NULL AND NOT l.deal_commission IS NULL
      THEN 'split_percent'
      WHEN NOT _c0.is_dual_agency
      AND NOT l.buy_side_split_entered
      AND NOT l.sell_side_split_entered
      AND NOT l.deal_commission IS NULL
      THEN 'total_commission'
    END AS TEXT) AS gci_rule
  OFFSET 0
) AS _c1
CROSS JOIN LATERAL (
  SELECT
    CAST(CASE _c1.gci_rule
      WHEN 'split_amount'
      THEN _c0.split_amount
      WHEN 'split_percent'
      THEN l.deal_commission * _c0.split_percent
      WHEN 'total_commission'
      THEN l.deal_commission
    END AS NUMERIC) AS gci
  OFFSET 0
) AS _c2
CROSS JOIN LATERAL (
  SELECT
    CAST(NOT _c2.gci IS NULL AND l.price_missing AS BOOLEAN) AS is_referral_only
  OFFSET 0
) AS _c3
WHERE
  s.side = l.represented_side OR _c0.is_dual_agency;
