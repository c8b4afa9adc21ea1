-- Cases per tenant, Europe/Stockholm month received (its first day),
-- case type and department, counted once each in their latest version:
-- all cases (n, for handling time's top case types), applications (apps)
-- and digital applications (apps_digital), what digital_share needs; every
-- period kind is made of months. Written by the store from case_days for
-- the months each write of cases touches (old and new months of moved
-- cases), so the same cases imported twice count once; the latest version
-- of a key replaces it, and a key whose cases all left its month is
-- written again with zero counts.
CREATE TABLE IF NOT EXISTS case_monthly (
    tenant       String,
    month        Date,
    case_type    String,
    department   String,
    n            UInt64,
    apps         UInt64,
    apps_digital UInt64,
    version      UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(month)
ORDER BY (tenant, month, case_type, department)
