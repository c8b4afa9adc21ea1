-- Each responsible body's (nämnd, förvaltning, bolag) own assessment and
-- comment of a goal for a report period. Append-only: the highest revision
-- per goal, body and period is the current one; history is kept.
CREATE TABLE IF NOT EXISTS body_reports (
    tenant       String,
    goal_id      String,
    body_id      String,
    period_kind  String,
    period_start Date,
    level        String,
    comment      String,
    author       String,
    created      DateTime,
    revision     UInt64
) ENGINE = MergeTree
PARTITION BY toYear(period_start)
ORDER BY (tenant, goal_id, body_id, period_kind, period_start, revision)
