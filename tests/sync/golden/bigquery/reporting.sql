-- The reporting schema of dotloop-reporter for bigquery, generated from datasets/*.yaml by sqlglot.
-- Fast tables are written with their columns and comments; fill them from the Postgres tables of the same names in reporting.
-- Left out: the parsing views (reporting_lib.*), which call Postgres parse functions and jsonb operators on the stored payloads.
-- Year to date runs to the current date: period_anchor() and its setting are Postgres's.
-- Left out: comments (bigquery has no COMMENT ON).
-- Left out: sync_freshness: reads the dotloop_raw schema, which stays in Postgres.
-- Left out: sync_runs: reads the dotloop_raw schema, which stays in Postgres.
-- Left out: agents: reads the brokerage configuration, which stays in Postgres.

CREATE TABLE reporting.loops (
  loop_id INT64,
  profile_id INT64,
  name STRING,
  transaction_type STRING,
  status STRING,
  is_lease BOOL,
  represented_side STRING,
  is_closed BOOL,
  created TIMESTAMP,
  updated TIMESTAMP,
  loop_url STRING,
  street_number STRING,
  street_name STRING,
  unit_number STRING,
  street_address STRING,
  city STRING,
  state STRING,
  postal_code STRING,
  county STRING,
  country STRING,
  mls_number STRING,
  price NUMERIC(38, 9),
  commission_rate NUMERIC(38, 9),
  commission_total NUMERIC(38, 9),
  buy_side_split_percent NUMERIC(38, 9),
  sell_side_split_percent NUMERIC(38, 9),
  buy_side_split_amount NUMERIC(38, 9),
  sell_side_split_amount NUMERIC(38, 9),
  buy_side_split_entered BOOL,
  sell_side_split_entered BOOL,
  earnest_money NUMERIC(38, 9),
  rent NUMERIC(38, 9),
  rent_commission NUMERIC(38, 9),
  price_missing BOOL,
  deal_commission NUMERIC(38, 9),
  contract_date DATE,
  closing_date DATE,
  closing_month DATE,
  closing_year INT64,
  listing_date DATE,
  original_price NUMERIC(38, 9),
  current_price NUMERIC(38, 9),
  referral_percent NUMERIC(38, 9),
  referral_source STRING,
  days_to_close INT64,
  days_on_market INT64,
  unparsed_fields JSONB
);

CREATE TABLE reporting.loop_participants (
  loop_id INT64,
  profile_id INT64,
  participant_order INT64,
  participant_id INT64,
  full_name STRING,
  email STRING,
  role STRING,
  agent_side STRING
);

CREATE TABLE reporting.loop_sides (
  loop_id INT64,
  profile_id INT64,
  office STRING,
  loop_name STRING,
  transaction_type STRING,
  status STRING,
  side STRING,
  agent_count INT64,
  is_dual_agency BOOL,
  is_closed BOOL,
  closing_date DATE,
  closing_month DATE,
  closing_year INT64,
  loop_updated TIMESTAMP,
  contract_date DATE,
  listing_date DATE,
  days_to_close INT64,
  days_on_market INT64,
  projected_close_month DATE,
  price NUMERIC(38, 9),
  deal_commission NUMERIC(38, 9),
  split_amount NUMERIC(38, 9),
  split_percent NUMERIC(38, 9),
  gci_rule STRING,
  gci NUMERIC(38, 9),
  referral_percent NUMERIC(38, 9),
  referral_fee NUMERIC(38, 9),
  adjusted_gci NUMERIC(38, 9),
  is_referral_only BOOL,
  volume NUMERIC(38, 9),
  units NUMERIC(38, 9),
  transactions INT64,
  agents_without_email STRING
);

CREATE TABLE reporting.agent_credits (
  loop_id INT64,
  profile_id INT64,
  office STRING,
  team STRING,
  loop_name STRING,
  side STRING,
  agent_email STRING,
  agent_name STRING,
  agent_role STRING,
  transaction_type STRING,
  status STRING,
  is_closed BOOL,
  closing_date DATE,
  closing_month DATE,
  closing_year INT64,
  projected_close_month DATE,
  days_to_close INT64,
  days_on_market INT64,
  agents_on_side INT64,
  gci_credit NUMERIC(38, 9),
  volume_credit NUMERIC(38, 9),
  unit_credit NUMERIC(38, 9),
  referral_fee_credit NUMERIC(38, 9),
  adjusted_gci_credit NUMERIC(38, 9),
  transactions INT64,
  gci_rule STRING,
  plan_name STRING,
  cap_year_start DATE,
  pre_cap_company_dollar NUMERIC(38, 9),
  company_dollar NUMERIC(38, 9),
  deal_fees NUMERIC(38, 9),
  agent_net NUMERIC(38, 9),
  name_on_loop STRING,
  loop_updated TIMESTAMP,
  plan_cap NUMERIC(38, 9)
);

CREATE TABLE reporting.daily_production (
  closing_date DATE,
  closing_month DATE,
  closing_year INT64,
  profile_id INT64,
  office STRING,
  side STRING,
  transaction_type STRING,
  sides INT64,
  units NUMERIC(38, 9),
  gci NUMERIC(38, 9),
  adjusted_gci NUMERIC(38, 9),
  volume NUMERIC(38, 9),
  transactions INT64,
  priced_volume NUMERIC(38, 9),
  priced_units NUMERIC(38, 9),
  days_to_close_total INT64,
  days_to_close_loops INT64,
  days_on_market_total INT64,
  days_on_market_loops INT64
);

CREATE TABLE reporting.data_quality (
  loop_id INT64,
  profile_id INT64,
  loop_name STRING,
  side STRING,
  metric STRING,
  problem STRING,
  reason STRING,
  value STRING
);

CREATE TABLE reporting.pipeline (
  projected_close_month DATE,
  office STRING,
  profile_id INT64,
  transaction_type STRING,
  loops INT64,
  sides NUMERIC(38, 9),
  projected_gci NUMERIC(38, 9),
  projected_adjusted_gci NUMERIC(38, 9),
  projected_volume NUMERIC(38, 9)
);

CREATE TABLE reporting.agent_monthly_production (
  closing_month DATE,
  closing_year INT64,
  agent_email STRING,
  agent_name STRING,
  team STRING,
  office STRING,
  profile_id INT64,
  transaction_type STRING,
  credits INT64,
  units NUMERIC(38, 9),
  list_units NUMERIC(38, 9),
  buy_units NUMERIC(38, 9),
  gci NUMERIC(38, 9),
  adjusted_gci NUMERIC(38, 9),
  volume NUMERIC(38, 9),
  transactions INT64,
  priced_volume NUMERIC(38, 9),
  priced_units NUMERIC(38, 9),
  days_to_close_total INT64,
  days_to_close_loops INT64,
  days_on_market_total INT64,
  days_on_market_loops INT64,
  company_dollar NUMERIC(38, 9),
  deal_fees NUMERIC(38, 9),
  agent_net NUMERIC(38, 9)
);

CREATE TABLE reporting.team_monthly_production (
  closing_month DATE,
  closing_year INT64,
  team STRING,
  units NUMERIC(38, 9),
  list_units NUMERIC(38, 9),
  buy_units NUMERIC(38, 9),
  gci NUMERIC(38, 9),
  adjusted_gci NUMERIC(38, 9),
  volume NUMERIC(38, 9),
  transactions INT64,
  priced_volume NUMERIC(38, 9),
  priced_units NUMERIC(38, 9),
  days_to_close_total INT64,
  days_to_close_loops INT64,
  days_on_market_total INT64,
  days_on_market_loops INT64,
  company_dollar NUMERIC(38, 9),
  deal_fees NUMERIC(38, 9),
  agent_net NUMERIC(38, 9)
);

CREATE TABLE reporting.agent_ytd_production (
  agent_email STRING,
  closing_year INT64,
  through_month DATE,
  units NUMERIC(38, 9),
  list_units NUMERIC(38, 9),
  buy_units NUMERIC(38, 9),
  gci NUMERIC(38, 9),
  adjusted_gci NUMERIC(38, 9),
  volume NUMERIC(38, 9),
  transactions INT64,
  priced_volume NUMERIC(38, 9),
  priced_units NUMERIC(38, 9),
  days_to_close_total INT64,
  days_to_close_loops INT64,
  days_on_market_total INT64,
  days_on_market_loops INT64,
  company_dollar NUMERIC(38, 9),
  deal_fees NUMERIC(38, 9),
  agent_net NUMERIC(38, 9)
);

CREATE OR REPLACE VIEW reporting.production_pieces AS
SELECT
  CAST('company' AS STRING) AS grain,
  CAST('' AS STRING) AS key,
  CAST(CASE WHEN d.closing_date >= p.ytd_start THEN 'ytd' ELSE 'prior' END AS STRING) AS period,
  CAST(p.period_anchor AS DATE) AS period_anchor,
  CAST(p.ytd_start AS DATE) AS ytd_start,
  CAST(p.prior_ytd_start AS DATE) AS prior_ytd_start,
  CAST(p.prior_ytd_end AS DATE) AS prior_ytd_end,
  CAST(d.units AS NUMERIC) AS units,
  CAST(CASE d.side WHEN 'sell' THEN d.units ELSE 0 END AS NUMERIC) AS list_units,
  CAST(CASE d.side WHEN 'buy' THEN d.units ELSE 0 END AS NUMERIC) AS buy_units,
  CAST(d.gci AS NUMERIC) AS gci,
  CAST(d.adjusted_gci AS NUMERIC) AS adjusted_gci,
  CAST(d.volume AS NUMERIC) AS volume,
  CAST(d.transactions AS INT64) AS transactions,
  CAST(d.priced_volume AS NUMERIC) AS priced_volume,
  CAST(d.priced_units AS NUMERIC) AS priced_units,
  CAST(d.days_to_close_total AS NUMERIC) AS days_to_close_total,
  CAST(d.days_to_close_loops AS NUMERIC) AS days_to_close_loops,
  CAST(d.days_on_market_total AS NUMERIC) AS days_on_market_total,
  CAST(d.days_on_market_loops AS NUMERIC) AS days_on_market_loops,
  CAST(NULL AS NUMERIC) AS company_dollar,
  CAST(NULL AS NUMERIC) AS deal_fees,
  CAST(NULL AS NUMERIC) AS agent_net
FROM reporting.daily_production AS d
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(TIMESTAMP_TRUNC(a.anchor, YEAR) AS DATE) AS ytd_start,
    CAST(TIMESTAMP_TRUNC(a.anchor, MONTH) AS DATE) AS ytd_month,
    CAST((
      TIMESTAMP_TRUNC(a.anchor, YEAR) - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_end,
    CAST(TIMESTAMP_TRUNC(a.anchor - INTERVAL '1' YEAR, MONTH) AS DATE) AS prior_month
  FROM (
    SELECT
      CURRENT_DATE AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  d.closing_date BETWEEN CAST((
    TIMESTAMP_TRUNC(CURRENT_DATE, YEAR) - INTERVAL '1' YEAR
  ) AS DATE) AND CURRENT_DATE
  AND (
    d.closing_date >= p.ytd_start OR d.closing_date <= p.prior_ytd_end
  )
UNION ALL
SELECT
  CAST('office' AS STRING) AS grain,
  CAST(d.office AS STRING) AS key,
  CAST(CASE WHEN d.closing_date >= p.ytd_start THEN 'ytd' ELSE 'prior' END AS STRING) AS period,
  CAST(p.period_anchor AS DATE) AS period_anchor,
  CAST(p.ytd_start AS DATE) AS ytd_start,
  CAST(p.prior_ytd_start AS DATE) AS prior_ytd_start,
  CAST(p.prior_ytd_end AS DATE) AS prior_ytd_end,
  CAST(d.units AS NUMERIC) AS units,
  CAST(CASE d.side WHEN 'sell' THEN d.units ELSE 0 END AS NUMERIC) AS list_units,
  CAST(CASE d.side WHEN 'buy' THEN d.units ELSE 0 END AS NUMERIC) AS buy_units,
  CAST(d.gci AS NUMERIC) AS gci,
  CAST(d.adjusted_gci AS NUMERIC) AS adjusted_gci,
  CAST(d.volume AS NUMERIC) AS volume,
  CAST(d.transactions AS INT64) AS transactions,
  CAST(d.priced_volume AS NUMERIC) AS priced_volume,
  CAST(d.priced_units AS NUMERIC) AS priced_units,
  CAST(d.days_to_close_total AS NUMERIC) AS days_to_close_total,
  CAST(d.days_to_close_loops AS NUMERIC) AS days_to_close_loops,
  CAST(d.days_on_market_total AS NUMERIC) AS days_on_market_total,
  CAST(d.days_on_market_loops AS NUMERIC) AS days_on_market_loops,
  CAST(NULL AS NUMERIC) AS company_dollar,
  CAST(NULL AS NUMERIC) AS deal_fees,
  CAST(NULL AS NUMERIC) AS agent_net
FROM reporting.daily_production AS d
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(TIMESTAMP_TRUNC(a.anchor, YEAR) AS DATE) AS ytd_start,
    CAST(TIMESTAMP_TRUNC(a.anchor, MONTH) AS DATE) AS ytd_month,
    CAST((
      TIMESTAMP_TRUNC(a.anchor, YEAR) - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_end,
    CAST(TIMESTAMP_TRUNC(a.anchor - INTERVAL '1' YEAR, MONTH) AS DATE) AS prior_month
  FROM (
    SELECT
      CURRENT_DATE AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  NOT d.office IS NULL
  AND d.closing_date BETWEEN CAST((
    TIMESTAMP_TRUNC(CURRENT_DATE, YEAR) - INTERVAL '1' YEAR
  ) AS DATE) AND CURRENT_DATE
  AND (
    d.closing_date >= p.ytd_start OR d.closing_date <= p.prior_ytd_end
  )
UNION ALL
SELECT
  CAST('team' AS STRING) AS grain,
  CAST(m.team AS STRING) AS key,
  CAST(CASE WHEN m.closing_month >= p.ytd_start THEN 'ytd' ELSE 'prior' END AS STRING) AS period,
  CAST(MIN(p.period_anchor) AS DATE) AS period_anchor,
  CAST(MIN(p.ytd_start) AS DATE) AS ytd_start,
  CAST(MIN(p.prior_ytd_start) AS DATE) AS prior_ytd_start,
  CAST(MIN(p.prior_ytd_end) AS DATE) AS prior_ytd_end,
  CAST(SUM(m.units) AS NUMERIC) AS units,
  CAST(SUM(m.list_units) AS NUMERIC) AS list_units,
  CAST(SUM(m.buy_units) AS NUMERIC) AS buy_units,
  CAST(SUM(m.gci) AS NUMERIC) AS gci,
  CAST(SUM(m.adjusted_gci) AS NUMERIC) AS adjusted_gci,
  CAST(SUM(m.volume) AS NUMERIC) AS volume,
  CAST(SUM(m.transactions) AS INT64) AS transactions,
  CAST(SUM(m.priced_volume) AS NUMERIC) AS priced_volume,
  CAST(SUM(m.priced_units) AS NUMERIC) AS priced_units,
  CAST(SUM(m.days_to_close_total) AS NUMERIC) AS days_to_close_total,
  CAST(SUM(m.days_to_close_loops) AS NUMERIC) AS days_to_close_loops,
  CAST(SUM(m.days_on_market_total) AS NUMERIC) AS days_on_market_total,
  CAST(SUM(m.days_on_market_loops) AS NUMERIC) AS days_on_market_loops,
  CAST(SUM(m.company_dollar) AS NUMERIC) AS company_dollar,
  CAST(SUM(m.deal_fees) AS NUMERIC) AS deal_fees,
  CAST(SUM(m.agent_net) AS NUMERIC) AS agent_net
FROM reporting.team_monthly_production AS m
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(TIMESTAMP_TRUNC(a.anchor, YEAR) AS DATE) AS ytd_start,
    CAST(TIMESTAMP_TRUNC(a.anchor, MONTH) AS DATE) AS ytd_month,
    CAST((
      TIMESTAMP_TRUNC(a.anchor, YEAR) - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_end,
    CAST(TIMESTAMP_TRUNC(a.anchor - INTERVAL '1' YEAR, MONTH) AS DATE) AS prior_month
  FROM (
    SELECT
      CURRENT_DATE AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  m.closing_month >= CAST((
    TIMESTAMP_TRUNC(CURRENT_DATE, YEAR) - INTERVAL '1' YEAR
  ) AS DATE)
  AND m.closing_month < CAST(TIMESTAMP_TRUNC(CURRENT_DATE, MONTH) AS DATE)
  AND (
    m.closing_month >= p.ytd_start OR m.closing_month < p.prior_month
  )
GROUP BY
  m.team,
  CASE WHEN m.closing_month >= p.ytd_start THEN 'ytd' ELSE 'prior' END
UNION ALL
SELECT
  CAST('team' AS STRING) AS grain,
  CAST(c.team AS STRING) AS key,
  CAST(CASE WHEN c.closing_date >= p.ytd_start THEN 'ytd' ELSE 'prior' END AS STRING) AS period,
  CAST(MIN(p.period_anchor) AS DATE) AS period_anchor,
  CAST(MIN(p.ytd_start) AS DATE) AS ytd_start,
  CAST(MIN(p.prior_ytd_start) AS DATE) AS prior_ytd_start,
  CAST(MIN(p.prior_ytd_end) AS DATE) AS prior_ytd_end,
  CAST(SUM(c.unit_credit) AS NUMERIC) AS units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'sell'), 0) AS NUMERIC) AS list_units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'buy'), 0) AS NUMERIC) AS buy_units,
  CAST(SUM(c.gci_credit) AS NUMERIC) AS gci,
  CAST(SUM(c.adjusted_gci_credit) AS NUMERIC) AS adjusted_gci,
  CAST(SUM(c.volume_credit) AS NUMERIC) AS volume,
  CAST(COUNT(DISTINCT c.loop_id) AS INT64) AS transactions,
  CAST(SUM(c.volume_credit) FILTER(WHERE
    c.unit_credit > 0) AS NUMERIC) AS priced_volume,
  CAST(SUM(c.unit_credit) FILTER(WHERE
    c.unit_credit > 0 AND NOT c.volume_credit IS NULL) AS NUMERIC) AS priced_units,
  CAST(SUM(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_to_close_total,
  CAST(COUNT(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_to_close_loops,
  CAST(SUM(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_on_market_total,
  CAST(COUNT(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_on_market_loops,
  CAST(SUM(c.company_dollar) AS NUMERIC) AS company_dollar,
  CAST(SUM(c.deal_fees) AS NUMERIC) AS deal_fees,
  CAST(SUM(c.agent_net) AS NUMERIC) AS agent_net
FROM reporting.agent_credits AS c
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(TIMESTAMP_TRUNC(a.anchor, YEAR) AS DATE) AS ytd_start,
    CAST(TIMESTAMP_TRUNC(a.anchor, MONTH) AS DATE) AS ytd_month,
    CAST((
      TIMESTAMP_TRUNC(a.anchor, YEAR) - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_end,
    CAST(TIMESTAMP_TRUNC(a.anchor - INTERVAL '1' YEAR, MONTH) AS DATE) AS prior_month
  FROM (
    SELECT
      CURRENT_DATE AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  c.is_closed
  AND NOT c.team IS NULL
  AND (
    c.closing_date BETWEEN CAST(TIMESTAMP_TRUNC(CURRENT_DATE, MONTH) AS DATE) AND CURRENT_DATE
    OR c.closing_date BETWEEN CAST(TIMESTAMP_TRUNC(CURRENT_DATE - INTERVAL '1' YEAR, MONTH) AS DATE) AND CAST((
      CURRENT_DATE - INTERVAL '1' YEAR
    ) AS DATE)
  )
GROUP BY
  c.team,
  CASE WHEN c.closing_date >= p.ytd_start THEN 'ytd' ELSE 'prior' END
UNION ALL
SELECT
  CAST('agent' AS STRING) AS grain,
  CAST(y.agent_email AS STRING) AS key,
  CAST(CASE WHEN y.through_month >= p.ytd_start THEN 'ytd' ELSE 'prior' END AS STRING) AS period,
  CAST(p.period_anchor AS DATE) AS period_anchor,
  CAST(p.ytd_start AS DATE) AS ytd_start,
  CAST(p.prior_ytd_start AS DATE) AS prior_ytd_start,
  CAST(p.prior_ytd_end AS DATE) AS prior_ytd_end,
  CAST(y.units AS NUMERIC) AS units,
  CAST(y.list_units AS NUMERIC) AS list_units,
  CAST(y.buy_units AS NUMERIC) AS buy_units,
  CAST(y.gci AS NUMERIC) AS gci,
  CAST(y.adjusted_gci AS NUMERIC) AS adjusted_gci,
  CAST(y.volume AS NUMERIC) AS volume,
  CAST(y.transactions AS INT64) AS transactions,
  CAST(y.priced_volume AS NUMERIC) AS priced_volume,
  CAST(y.priced_units AS NUMERIC) AS priced_units,
  CAST(y.days_to_close_total AS NUMERIC) AS days_to_close_total,
  CAST(y.days_to_close_loops AS NUMERIC) AS days_to_close_loops,
  CAST(y.days_on_market_total AS NUMERIC) AS days_on_market_total,
  CAST(y.days_on_market_loops AS NUMERIC) AS days_on_market_loops,
  CAST(y.company_dollar AS NUMERIC) AS company_dollar,
  CAST(y.deal_fees AS NUMERIC) AS deal_fees,
  CAST(y.agent_net AS NUMERIC) AS agent_net
FROM reporting.agent_ytd_production AS y
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(TIMESTAMP_TRUNC(a.anchor, YEAR) AS DATE) AS ytd_start,
    CAST(TIMESTAMP_TRUNC(a.anchor, MONTH) AS DATE) AS ytd_month,
    CAST((
      TIMESTAMP_TRUNC(a.anchor, YEAR) - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_end,
    CAST(TIMESTAMP_TRUNC(a.anchor - INTERVAL '1' YEAR, MONTH) AS DATE) AS prior_month
  FROM (
    SELECT
      CURRENT_DATE AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  y.through_month IN (
    CAST((
      TIMESTAMP_TRUNC(CURRENT_DATE, MONTH) - INTERVAL '1' MONTH
    ) AS DATE),
    CAST((
      TIMESTAMP_TRUNC(CURRENT_DATE - INTERVAL '1' YEAR, MONTH) - INTERVAL '1' MONTH
    ) AS DATE)
  )
  AND y.through_month >= CAST((
    TIMESTAMP_TRUNC(CURRENT_DATE, YEAR) - INTERVAL '1' YEAR
  ) AS DATE)
  AND (
    y.through_month >= p.ytd_start OR y.through_month < p.prior_month
  )
UNION ALL
SELECT
  CAST('agent' AS STRING) AS grain,
  CAST(c.agent_email AS STRING) AS key,
  CAST(CASE WHEN c.closing_date >= p.ytd_start THEN 'ytd' ELSE 'prior' END AS STRING) AS period,
  CAST(MIN(p.period_anchor) AS DATE) AS period_anchor,
  CAST(MIN(p.ytd_start) AS DATE) AS ytd_start,
  CAST(MIN(p.prior_ytd_start) AS DATE) AS prior_ytd_start,
  CAST(MIN(p.prior_ytd_end) AS DATE) AS prior_ytd_end,
  CAST(SUM(c.unit_credit) AS NUMERIC) AS units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'sell'), 0) AS NUMERIC) AS list_units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'buy'), 0) AS NUMERIC) AS buy_units,
  CAST(SUM(c.gci_credit) AS NUMERIC) AS gci,
  CAST(SUM(c.adjusted_gci_credit) AS NUMERIC) AS adjusted_gci,
  CAST(SUM(c.volume_credit) AS NUMERIC) AS volume,
  CAST(SUM(c.transactions) AS INT64) AS transactions,
  CAST(SUM(c.volume_credit) FILTER(WHERE
    c.unit_credit > 0) AS NUMERIC) AS priced_volume,
  CAST(SUM(c.unit_credit) FILTER(WHERE
    c.unit_credit > 0 AND NOT c.volume_credit IS NULL) AS NUMERIC) AS priced_units,
  CAST(SUM(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_to_close_total,
  CAST(COUNT(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_to_close_loops,
  CAST(SUM(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_on_market_total,
  CAST(COUNT(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS NUMERIC) AS days_on_market_loops,
  CAST(SUM(c.company_dollar) AS NUMERIC) AS company_dollar,
  CAST(SUM(c.deal_fees) AS NUMERIC) AS deal_fees,
  CAST(SUM(c.agent_net) AS NUMERIC) AS agent_net
FROM reporting.agent_credits AS c
CROSS JOIN (
  SELECT
    a.anchor AS period_anchor,
    CAST(TIMESTAMP_TRUNC(a.anchor, YEAR) AS DATE) AS ytd_start,
    CAST(TIMESTAMP_TRUNC(a.anchor, MONTH) AS DATE) AS ytd_month,
    CAST((
      TIMESTAMP_TRUNC(a.anchor, YEAR) - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_start,
    CAST((
      a.anchor - INTERVAL '1' YEAR
    ) AS DATE) AS prior_ytd_end,
    CAST(TIMESTAMP_TRUNC(a.anchor - INTERVAL '1' YEAR, MONTH) AS DATE) AS prior_month
  FROM (
    SELECT
      CURRENT_DATE AS anchor
  ) AS a
  OFFSET 0
) AS p
WHERE
  c.is_closed
  AND (
    c.closing_date BETWEEN CAST(TIMESTAMP_TRUNC(CURRENT_DATE, MONTH) AS DATE) AND CURRENT_DATE
    OR c.closing_date BETWEEN CAST(TIMESTAMP_TRUNC(CURRENT_DATE - INTERVAL '1' YEAR, MONTH) AS DATE) AND CAST((
      CURRENT_DATE - INTERVAL '1' YEAR
    ) AS DATE)
  )
GROUP BY
  c.agent_email,
  CASE WHEN c.closing_date >= p.ytd_start THEN 'ytd' ELSE 'prior' END;

CREATE OR REPLACE VIEW reporting.production_summary AS
SELECT
  CAST(f.grain AS STRING) AS grain,
  CAST(f.key AS STRING) AS key,
  CAST(MIN(f.period_anchor) AS DATE) AS period_anchor,
  CAST(MIN(f.ytd_start) AS DATE) AS ytd_start,
  CAST(MIN(f.prior_ytd_start) AS DATE) AS prior_ytd_start,
  CAST(MIN(f.prior_ytd_end) AS DATE) AS prior_ytd_end,
  CAST(COALESCE(SUM(f.gci) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_gci,
  CAST(COALESCE(SUM(f.gci) FILTER(WHERE
    f.period = 'prior'), 0) AS NUMERIC) AS prior_ytd_gci,
  CAST((
    CAST(COALESCE(SUM(f.gci) FILTER(WHERE
      f.period = 'ytd'), 0) AS NUMERIC)
  ) - (
    CAST(COALESCE(SUM(f.gci) FILTER(WHERE
      f.period = 'prior'), 0) AS NUMERIC)
  ) AS NUMERIC) AS yoy_gci_change,
  CAST((
    (
      CAST(COALESCE(SUM(f.gci) FILTER(WHERE
        f.period = 'ytd'), 0) AS NUMERIC)
    ) - (
      CAST(COALESCE(SUM(f.gci) FILTER(WHERE
        f.period = 'prior'), 0) AS NUMERIC)
    )
  ) / NULLIF(
    (
      CAST(COALESCE(SUM(f.gci) FILTER(WHERE
        f.period = 'prior'), 0) AS NUMERIC)
    ),
    0
  ) AS NUMERIC) AS yoy_gci_change_pct,
  CAST(COALESCE(SUM(f.adjusted_gci) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_adjusted_gci,
  CAST(COALESCE(SUM(f.adjusted_gci) FILTER(WHERE
    f.period = 'prior'), 0) AS NUMERIC) AS prior_ytd_adjusted_gci,
  CAST(COALESCE(SUM(f.volume) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_volume,
  CAST(COALESCE(SUM(f.volume) FILTER(WHERE
    f.period = 'prior'), 0) AS NUMERIC) AS prior_ytd_volume,
  CAST(COALESCE(SUM(f.units) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_units,
  CAST(COALESCE(SUM(f.units) FILTER(WHERE
    f.period = 'prior'), 0) AS NUMERIC) AS prior_ytd_units,
  CAST(COALESCE(SUM(f.list_units) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_list_sides,
  CAST(COALESCE(SUM(f.buy_units) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_buy_sides,
  CAST(COALESCE(SUM(f.transactions) FILTER(WHERE
    f.period = 'ytd'), 0) AS INT64) AS ytd_transactions,
  CAST(COALESCE(SUM(f.transactions) FILTER(WHERE
    f.period = 'prior'), 0) AS INT64) AS prior_ytd_transactions,
  CAST(SUM(f.priced_volume) FILTER(WHERE
    f.period = 'ytd') / NULLIF(SUM(f.priced_units) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_average_price,
  CAST((
    CAST(COALESCE(SUM(f.gci) FILTER(WHERE
      f.period = 'ytd'), 0) AS NUMERIC)
  ) / NULLIF(
    (
      CAST(COALESCE(SUM(f.units) FILTER(WHERE
        f.period = 'ytd'), 0) AS NUMERIC)
    ),
    0
  ) AS NUMERIC) AS ytd_average_commission,
  CAST(SUM(f.days_to_close_total) FILTER(WHERE
    f.period = 'ytd') / NULLIF(SUM(f.days_to_close_loops) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_average_days_to_close,
  CAST(SUM(f.days_on_market_total) FILTER(WHERE
    f.period = 'ytd') / NULLIF(SUM(f.days_on_market_loops) FILTER(WHERE
    f.period = 'ytd'), 0) AS NUMERIC) AS ytd_average_days_on_market,
  CAST(SUM(f.company_dollar) FILTER(WHERE
    f.period = 'ytd') AS NUMERIC) AS ytd_company_dollar,
  CAST(SUM(f.deal_fees) FILTER(WHERE
    f.period = 'ytd') AS NUMERIC) AS ytd_deal_fees,
  CAST(SUM(f.agent_net) FILTER(WHERE
    f.period = 'ytd') AS NUMERIC) AS ytd_agent_net
FROM reporting.production_pieces AS f
GROUP BY
  f.grain,
  f.key;
