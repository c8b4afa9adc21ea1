-- Follow-up of a goal's activities per report period: status, outcome in
-- tkr (has_outcome = 0: unknown, never 0) and a comment. Append-only: the
-- highest revision per activity and period is the current one.
CREATE TABLE IF NOT EXISTS activity_updates (
    tenant       String,
    goal_id      String,
    activity_id  String,
    period_kind  String,
    period_start Date,
    status       String,
    has_outcome  UInt8,
    outcome      Float64,
    comment      String,
    author       String,
    created      DateTime,
    revision     UInt64
) ENGINE = MergeTree
PARTITION BY toYear(period_start)
ORDER BY (tenant, goal_id, activity_id, period_kind, period_start, revision)
