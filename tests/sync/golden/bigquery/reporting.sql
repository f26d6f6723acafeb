-- The reporting schema of dotloop-reporter for bigquery, generated from datasets/*.yaml by sqlglot.
-- Fast tables are written with their columns and comments; fill them from the Postgres tables of the same names in reporting.
-- Left out: the parsing views (reporting_lib.*), which call Postgres parse functions and jsonb operators on the stored payloads.
-- Left out: comments (bigquery has no COMMENT ON).
-- Left out: sync_freshness: calls reporting_lib.parse_text (Postgres only).
-- Left out: data_quality: calls jsonb_each (Postgres only).

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
  loop_name STRING,
  transaction_type STRING,
  status STRING,
  side STRING,
  is_dual_agency BOOL,
  is_closed BOOL,
  closing_date DATE,
  closing_month DATE,
  loop_updated TIMESTAMP,
  price NUMERIC(38, 9),
  deal_commission NUMERIC(38, 9),
  split_amount NUMERIC(38, 9),
  split_percent NUMERIC(38, 9),
  gci_rule STRING,
  gci NUMERIC(38, 9),
  is_referral_only BOOL,
  volume NUMERIC(38, 9),
  units NUMERIC(38, 9),
  agent_count INT64,
  agents_without_email STRING
);

CREATE TABLE reporting.agent_credits (
  loop_id INT64,
  profile_id INT64,
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
  agents_on_side INT64,
  gci_credit NUMERIC(38, 9),
  volume_credit NUMERIC(38, 9),
  unit_credit NUMERIC(38, 9),
  gci_rule STRING
);
