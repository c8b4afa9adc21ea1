-- Availability probe results, one row per service and check.
CREATE TABLE IF NOT EXISTS probe_results (
    tenant      String,
    service     String,
    url         String,
    ts          DateTime,
    ok          UInt8,
    status      UInt16,
    duration_ms Float64,
    error       String,
    source      String,
    version     UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, service, ts)
