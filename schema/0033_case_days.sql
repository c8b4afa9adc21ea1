-- The cases by Europe/Stockholm day: one row per case on the day it was
-- received and on the day it was decided, with the case's columns, so
-- that refreshing a day's pre-aggregates (case_monthly, case_handling_monthly)
-- reads that day's rows, not the whole cases table. The store writes the
-- rows with the cases, before them; a re-import that moves a case off a
-- day writes a row with present = 0 there. Per (tenant, day, case_id) the
-- latest version is the case's state on that day.
CREATE TABLE IF NOT EXISTS case_days (
    tenant      String,
    day         Date,
    case_id     String,
    case_type   String,
    department  String,
    digital     UInt8,
    application UInt8,
    received    DateTime,
    decided     DateTime,
    present     UInt8,
    version     UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(day)
ORDER BY (tenant, day, case_id)
