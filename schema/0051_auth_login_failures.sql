-- Failed sign-ins, shared by every `malbild serve` process of an
-- installation, so that the sign-in limits count failures on all replicas.
-- key is a hash of the client address (or of the address and the user
-- name typed); a successful sign-in adds a row with cleared = 1, and
-- failures before it no longer count. at_ns orders the rows exactly. A key
-- is refused once it has its limit of failures in the window, and refusals
-- are not recorded, so a key adds at most its limit per window. Only the
-- last window is ever read; months gone by can be dropped whole
-- (docs/deploy.md). Installation-wide: tenant is empty.
CREATE TABLE IF NOT EXISTS auth_login_failures (
    tenant  String,
    key     String,
    at      DateTime,
    at_ns   UInt64,
    cleared UInt8
) ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (tenant, key, at_ns)
