-- Probe results per tenant, service and Europe/Stockholm day: counts,
-- successes and response-time sums outside maintenance windows. Written
-- by the store from probe_results (FINAL) for the days each write of
-- probe results or maintenance windows touches, so the same results
-- imported twice count once; the latest version of a day replaces it.
CREATE TABLE IF NOT EXISTS probe_daily (
    tenant  String,
    service String,
    day     Date,
    n       UInt64,
    inm     UInt64,
    okn     UInt64,
    dur_sum Float64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, service, day)
