-- reporting.loop_sides: generated from datasets/loop_sides.yaml; edit the spec, not this SQL.
CREATE TABLE reporting.loop_sides (
  loop_id BIGINT,
  profile_id BIGINT,
  office TEXT,
  loop_name TEXT,
  transaction_type TEXT,
  status TEXT,
  side TEXT,
  agent_count INT,
  is_dual_agency BOOLEAN,
  is_closed BOOLEAN,
  closing_date DATE,
  closing_month DATE,
  closing_year INT,
  loop_updated TIMESTAMPTZ,
  contract_date DATE,
  listing_date DATE,
  days_to_close INT,
  days_on_market INT,
  projected_close_month DATE,
  price NUMERIC,
  deal_commission NUMERIC,
  split_amount NUMERIC,
  split_percent NUMERIC,
  gci_rule TEXT,
  gci NUMERIC,
  referral_percent NUMERIC,
  referral_fee NUMERIC,
  adjusted_gci NUMERIC,
  is_referral_only BOOLEAN,
  volume NUMERIC,
  units NUMERIC,
  transactions INT,
  agents_without_email TEXT
);

CREATE INDEX loop_sides_loop_id_idx ON reporting.loop_sides(loop_id);

CREATE INDEX loop_sides_closing_month_idx ON reporting.loop_sides(closing_month);

CREATE INDEX loop_sides_closing_date_idx ON reporting.loop_sides(closing_date);

CREATE INDEX loop_sides_projected_close_month_idx ON reporting.loop_sides(projected_close_month);

COMMENT ON TABLE reporting.loop_sides IS 'One row per loop and represented side (''buy'' or ''sell''). Purchase and lease offers are the buy side, listings the sell side; a loop with both a listing and a buying agent and both sides'' commission split filled counts both sides (dual agency). Once a roster of the brokerage''s own agents is loaded (reporting_config.agent), a side counts only when one of them works it: the side of a cooperating agent from another brokerage is left out and listed in reporting.data_quality. Sum gci, volume and units over rows with is_closed, by closing_month, for production; company and office totals come from this view, never from summing agent credits.';

COMMENT ON COLUMN reporting.loop_sides.loop_id IS 'The loop (reporting.loops.loop_id).';

COMMENT ON COLUMN reporting.loop_sides.profile_id IS 'The Dotloop profile the loop belongs to.';

COMMENT ON COLUMN reporting.loop_sides.office IS 'The office of the side: the office whose Dotloop profiles include the loop''s profile (reporting_config.office_profile); NULL when no office has it.';

COMMENT ON COLUMN reporting.loop_sides.loop_name IS 'The loop''s name, usually the property address.';

COMMENT ON COLUMN reporting.loop_sides.transaction_type IS 'The loop''s Dotloop transaction type.';

COMMENT ON COLUMN reporting.loop_sides.status IS 'The loop''s Dotloop status.';

COMMENT ON COLUMN reporting.loop_sides.side IS 'The represented side, ''buy'' or ''sell''.';

COMMENT ON COLUMN reporting.loop_sides.agent_count IS 'How many agents share this side''s GCI, volume and unit equally in reporting.agent_credits: the side''s agents with an e-mail (LISTING_AGENTs on the sell side; BUYING_AGENTs, or TENANT_AGENTs on a lease, on the buy side) or, once a roster is loaded, those of them on the roster; an e-mail listed twice on the side counts once.';

COMMENT ON COLUMN reporting.loop_sides.is_dual_agency IS 'True when the loop counts both sides: it has a LISTING_AGENT and a BUYING_AGENT (or, on a lease, TENANT_AGENT), the commission split of both sides is filled and, once a roster is loaded, both sides have an agent on it. With a roster, a side only an agent of another brokerage works does not count, whichever side the transaction type represents.';

COMMENT ON COLUMN reporting.loop_sides.is_closed IS 'True when the deal closed (SOLD, or LEASED for a lease).';

COMMENT ON COLUMN reporting.loop_sides.closing_date IS 'The deal''s closing date; a closed side without one is in no period and is listed in reporting.data_quality.';

COMMENT ON COLUMN reporting.loop_sides.closing_month IS 'First day of the month of closing_date.';

COMMENT ON COLUMN reporting.loop_sides.closing_year IS 'The year of closing_date.';

COMMENT ON COLUMN reporting.loop_sides.loop_updated IS 'When the loop last changed in Dotloop.';

COMMENT ON COLUMN reporting.loop_sides.contract_date IS 'Contract Dates / Contract Agreement Date of the loop.';

