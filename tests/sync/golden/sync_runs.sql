-- reporting.sync_runs: generated from datasets/sync_runs.yaml; edit the spec, not this SQL.
CREATE OR REPLACE VIEW reporting.sync_runs AS
SELECT
  CAST(r.run_id AS BIGINT) AS run_id,
  CAST(r.trigger AS TEXT) AS trigger,
  CAST(r.status AS TEXT) AS status,
  CAST(r.started_at AS TIMESTAMPTZ) AS started_at,
  CAST(r.finished_at AS TIMESTAMPTZ) AS finished_at,
  _c0.duration_seconds AS duration_seconds,
  CAST(r.profiles AS INT) AS profiles,
  CAST(r.pages AS INT) AS pages,
  CAST(r.loops_seen AS INT) AS loops_seen,
  CAST(r.loops_changed AS INT) AS loops_changed,
  CAST(r.participants_fetched AS INT) AS participants_fetched,
  CAST(r.loops_removed AS INT) AS loops_removed,
  CAST(r.quarantined AS INT) AS quarantined,
  CAST(r.fetches_pending AS INT) AS fetches_pending,
  CAST(r.requests AS INT) AS requests,
  CAST(r.throttled AS INT) AS throttled,
  CAST(r.requests_per_minute AS INT) AS requests_per_minute,
  _c1.request_budget AS request_budget,
  CAST(ROUND(r.requests / NULLIF(_c1.request_budget, 0), 4) AS NUMERIC) AS budget_share,
  _c1.budget_window_end AS budget_window_end,
  CAST(ROUND(
    r.requests_per_minute * GREATEST(
      EXTRACT(EPOCH FROM _c1.budget_window_end - GREATEST(
        r.started_at,
        MAX(_c1.budget_window_end) OVER (ORDER BY r.started_at, r.run_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
      )),
      0
    ) / 60,
    1
  ) AS NUMERIC) AS added_budget,
  CAST(r.error AS TEXT) AS error
FROM dotloop_raw.sync_run AS r
CROSS JOIN LATERAL (
  SELECT
    CAST(ROUND(EXTRACT(EPOCH FROM COALESCE(r.finished_at, CURRENT_TIMESTAMP) - r.started_at), 1) AS NUMERIC) AS duration_seconds
  OFFSET 0
) AS _c0
CROSS JOIN LATERAL (
  SELECT
    CAST(ROUND(r.requests_per_minute * GREATEST(_c0.duration_seconds, 60) / 60, 1) AS NUMERIC) AS request_budget,
    CAST(r.started_at + MAKE_INTERVAL(secs => GREATEST(_c0.duration_seconds, 60)) AS TIMESTAMPTZ) AS budget_window_end
  OFFSET 0
) AS _c1;

COMMENT ON VIEW reporting.sync_runs IS 'One row per sync run (nightly, queued, manual, a webhook''s one-loop sync, a sweep): its trigger and status, when it started and finished, what it listed, changed, fetched and quarantined, and the Dotloop API requests it sent against the request budget of its window (the budget per minute it was paced to, times its minutes, counting at least one). Runs that overlap share one budget: sum added_budget, not request_budget, over several runs. A run covers all the profiles it was given; its requests are not split by profile.';

COMMENT ON COLUMN reporting.sync_runs.run_id IS 'The sync run (raw sync_run).';

COMMENT ON COLUMN reporting.sync_runs.trigger IS 'What started it: nightly (the schedule), queue (a queued sync), manual (the sync command), demo, webhook (one loop a webhook named), or sweep.';

COMMENT ON COLUMN reporting.sync_runs.status IS 'running, succeeded, failed, or skipped (every profile it chose was being synced by another run).';

COMMENT ON COLUMN reporting.sync_runs.started_at IS 'When the run started.';

COMMENT ON COLUMN reporting.sync_runs.finished_at IS 'When the run finished; NULL while it runs.';

COMMENT ON COLUMN reporting.sync_runs.duration_seconds IS 'Seconds from start to finish; for a run still going, to when the view is read.';

COMMENT ON COLUMN reporting.sync_runs.profiles IS 'Dotloop profiles the run synced.';

COMMENT ON COLUMN reporting.sync_runs.pages IS 'Pages of loop listings it read.';

COMMENT ON COLUMN reporting.sync_runs.loops_seen IS 'Loops its listings showed, changed or not.';

COMMENT ON COLUMN reporting.sync_runs.loops_changed IS 'Loops new or changed since the last run, and landed.';

COMMENT ON COLUMN reporting.sync_runs.participants_fetched IS 'Participant lists fetched, one request each.';

COMMENT ON COLUMN reporting.sync_runs.loops_removed IS 'Loops a sweep found gone from Dotloop and marked removed.';

COMMENT ON COLUMN reporting.sync_runs.quarantined IS 'Payloads that could not be landed and were set aside with the reason (raw quarantine); a later run asks for them again.';

COMMENT ON COLUMN reporting.sync_runs.fetches_pending IS 'Details and participant lists left for a later run to fetch.';

COMMENT ON COLUMN reporting.sync_runs.requests IS 'Requests sent to the Dotloop API, every attempt counted.';

COMMENT ON COLUMN reporting.sync_runs.throttled IS 'Answers 429 (over the rate limit) among them.';

COMMENT ON COLUMN reporting.sync_runs.requests_per_minute IS 'The request budget per minute the run was paced to (DOTLOOP_REQUESTS_PER_MINUTE); NULL for runs recorded before it was kept.';

COMMENT ON COLUMN reporting.sync_runs.request_budget IS 'Requests the budget allowed in the run''s window: requests_per_minute times the run''s minutes, a run shorter than a minute counting one.';

COMMENT ON COLUMN reporting.sync_runs.budget_share IS 'requests / request_budget, as a fraction: near 1 the budget set the run''s pace; small, the run spent its time elsewhere (Postgres, a pause after a 429, a small listing).';

COMMENT ON COLUMN reporting.sync_runs.budget_window_end IS 'The end of the run''s budget window: when it finished, or a minute after it started if sooner.';

COMMENT ON COLUMN reporting.sync_runs.added_budget IS 'The request budget of the part of the run''s window that no run started before it already covers. Summed over the runs of a day, it is the budget of the minutes some run was going, each minute once: what the day''s requests are weighed against.';

COMMENT ON COLUMN reporting.sync_runs.error IS 'Why the run failed, when it did.';
