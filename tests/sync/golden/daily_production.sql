-- reporting.daily_production: generated from datasets/daily_production.yaml; edit the spec, not this SQL.
CREATE TABLE reporting.daily_production (
  closing_date DATE,
  closing_month DATE,
  closing_year INT,
  profile_id BIGINT,
  office TEXT,
  side TEXT,
  transaction_type TEXT,
  sides BIGINT,
  units NUMERIC,
  gci NUMERIC,
  adjusted_gci NUMERIC,
  volume NUMERIC,
  transactions BIGINT,
  priced_volume NUMERIC,
  priced_units NUMERIC,
  days_to_close_total BIGINT,
  days_to_close_loops BIGINT,
  days_on_market_total BIGINT,
  days_on_market_loops BIGINT
);

CREATE INDEX daily_production_closing_date_idx ON reporting.daily_production(closing_date);

CREATE INDEX daily_production_closing_month_idx ON reporting.daily_production(closing_month);

COMMENT ON TABLE reporting.daily_production IS 'Closed production added up per closing day, Dotloop profile (office), side and transaction type, from reporting.loop_sides (the same sides, GCI, volume and units): the company''s and offices'' figures over months and years without reading every side. Averages are totals over counts: average price per side is sum(priced_volume) / sum(priced_units), average days to close sum(days_to_close_total) / sum(days_to_close_loops).';

COMMENT ON COLUMN reporting.daily_production.closing_date IS 'The day the sides closed.';

COMMENT ON COLUMN reporting.daily_production.closing_month IS 'First day of the month of closing_date.';

COMMENT ON COLUMN reporting.daily_production.closing_year IS 'The year of closing_date.';

COMMENT ON COLUMN reporting.daily_production.profile_id IS 'The Dotloop profile holding the loops: what limits an office viewer''s rows.';

COMMENT ON COLUMN reporting.daily_production.office IS 'The office of the sides (reporting.loop_sides.office); NULL for none.';

COMMENT ON COLUMN reporting.daily_production.side IS 'The side, ''buy'' or ''sell'' (list sides).';

COMMENT ON COLUMN reporting.daily_production.transaction_type IS 'The loops'' Dotloop transaction type.';

COMMENT ON COLUMN reporting.daily_production.sides IS 'How many closed sides, referrals included.';

COMMENT ON COLUMN reporting.daily_production.units IS 'Closed units (a referral adds none).';

COMMENT ON COLUMN reporting.daily_production.gci IS 'GCI of the closed sides.';

COMMENT ON COLUMN reporting.daily_production.adjusted_gci IS 'GCI after outbound referral fees.';

COMMENT ON COLUMN reporting.daily_production.volume IS 'Closed volume.';

COMMENT ON COLUMN reporting.daily_production.transactions IS 'Closed loops (a dual-agency loop''s two sides count once, on its sell side row).';

COMMENT ON COLUMN reporting.daily_production.priced_volume IS 'Volume of the sides with a price and a unit, for average price.';

COMMENT ON COLUMN reporting.daily_production.priced_units IS 'Units of the sides with a price, for average price.';

COMMENT ON COLUMN reporting.daily_production.days_to_close_total IS 'Days from contract to closing added up over the loops.';

COMMENT ON COLUMN reporting.daily_production.days_to_close_loops IS 'How many loops days_to_close_total adds up.';

COMMENT ON COLUMN reporting.daily_production.days_on_market_total IS 'Days from listing to contract added up over the loops.';

COMMENT ON COLUMN reporting.daily_production.days_on_market_loops IS 'How many loops days_on_market_total adds up.';

INSERT INTO reporting.daily_production
SELECT
  CAST(s.closing_date AS DATE) AS closing_date,
  CAST(s.closing_month AS DATE) AS closing_month,
  CAST(s.closing_year AS INT) AS closing_year,
  CAST(s.profile_id AS BIGINT) AS profile_id,
  CAST(s.office AS TEXT) AS office,
  CAST(s.side AS TEXT) AS side,
  CAST(s.transaction_type AS TEXT) AS transaction_type,
  CAST(COUNT(*) AS BIGINT) AS sides,
  CAST(SUM(s.units) AS NUMERIC) AS units,
  CAST(SUM(s.gci) AS NUMERIC) AS gci,
  CAST(SUM(s.adjusted_gci) AS NUMERIC) AS adjusted_gci,
  CAST(SUM(s.volume) AS NUMERIC) AS volume,
  CAST(SUM(s.transactions) AS BIGINT) AS transactions,
  CAST(SUM(s.volume) FILTER(WHERE
    s.units > 0) AS NUMERIC) AS priced_volume,
  CAST(SUM(s.units) FILTER(WHERE
    s.units > 0 AND NOT s.volume IS NULL) AS NUMERIC) AS priced_units,
  CAST(SUM(s.days_to_close) FILTER(WHERE
    s.transactions = 1) AS BIGINT) AS days_to_close_total,
  CAST(COUNT(s.days_to_close) FILTER(WHERE
    s.transactions = 1) AS BIGINT) AS days_to_close_loops,
  CAST(SUM(s.days_on_market) FILTER(WHERE
    s.transactions = 1) AS BIGINT) AS days_on_market_total,
  CAST(COUNT(s.days_on_market) FILTER(WHERE
    s.transactions = 1) AS BIGINT) AS days_on_market_loops
FROM reporting.loop_sides AS s
WHERE
  s.is_closed AND NOT s.closing_date IS NULL
GROUP BY
  s.closing_date,
  s.closing_month,
  s.closing_year,
  s.profile_id,
  s.office,
  s.side,
  s.transaction_type;
