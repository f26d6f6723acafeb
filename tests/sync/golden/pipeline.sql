-- reporting.pipeline: generated from datasets/pipeline.yaml; edit the spec, not this SQL.
CREATE TABLE reporting.pipeline (
  projected_close_month DATE,
  office TEXT,
  profile_id BIGINT,
  transaction_type TEXT,
  loops BIGINT,
  sides NUMERIC,
  projected_gci NUMERIC,
  projected_adjusted_gci NUMERIC,
  projected_volume NUMERIC
);

CREATE INDEX pipeline_projected_close_month_idx ON reporting.pipeline(projected_close_month);

COMMENT ON TABLE reporting.pipeline IS 'The pending pipeline: one row per projected close month, office, Dotloop profile and transaction type (sum over the last two for an office''s month), adding up the represented sides of UNDER_CONTRACT loops by the month of their Closing Date, with GCI, volume and units computed by the same rules as for closed deals. An UNDER_CONTRACT loop without a Closing Date is in no month; reporting.data_quality lists it (pipeline_without_closing_date).';

COMMENT ON COLUMN reporting.pipeline.projected_close_month IS 'First day of the month the deals are expected to close in.';

COMMENT ON COLUMN reporting.pipeline.office IS 'The office of the sides (reporting.loop_sides.office); NULL for none.';

COMMENT ON COLUMN reporting.pipeline.profile_id IS 'The Dotloop profile the loops belong to: office row-level security limits office viewers by it.';

COMMENT ON COLUMN reporting.pipeline.transaction_type IS 'The loops'' Dotloop transaction type.';

COMMENT ON COLUMN reporting.pipeline.loops IS 'How many UNDER_CONTRACT loops are expected to close that month.';

COMMENT ON COLUMN reporting.pipeline.sides IS 'Their projected units: represented sides, a referral counting none.';

COMMENT ON COLUMN reporting.pipeline.projected_gci IS 'The GCI the sides would bring once closed (sides whose GCI is unknown add nothing and are listed in reporting.data_quality).';

COMMENT ON COLUMN reporting.pipeline.projected_adjusted_gci IS 'projected_gci after outbound referral fees.';

COMMENT ON COLUMN reporting.pipeline.projected_volume IS 'The volume the sides would add once closed.';

INSERT INTO reporting.pipeline
SELECT
  CAST(s.projected_close_month AS DATE) AS projected_close_month,
  CAST(s.office AS TEXT) AS office,
  CAST(s.profile_id AS BIGINT) AS profile_id,
  CAST(s.transaction_type AS TEXT) AS transaction_type,
  CAST(SUM(s.transactions) AS BIGINT) AS loops,
  CAST(SUM(s.units) AS NUMERIC) AS sides,
  CAST(SUM(s.gci) AS NUMERIC) AS projected_gci,
  CAST(SUM(s.adjusted_gci) AS NUMERIC) AS projected_adjusted_gci,
  CAST(SUM(s.volume) AS NUMERIC) AS projected_volume
FROM reporting.loop_sides AS s
WHERE
  NOT s.projected_close_month IS NULL
GROUP BY
  s.projected_close_month,
  s.office,
  s.profile_id,
  s.transaction_type;
