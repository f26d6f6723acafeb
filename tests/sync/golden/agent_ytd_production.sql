-- reporting.agent_ytd_production: generated from datasets/agent_ytd_production.yaml; edit the spec, not this SQL.
CREATE TABLE reporting.agent_ytd_production (
  agent_email TEXT,
  closing_year INT,
  through_month DATE,
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

CREATE INDEX agent_ytd_production_agent_email_closing_year_idx ON reporting.agent_ytd_production(agent_email, closing_year);

CREATE INDEX agent_ytd_production_through_month_idx ON reporting.agent_ytd_production(through_month);

COMMENT ON TABLE reporting.agent_ytd_production IS 'Closed production of each agent from January 1 through the end of each month (through_month) of a year, added up from reporting.agent_monthly_production: one row per agent and month from the agent''s first month with a closing that year through December, so the figures up to any month are one row. A month before the agent''s first closing of the year has no row: nothing closed yet.';

COMMENT ON COLUMN reporting.agent_ytd_production.agent_email IS 'The agent''s e-mail address, lower-cased.';

COMMENT ON COLUMN reporting.agent_ytd_production.closing_year IS 'The year the figures add up.';

COMMENT ON COLUMN reporting.agent_ytd_production.through_month IS 'First day of the last month the figures add up: from January 1 of closing_year to the end of this month.';

COMMENT ON COLUMN reporting.agent_ytd_production.units IS 'The agent''s closed unit credits.';

COMMENT ON COLUMN reporting.agent_ytd_production.list_units IS 'Of those, on the sell (listing) side.';

COMMENT ON COLUMN reporting.agent_ytd_production.buy_units IS 'Of those, on the buy side.';

COMMENT ON COLUMN reporting.agent_ytd_production.gci IS 'The agent''s closed GCI credits.';

COMMENT ON COLUMN reporting.agent_ytd_production.adjusted_gci IS 'The agent''s GCI credits after outbound referral fees.';

COMMENT ON COLUMN reporting.agent_ytd_production.volume IS 'The agent''s closed volume credits.';

COMMENT ON COLUMN reporting.agent_ytd_production.transactions IS 'The agent''s closed loops (distinct loops with a credit).';

COMMENT ON COLUMN reporting.agent_ytd_production.priced_volume IS 'Volume credits with a price and a unit, for average price.';

COMMENT ON COLUMN reporting.agent_ytd_production.priced_units IS 'Unit credits with a price, for average price.';

COMMENT ON COLUMN reporting.agent_ytd_production.days_to_close_total IS 'Days from contract to closing added up over the agent''s loops.';

COMMENT ON COLUMN reporting.agent_ytd_production.days_to_close_loops IS 'How many loops days_to_close_total adds up.';

COMMENT ON COLUMN reporting.agent_ytd_production.days_on_market_total IS 'Days from listing to contract added up over the agent''s loops.';

COMMENT ON COLUMN reporting.agent_ytd_production.days_on_market_loops IS 'How many loops days_on_market_total adds up.';

COMMENT ON COLUMN reporting.agent_ytd_production.company_dollar IS 'Company dollar of the credits; NULL without a plan.';

COMMENT ON COLUMN reporting.agent_ytd_production.deal_fees IS 'Per-deal fees of the credits; NULL without a plan.';

COMMENT ON COLUMN reporting.agent_ytd_production.agent_net IS 'The agent''s net of the credits; NULL without a plan.';

INSERT INTO reporting.agent_ytd_production
SELECT
  CAST(m.agent_email AS TEXT) AS agent_email,
  CAST(m.closing_year AS INT) AS closing_year,
  CAST(MAKE_DATE(m.closing_year, t.month_number, 1) AS DATE) AS through_month,
  CAST(SUM(m.units) AS NUMERIC) AS units,
  CAST(SUM(m.list_units) AS NUMERIC) AS list_units,
  CAST(SUM(m.buy_units) AS NUMERIC) AS buy_units,
  CAST(SUM(m.gci) AS NUMERIC) AS gci,
  CAST(SUM(m.adjusted_gci) AS NUMERIC) AS adjusted_gci,
  CAST(SUM(m.volume) AS NUMERIC) AS volume,
  CAST(SUM(m.transactions) AS BIGINT) AS transactions,
  CAST(SUM(m.priced_volume) AS NUMERIC) AS priced_volume,
  CAST(SUM(m.priced_units) AS NUMERIC) AS priced_units,
  CAST(SUM(m.days_to_close_total) AS BIGINT) AS days_to_close_total,
  CAST(SUM(m.days_to_close_loops) AS BIGINT) AS days_to_close_loops,
  CAST(SUM(m.days_on_market_total) AS BIGINT) AS days_on_market_total,
  CAST(SUM(m.days_on_market_loops) AS BIGINT) AS days_on_market_loops,
  CAST(SUM(m.company_dollar) AS NUMERIC) AS company_dollar,
  CAST(SUM(m.deal_fees) AS NUMERIC) AS deal_fees,
  CAST(SUM(m.agent_net) AS NUMERIC) AS agent_net
FROM reporting.agent_monthly_production AS m
CROSS JOIN GENERATE_SERIES(CAST(EXTRACT(MONTH FROM m.closing_month) AS INT), 12) AS t(month_number)
GROUP BY
  m.agent_email,
  m.closing_year,
  t.month_number;
