-- Cases per tenant, Europe/Stockholm month received (its first day),
-- case type and department, counted once each in their latest version:
-- all cases (n, for handling time's top case types), applications (apps)
-- and digital applications (apps_digital), what digital_share needs; every
-- period kind is made of months. The rows are signed changes: a figure is
-- the sum of its key's rows (read with sum() … GROUP BY the key; merges
-- sum them and drop keys that sum to zero). Every write of cases inserts,
-- computed in Go, −1 for the stored version of each case it replaces and
-- +1 for the case as written, so the same cases imported twice count once;
-- a month a failed write left in case_refresh_pending is repaired from the
-- cases (clickhouse/casedelta.go). version only keeps two equal blocks of
-- changes apart (a Replicated table drops a block identical to an earlier
-- one).
CREATE TABLE IF NOT EXISTS case_month_counts (
    tenant       String,
    month        Date,
    case_type    String,
    department   String,
    n            Int64,
    apps         Int64,
    apps_digital Int64,
    version      UInt64
) ENGINE = SummingMergeTree((n, apps, apps_digital))
PARTITION BY toYear(month)
ORDER BY (tenant, month, case_type, department)
