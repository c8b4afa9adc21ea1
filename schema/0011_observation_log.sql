-- Every manual value and correction (observations with an author), kept
-- append-only so their history survives the deduplication of observations.
CREATE TABLE IF NOT EXISTS observation_log (
    tenant       String,
    indicator    String,
    period_kind  String,
    period_start Date,
    dim_kind     String,
    dim_value    String,
    value        Float64,
    source       String,
    author       String,
    comment      String,
    version      UInt64,
    recorded     DateTime
) ENGINE = MergeTree
PARTITION BY toYear(period_start)
ORDER BY (tenant, indicator, period_kind, period_start, dim_kind, dim_value, version)
