-- The audit trail: every write of the follow-up workflow (assessments,
-- comments, ready marks, manual values and corrections, period closing
-- and reopening), every user change and every failed sign-in, with who,
-- when, what and the state before and after as JSON. Append-only: rows
-- are never updated or deleted. Events that belong to no municipality
-- (sign-ins, users) have an empty tenant.
CREATE TABLE IF NOT EXISTS audit_log (
    tenant      String,
    at          DateTime,
    seq         UInt64,
    actor       String,
    role        String,
    action      String,
    subject     String,
    subject_id  String,
    period      String,
    before_json String,
    after_json  String,
    reason      String,
    remote      String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (tenant, at, seq)
