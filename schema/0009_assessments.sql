-- Assessments with comments. Append-only: history is kept, the highest
-- revision per subject and period is the current one.
CREATE TABLE IF NOT EXISTS assessments (
    tenant       String,
    subject      String,
    subject_id   String,
    period_kind  String,
    period_start Date,
    level        String,
    forecast     String,
    proposed     String,
    comment      String,
    ready        UInt8,
    confirmed    UInt8,
    author       String,
    created      DateTime,
    revision     UInt64
) ENGINE = MergeTree
PARTITION BY toYear(period_start)
ORDER BY (tenant, subject, subject_id, period_kind, period_start, revision)
