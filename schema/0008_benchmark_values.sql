-- External key figures (Kolada) for the municipality and its peers.
CREATE TABLE IF NOT EXISTS benchmark_values (
    tenant       String,
    source       String,
    kpi          String,
    municipality String,
    period       UInt16,
    gender       String,
    value        Nullable(Float64),
    status       String,
    deleted      UInt8,
    version      UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY intDiv(period, 10)
ORDER BY (tenant, source, kpi, municipality, period, gender)
