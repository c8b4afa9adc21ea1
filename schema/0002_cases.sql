-- Case records from case-management exports (no personal data: the
-- collector rejects anything that looks like a personnummer).
CREATE TABLE IF NOT EXISTS cases (
    tenant      String,
    case_id     String,
    case_type   String,
    department  String,
    channel     String,
    digital     UInt8,
    application UInt8,
    received    DateTime,
    decided     Nullable(DateTime),
    source      String,
    version     UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(received)
ORDER BY (tenant, case_id)
