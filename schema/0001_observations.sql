-- Indicator values per period and dimension. Re-imports and corrections
-- write a higher version; reads take the latest version per key.
CREATE TABLE IF NOT EXISTS observations (
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
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(period_start)
ORDER BY (tenant, indicator, period_kind, period_start, dim_kind, dim_value)
