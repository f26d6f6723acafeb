-- reporting.agent_monthly_production: generated from datasets/agent_monthly_production.yaml; edit the spec, not this SQL.
CREATE TABLE reporting.agent_monthly_production (
  closing_month DATE,
  closing_year INT,
  agent_email TEXT,
  agent_name TEXT,
  team TEXT,
  office TEXT,
  profile_id BIGINT,
  transaction_type TEXT,
  credits BIGINT,
  units NUMERIC,
  list_units NUMERIC,
  buy_units NUMERIC,
  gci NUMERIC,
  adjusted_gci NUMERIC,
  volume NUMERIC,
  transactions BIGINT,
  priced_volume NUMERIC,
  priced_units NUMERIC,
  days_to_close_total BIGINT,
  days_to_close_loops BIGINT,
  days_on_market_total BIGINT,
  days_on_market_loops BIGINT,
  company_dollar NUMERIC,
  deal_fees NUMERIC,
  agent_net NUMERIC
);

CREATE INDEX agent_monthly_production_agent_email_closing_month_idx ON reporting.agent_monthly_production(agent_email, closing_month);

CREATE INDEX agent_monthly_production_closing_month_idx ON reporting.agent_monthly_production(closing_month);

COMMENT ON TABLE reporting.agent_monthly_production IS 'Closed production of each agent added up per closing month, team, office, Dotloop profile and transaction type, from reporting.agent_credits (the same shares of GCI, volume and units, and plan figures): an agent''s figures over months and years without reading every credit. Averages are totals over counts, as in reporting.daily_production.';

COMMENT ON COLUMN reporting.agent_monthly_production.closing_month IS 'First day of the month the credits closed in.';

COMMENT ON COLUMN reporting.agent_monthly_production.closing_year IS 'The year of closing_month.';

COMMENT ON COLUMN reporting.agent_monthly_production.agent_email IS 'The agent''s e-mail address, lower-cased.';

COMMENT ON COLUMN reporting.agent_monthly_production.agent_name IS 'The agent''s name, as in reporting.agent_credits.';

COMMENT ON COLUMN reporting.agent_monthly_production.team IS 'The agent''s team on the roster.';

COMMENT ON COLUMN reporting.agent_monthly_production.office IS 'The office the credits count for (reporting.agent_credits.office).';

COMMENT ON COLUMN reporting.agent_monthly_production.profile_id IS 'The Dotloop profile the loops belong to: office row-level security limits office viewers by it.';

COMMENT ON COLUMN reporting.agent_monthly_production.transaction_type IS 'The loops'' Dotloop transaction type.';

COMMENT ON COLUMN reporting.agent_monthly_production.credits IS 'How many closed credits.';

COMMENT ON COLUMN reporting.agent_monthly_production.units IS 'The agent''s closed unit credits.';

COMMENT ON COLUMN reporting.agent_monthly_production.list_units IS 'Of those, on the sell (listing) side.';

COMMENT ON COLUMN reporting.agent_monthly_production.buy_units IS 'Of those, on the buy side.';

COMMENT ON COLUMN reporting.agent_monthly_production.gci IS 'The agent''s closed GCI credits.';

COMMENT ON COLUMN reporting.agent_monthly_production.adjusted_gci IS 'The agent''s GCI credits after outbound referral fees.';

COMMENT ON COLUMN reporting.agent_monthly_production.volume IS 'The agent''s closed volume credits.';

COMMENT ON COLUMN reporting.agent_monthly_production.transactions IS 'The agent''s closed loops (distinct loops with a credit).';

COMMENT ON COLUMN reporting.agent_monthly_production.priced_volume IS 'Volume credits with a price and a unit, for average price.';

COMMENT ON COLUMN reporting.agent_monthly_production.priced_units IS 'Unit credits with a price, for average price.';

COMMENT ON COLUMN reporting.agent_monthly_production.days_to_close_total IS 'Days from contract to closing added up over the agent''s loops.';

COMMENT ON COLUMN reporting.agent_monthly_production.days_to_close_loops IS 'How many loops days_to_close_total adds up.';

COMMENT ON COLUMN reporting.agent_monthly_production.days_on_market_total IS 'Days from listing to contract added up over the agent''s loops.';

COMMENT ON COLUMN reporting.agent_monthly_production.days_on_market_loops IS 'How many loops days_on_market_total adds up.';

COMMENT ON COLUMN reporting.agent_monthly_production.company_dollar IS 'Company dollar of the credits; NULL without a plan.';

COMMENT ON COLUMN reporting.agent_monthly_production.deal_fees IS 'Per-deal fees of the credits; NULL without a plan.';

COMMENT ON COLUMN reporting.agent_monthly_production.agent_net IS 'The agent''s net of the credits; NULL without a plan.';

INSERT INTO reporting.agent_monthly_production
SELECT
  CAST(c.closing_month AS DATE) AS closing_month,
  CAST(c.closing_year AS INT) AS closing_year,
  CAST(c.agent_email AS TEXT) AS agent_email,
  CAST(c.agent_name AS TEXT) AS agent_name,
  CAST(c.team AS TEXT) AS team,
  CAST(c.office AS TEXT) AS office,
  CAST(c.profile_id AS BIGINT) AS profile_id,
  CAST(c.transaction_type AS TEXT) AS transaction_type,
  CAST(COUNT(*) AS BIGINT) AS credits,
  CAST(SUM(c.unit_credit) AS NUMERIC) AS units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'sell'), 0) AS NUMERIC) AS list_units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'buy'), 0) AS NUMERIC) AS buy_units,
  CAST(SUM(c.gci_credit) AS NUMERIC) AS gci,
  CAST(SUM(c.adjusted_gci_credit) AS NUMERIC) AS adjusted_gci,
  CAST(SUM(c.volume_credit) AS NUMERIC) AS volume,
  CAST(SUM(c.transactions) AS BIGINT) AS transactions,
  CAST(SUM(c.volume_credit) FILTER(WHERE
    c.unit_credit > 0) AS NUMERIC) AS priced_volume,
  CAST(SUM(c.unit_credit) FILTER(WHERE
    c.unit_credit > 0 AND NOT c.volume_credit IS NULL) AS NUMERIC) AS priced_units,
  CAST(SUM(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS BIGINT) AS days_to_close_total,
  CAST(COUNT(c.days_to_close) FILTER(WHERE
    c.transactions = 1) AS BIGINT) AS days_to_close_loops,
  CAST(SUM(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS BIGINT) AS days_on_market_total,
  CAST(COUNT(c.days_on_market) FILTER(WHERE
    c.transactions = 1) AS BIGINT) AS days_on_market_loops,
  CAST(SUM(c.company_dollar) AS NUMERIC) AS company_dollar,
  CAST(SUM(c.deal_fees) AS NUMERIC) AS deal_fees,
  CAST(SUM(c.agent_net) AS NUMERIC) AS agent_net
FROM reporting.agent_credits AS c
WHERE
  c.is_closed AND NOT c.closing_date IS NULL
GROUP BY
  c.closing_month,
  c.closing_year,
  c.agent_email,
  c.agent_name,
  c.team,
  c.office,
  c.profile_id,
  c.transaction_type;
