-- reporting.sync_freshness: generated from datasets/sync_freshness.yaml; edit the spec, not this SQL.
CREATE OR REPLACE VIEW reporting.sync_freshness AS
SELECT
  CAST(p.profile_id AS BIGINT) AS profile_id,
  CAST(reporting_lib.parse_text(p.payload ->> 'name') AS TEXT) AS profile_name,
  CAST(s.last_success_at AS TIMESTAMPTZ) AS last_success_at,
  CAST(ROUND(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP - s.last_success_at) / 3600, 1) AS NUMERIC) AS hours_since_success,
  CAST(s.watermark AS TIMESTAMPTZ) AS watermark,
  CAST(s.last_sweep_at AS TIMESTAMPTZ) AS last_sweep_at,
  CAST(latest.run_id AS BIGINT) AS latest_run_id,
  CAST(latest.status AS TEXT) AS latest_run_status,
  CAST(latest.started_at AS TIMESTAMPTZ) AS latest_run_started_at,
  CAST(latest.error AS TEXT) AS latest_run_error
FROM dotloop_raw.profile AS p
LEFT JOIN dotloop_raw.profile_sync_state AS s
  ON s.profile_id = p.profile_id
LEFT JOIN LATERAL (
  SELECT
    r.run_id,
    r.status,
    r.started_at,
    r.finished_at,
    r.error
  FROM dotloop_raw.sync_run AS r
  WHERE
    r.trigger <> 'webhook'
  ORDER BY
    r.run_id DESC
  LIMIT 1
) AS latest
  ON TRUE;

COMMENT ON VIEW reporting.sync_freshness IS 'One row per Dotloop profile the brokerage synced: when its loops were last brought up to date by a sync run that listed them completely, and the latest sync run or sweep whatever the profile (the one-loop syncs webhooks start are left out). The reports are as fresh as last_success_at (plus webhooks, when set up).';

COMMENT ON COLUMN reporting.sync_freshness.profile_id IS 'The Dotloop profile.';

COMMENT ON COLUMN reporting.sync_freshness.profile_name IS 'The profile''s name in Dotloop.';

COMMENT ON COLUMN reporting.sync_freshness.last_success_at IS 'When a sync run last finished listing this profile''s changed loops completely; NULL when none has yet (the backfill is still running).';

COMMENT ON COLUMN reporting.sync_freshness.hours_since_success IS 'Hours since last_success_at, when the view is read.';

COMMENT ON COLUMN reporting.sync_freshness.watermark IS 'Loops updated in Dotloop up to this instant are in the replica; the next run lists those updated since.';

COMMENT ON COLUMN reporting.sync_freshness.last_sweep_at IS 'When a sweep last listed every loop of the profile (finding loops removed from Dotloop).';

COMMENT ON COLUMN reporting.sync_freshness.latest_run_id IS 'The most recent sync run or sweep, of any profile (raw sync_run; webhook loop syncs left out).';

COMMENT ON COLUMN reporting.sync_freshness.latest_run_status IS 'Its status: running; succeeded; failed (also a run whose process ended before it finished); or skipped (every profile it chose was being synced by another run, which brings them up to date).';

COMMENT ON COLUMN reporting.sync_freshness.latest_run_started_at IS 'When the most recent sync run started.';

COMMENT ON COLUMN reporting.sync_freshness.latest_run_error IS 'Why the most recent sync run failed, or which runs held the profiles it skipped; NULL otherwise.';
