-- Closing and reopening of report periods (T1, T2, Q1–Q3, full year).
-- Append-only: the row with the highest revision per period says whether
-- it is closed; a reopening carries its reason.
CREATE TABLE IF NOT EXISTS period_closures (
    tenant       String,
    period_kind  String,
    period_start Date,
    closed       UInt8,
    actor        String,
    reason       String,
    at           DateTime,
    revision     UInt64
) ENGINE = MergeTree
PARTITION BY toYear(period_start)
ORDER BY (tenant, period_kind, period_start, revision)
