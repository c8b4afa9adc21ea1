-- The months whose case pre-aggregates (case_month_counts,
-- case_handling_counts) a write of cases changes and whose changes have
-- not been seen to be inserted: the store marks them (pending = 1) before
-- it writes the cases, and clears them (pending = 0, a newer version)
-- after it inserted the changes. Every later write of the tenant's cases
-- and every recompute repairs the months still marked from the cases, so
-- a write that failed (error, crash, an insert whose outcome is unknown)
-- is made up for even when the cases' stored versions no longer show
-- which months they left. Per (tenant, month) the latest version holds.
CREATE TABLE IF NOT EXISTS case_refresh_pending (
    tenant  String,
    month   Date,
    pending UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant, month)
