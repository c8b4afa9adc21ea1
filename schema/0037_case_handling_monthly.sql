-- Decided cases per tenant, Europe/Stockholm month decided (its first
-- day), case type, department and handling time in whole calendar days
-- (decided day minus received day, ≥ 0), counted once each in their
-- latest version: a histogram over a small integer domain, from which
-- handling time's quantiles are exact. Kept by the store like
-- case_monthly.
CREATE TABLE IF NOT EXISTS case_handling_monthly (
    tenant     String,
    month      Date,
    case_type  String,
    department String,
    days       UInt32,
    n          UInt64,
    version    UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(month)
ORDER BY (tenant, month, case_type, department, days)
