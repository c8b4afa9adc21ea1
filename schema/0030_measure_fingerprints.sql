-- The parameters each measured indicator's observations were last fully
-- computed with (a hash): when they change, the collectors recompute the
-- indicator's whole history instead of only the periods new facts touch.
CREATE TABLE IF NOT EXISTS measure_fingerprints (
    tenant      String,
    indicator   String,
    fingerprint String,
    version     UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant, indicator)
