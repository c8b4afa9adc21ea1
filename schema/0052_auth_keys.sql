-- Keys every `malbild serve` process of an installation must agree on: the
-- HMAC key of the CSRF tokens of users signed in through the trusted header
-- (auth.SharedKey), so a form one replica rendered posts to another. The
-- first process stores a random key; all use the least key per name, so
-- two that started at the same moment agree once they read again.
-- Installation-wide: tenant is empty.
CREATE TABLE IF NOT EXISTS auth_keys (
    tenant  String,
    name    String,
    key     String,
    created DateTime
) ENGINE = MergeTree
ORDER BY (tenant, name, key)
