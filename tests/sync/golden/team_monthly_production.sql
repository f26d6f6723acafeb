-- reporting.team_monthly_production: generated from datasets/team_monthly_production.yaml; edit the spec, not this SQL.
CREATE TABLE reporting.team_monthly_production (
  closing_month DATE,
  closing_year INT,
  team TEXT,
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

CREATE INDEX team_monthly_production_team_idx ON reporting.team_monthly_production(team);

CREATE INDEX team_monthly_production_closing_month_idx ON reporting.team_monthly_production(closing_month);

COMMENT ON TABLE reporting.team_monthly_production IS 'Closed production of each team (its agents'' credits in reporting.agent_credits) added up per closing month: a team''s figures over months and years without reading every credit. A loop several of the team''s agents worked is one transaction of the team.';

COMMENT ON COLUMN reporting.team_monthly_production.closing_month IS 'First day of the month the credits closed in.';

COMMENT ON COLUMN reporting.team_monthly_production.closing_year IS 'The year of closing_month.';

COMMENT ON COLUMN reporting.team_monthly_production.team IS 'The team on the roster.';

COMMENT ON COLUMN reporting.team_monthly_production.units IS 'The team''s agents'' closed unit credits.';

COMMENT ON COLUMN reporting.team_monthly_production.list_units IS 'Of those, on the sell (listing) side.';

COMMENT ON COLUMN reporting.team_monthly_production.buy_units IS 'Of those, on the buy side.';

COMMENT ON COLUMN reporting.team_monthly_production.gci IS 'The team''s agents'' closed GCI credits.';

COMMENT ON COLUMN reporting.team_monthly_production.adjusted_gci IS 'Their GCI credits after outbound referral fees.';

COMMENT ON COLUMN reporting.team_monthly_production.volume IS 'Their closed volume credits.';

COMMENT ON COLUMN reporting.team_monthly_production.transactions IS 'Distinct closed loops where one of the team''s agents has a credit.';

COMMENT ON COLUMN reporting.team_monthly_production.priced_volume IS 'Volume credits with a price and a unit, for average price.';

COMMENT ON COLUMN reporting.team_monthly_production.priced_units IS 'Unit credits with a price, for average price.';

COMMENT ON COLUMN reporting.team_monthly_production.days_to_close_total IS 'Days from contract to closing added up over the agents'' loops (a loop two of them worked counts twice).';

COMMENT ON COLUMN reporting.team_monthly_production.days_to_close_loops IS 'How many agent loops days_to_close_total adds up.';

COMMENT ON COLUMN reporting.team_monthly_production.days_on_market_total IS 'Days from listing to contract added up the same way.';

COMMENT ON COLUMN reporting.team_monthly_production.days_on_market_loops IS 'How many agent loops days_on_market_total adds up.';

COMMENT ON COLUMN reporting.team_monthly_production.company_dollar IS 'Company dollar of the credits; NULL when no agent has a plan.';

COMMENT ON COLUMN reporting.team_monthly_production.deal_fees IS 'Per-deal fees of the credits.';

COMMENT ON COLUMN reporting.team_monthly_production.agent_net IS 'The agents'' net of the credits.';

INSERT INTO reporting.team_monthly_production
SELECT
  CAST(c.closing_month AS DATE) AS closing_month,
  CAST(c.closing_year AS INT) AS closing_year,
  CAST(c.team AS TEXT) AS team,
  CAST(SUM(c.unit_credit) AS NUMERIC) AS units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'sell'), 0) AS NUMERIC) AS list_units,
  CAST(COALESCE(SUM(c.unit_credit) FILTER(WHERE
    c.side = 'buy'), 0) AS NUMERIC) AS buy_units,
  CAST(SUM(c.gci_credit) AS NUMERIC) AS gci,
  CAST(SUM(c.adjusted_gci_credit) AS NUMERIC) AS adjusted_gci,
  CAST(SUM(c.volume_credit) AS NUMERIC) AS volume,
  CAST(COUNT(DISTINCT c.loop_id) AS BIGINT) AS transactions,
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
  c.is_closed AND NOT c.closing_date IS NULL AND NOT c.team IS NULL
GROUP BY
  c.closing_month,
  c.closing_year,
  c.team;
