-- Which cases have a version received or decided on a Europe/Stockholm
-- day: one row per case and day of any version (a case that moved keeps
-- its old row, which the refresh of case_daily and case_handling_daily
-- then finds no longer there). Written by the store with the cases, so
-- that refreshing a day's pre-aggregates reads that day's cases, not the
-- whole history.
CREATE TABLE IF NOT EXISTS case_days (
    tenant  String,
    day     Date,
    case_id String,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(day)
ORDER BY (tenant, day, case_id)
