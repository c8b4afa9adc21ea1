-- The latest probe result per service, for the live operating status.
CREATE MATERIALIZED VIEW IF NOT EXISTS probe_latest
ENGINE = ReplacingMergeTree(ts)
ORDER BY (tenant, service)
AS SELECT tenant, service, url, ts, ok, status, duration_ms, error
FROM probe_results
