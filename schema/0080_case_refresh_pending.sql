-- The months whose case pre-aggregates (case_monthly,
-- case_handling_monthly) a write of cases touched and whose refresh has
-- not been seen to succeed: the store marks them (pending = 1) before it
-- writes the cases' days, and clears them (pending = 0, a newer version)
-- after the refresh. Every later write of the tenant's cases and every
-- recompute refreshes the months still marked, so a refresh that failed
-- (error or crash) is made up for even when the cases' stored versions no
-- longer show which months they left. Per (tenant, month) the latest
-- version holds.
CREATE TABLE IF NOT EXISTS case_refresh_pending (
    tenant  String,
    month   Date,
    pending UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant, month)
