-- One row per collector run.
CREATE TABLE IF NOT EXISTS collector_runs (
    tenant    String,
    collector String,
    kind      String,
    started   DateTime,
    finished  DateTime,
    rows      UInt64,
    outcome   String,
    error     String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(started)
ORDER BY (tenant, collector, started)
