-- Cases per tenant, Europe/Stockholm day received, case type and
-- department, counted once each in their latest version: all cases (n,
-- for handling time's top case types), applications (apps) and digital
-- applications (apps_digital), what digital_share needs. Written by the
-- store for the days each write of cases touches (old and new days of
-- moved cases), so the same cases imported twice count once; the latest
-- version of a key replaces it, and a key whose cases all left its day is
-- written again with zero counts.
CREATE TABLE IF NOT EXISTS case_daily (
    tenant       String,
    day          Date,
    case_type    String,
    department   String,
    n            UInt64,
    apps         UInt64,
    apps_digital UInt64,
    version      UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(day)
ORDER BY (tenant, day, case_type, department)
