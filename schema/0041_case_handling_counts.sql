-- Decided cases per tenant, Europe/Stockholm month decided (its first
-- day), case type, department and handling time in whole calendar days
-- (decided day minus received day, ≥ 0), counted once each in their
-- latest version: a histogram over a small integer domain, from which
-- handling time's quantiles are exact. Signed changes like
-- case_month_counts, kept the same way.
CREATE TABLE IF NOT EXISTS case_handling_counts (
    tenant     String,
    month      Date,
    case_type  String,
    department String,
    days       UInt32,
    n          Int64,
    version    UInt64
) ENGINE = SummingMergeTree((n))
PARTITION BY toYear(month)
ORDER BY (tenant, month, case_type, department, days)