COMMENT ON COLUMN reporting.loop_sides.listing_date IS 'Listing Information / Listing Date of the loop.';

COMMENT ON COLUMN reporting.loop_sides.days_to_close IS 'Days from the Contract Agreement Date to the Closing Date, a figure of the loop: average it over distinct loops (rows with transactions = 1).';

COMMENT ON COLUMN reporting.loop_sides.days_on_market IS 'Days from the Listing Date to the Contract Agreement Date, a figure of the loop: average it over distinct loops (rows with transactions = 1).';

COMMENT ON COLUMN reporting.loop_sides.projected_close_month IS 'For the pipeline: the month of the Closing Date of an UNDER_CONTRACT loop, when it is expected to close; NULL for every other status and when the date is missing (then listed in reporting.data_quality).';

COMMENT ON COLUMN reporting.loop_sides.price IS 'The deal''s Purchase/Sale Price.';

COMMENT ON COLUMN reporting.loop_sides.deal_commission IS 'The deal''s total commission before the split between the sides (see reporting.loops.deal_commission).';

COMMENT ON COLUMN reporting.loop_sides.split_amount IS 'This side''s Sale Commission Split $.';

COMMENT ON COLUMN reporting.loop_sides.split_percent IS 'This side''s Sale Commission Split % as a fraction.';

COMMENT ON COLUMN reporting.loop_sides.gci_rule IS 'Which rule gave the GCI, the first that yields a value: ''split_amount'' (this side''s Sale Commission Split $), ''split_percent'' (deal_commission x this side''s Split %), ''total_commission'' (a single-side loop with no split filled gets the whole deal_commission); NULL when none applies and gci is unknown.';

COMMENT ON COLUMN reporting.loop_sides.gci IS 'Gross commission income of this side, by gci_rule; NULL when it cannot be derived (listed in reporting.data_quality for closed and under-contract sides). Set for open sides too, as the pipeline''s expected GCI: filter is_closed for production.';

COMMENT ON COLUMN reporting.loop_sides.referral_percent IS 'Referral / Referral % of the loop as a fraction (0.25 = 25%): the outbound referral fee''s share of the GCI.';

COMMENT ON COLUMN reporting.loop_sides.referral_fee IS 'The outbound referral fee of this side: gci x referral_percent, 0 when Referral % is empty; NULL when the GCI is unknown or Referral % holds something unreadable (listed in reporting.data_quality).';

COMMENT ON COLUMN reporting.loop_sides.adjusted_gci IS 'GCI after the outbound referral fee (gci - referral_fee): what the brokerage and its agents share.';

COMMENT ON COLUMN reporting.loop_sides.is_referral_only IS 'True for a referral: a commission with no deal price (missing or 0). It adds GCI but no volume and no unit.';

COMMENT ON COLUMN reporting.loop_sides.volume IS 'The side''s sales volume: the Purchase/Sale Price; for a lease without a price, the Rent as entered (one rent payment, not the lease''s total); 0 for a referral; NULL when the price is missing or unreadable. Filter is_closed for closed volume.';

COMMENT ON COLUMN reporting.loop_sides.units IS 'The side counted as a unit: 1, or 0 for a referral. Filter is_closed for closed units; side = ''sell'' gives list sides, ''buy'' buy sides. Average price per side is sum(volume) / sum(units) over closed sides with a volume and a unit; average commission per side sum(gci) / sum(units).';

COMMENT ON COLUMN reporting.loop_sides.transactions IS '1 on one represented side of each loop (the sell side when both count), 0 on the other: sum it over closed sides for transactions, the distinct closed loops (a dual-agency deal is two units but one transaction).';

COMMENT ON COLUMN reporting.loop_sides.agents_without_email IS 'Names of this side''s agents who have no e-mail and so get no credit, comma-separated; NULL when there are none.';

