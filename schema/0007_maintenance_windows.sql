-- Planned maintenance windows, excluded from uptime and reported separately.
CREATE TABLE IF NOT EXISTS maintenance_windows (
    tenant   String,
    service  String,
    starts   DateTime,
    ends     DateTime,
    note     String,
    source   String,
    version  UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(starts)
ORDER BY (tenant, service, starts)
