-- Snapshots of the e-service catalogue, one row per service and snapshot date.
CREATE TABLE IF NOT EXISTS eservice_snapshots (
    tenant     String,
    snapshot   Date,
    service_id String,
    name       String,
    category   String,
    department String,
    url        String,
    integrated UInt8,
    eid        UInt8,
    active     UInt8,
    source     String,
    version    UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(snapshot)
ORDER BY (tenant, snapshot, service_id)