INSERT INTO reporting.loop_sides
SELECT
  CAST(l.loop_id AS BIGINT) AS loop_id,
  CAST(l.profile_id AS BIGINT) AS profile_id,
  CAST(o.office AS TEXT) AS office,
  CAST(l.name AS TEXT) AS loop_name,
  CAST(l.transaction_type AS TEXT) AS transaction_type,
  CAST(l.status AS TEXT) AS status,
  CAST(s.side AS TEXT) AS side,
  _c0.agent_count AS agent_count,
  _c0.is_dual_agency AS is_dual_agency,
  CAST(l.is_closed AS BOOLEAN) AS is_closed,
  CAST(l.closing_date AS DATE) AS closing_date,
  CAST(l.closing_month AS DATE) AS closing_month,
  CAST(l.closing_year AS INT) AS closing_year,
  CAST(l.updated AS TIMESTAMPTZ) AS loop_updated,
  CAST(l.contract_date AS DATE) AS contract_date,
  CAST(l.listing_date AS DATE) AS listing_date,
  CAST(l.days_to_close AS INT) AS days_to_close,
  CAST(l.days_on_market AS INT) AS days_on_market,
  CAST(CASE WHEN l.status = 'UNDER_CONTRACT' THEN l.closing_month END AS DATE) AS projected_close_month,
  CAST(l.price AS NUMERIC) AS price,
  CAST(l.deal_commission AS NUMERIC) AS deal_commission,
  _c0.split_amount AS split_amount,
  _c0.split_percent AS split_percent,
  _c1.gci_rule AS gci_rule,
  _c2.gci AS gci,
  CAST(l.referral_percent AS NUMERIC) AS referral_percent,
  _c3.referral_fee AS referral_fee,
  CAST(_c2.gci - _c3.referral_fee AS NUMERIC) AS adjusted_gci,
  _c3.is_referral_only AS is_referral_only,
  CAST(CASE
    WHEN _c3.is_referral_only
    THEN 0
    ELSE COALESCE(l.price, CASE WHEN l.is_lease THEN l.rent END)
  END AS NUMERIC) AS volume,
  CAST(CASE WHEN _c3.is_referral_only THEN 0 ELSE 1 END AS NUMERIC) AS units,
  CAST(CASE WHEN s.side = 'sell' OR NOT _c0.is_dual_agency THEN 1 ELSE 0 END AS INT) AS transactions,
  CAST(CASE s.side WHEN 'buy' THEN a.buy_uncredited ELSE a.sell_uncredited END AS TEXT) AS agents_without_email
FROM reporting.loops AS l
LEFT JOIN reporting_config.office_profile AS o
  ON o.profile_id = l.profile_id
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
    COUNT(DISTINCT p.email) FILTER(WHERE
      p.agent_side = 'buy') AS buy_credited,
    COUNT(DISTINCT p.email) FILTER(WHERE
      p.agent_side = 'sell') AS sell_credited,
    COUNT(DISTINCT r.email) FILTER(WHERE
      p.agent_side = 'buy') AS buy_roster,
    COUNT(DISTINCT r.email) FILTER(WHERE
      p.agent_side = 'sell') AS sell_roster,
    STRING_AGG(COALESCE(p.full_name, '(no name)'), ', '
    ORDER BY
      p.participant_order) FILTER(WHERE
      p.agent_side = 'buy' AND p.email IS NULL) AS buy_uncredited,
    STRING_AGG(COALESCE(p.full_name, '(no name)'), ', '
    ORDER BY
      p.participant_order) FILTER(WHERE
      p.agent_side = 'sell' AND p.email IS NULL) AS sell_uncredited
  FROM reporting.loop_participants AS p
  LEFT JOIN reporting_config.agent AS r
    ON r.email = p.email
  WHERE
    p.loop_id = l.loop_id
) AS a
CROSS JOIN LATERAL (
  SELECT
    NOT l.represented_side IS NULL
    AND a.buy_agents > 0
    AND a.sell_agents > 0
    AND l.buy_side_split_entered
    AND l.sell_side_split_entered AS both_sides
) AS d
CROSS JOIN LATERAL (
  VALUES
    ('buy'),
    ('sell')
) AS s(side)
CROSS JOIN LATERAL (
  SELECT
    CAST(CASE
      WHEN roster.loaded
      THEN CASE s.side WHEN 'buy' THEN a.buy_roster ELSE a.sell_roster END
      ELSE CASE s.side WHEN 'buy' THEN a.buy_credited ELSE a.sell_credited END
    END AS INT) AS agent_count,
    CAST(d.both_sides
    AND (
      NOT roster.loaded OR (
        a.buy_roster > 0 AND a.sell_roster > 0
      )
    ) AS BOOLEAN) AS is_dual_agency,
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
    CAST(CASE
      WHEN (
        l.unparsed_fields -> 'referral_percent'
      ) IS NULL
      THEN _c2.gci * COALESCE(l.referral_percent, 0)
    END AS NUMERIC) AS referral_fee,
    CAST(NOT _c2.gci IS NULL AND l.price_missing AS BOOLEAN) AS is_referral_only
  OFFSET 0
) AS _c3
WHERE
  (
    s.side = l.represented_side OR d.both_sides
  )
  AND (
    NOT roster.loaded OR _c0.agent_count > 0
  );
