-- Sessions of signed-in users, shared by every `malbild serve` process of
-- an installation (auth.SessionStore), so that replicas behind a load
-- balancer act as one. Keyed by id_hash, the SHA-256 of the session token:
-- the token itself is only in the browser's cookie. A sign-out writes the
-- session again with revoked = 1; reads take max(revoked) per id_hash, so a
-- revocation wins whatever the replicas' clocks say (no FINAL, which fails
-- on Distributed tables). Sign-ins in progress through the identity
-- provider (OpenID Connect state, nonce and PKCE verifier) are kept here
-- too, under the hash of their state, with an empty user_name, so that the
-- provider may send the browser back to any replica; using one up revokes
-- it. Sessions belong to the installation, not to one
-- municipality: tenant is empty, as in audit_log's sign-in events.
-- Expiry is checked when read (18.16 has no TTL clause); the table is
-- partitioned by the month of expiry, so months gone by can be dropped
-- whole (docs/deploy.md).
CREATE TABLE IF NOT EXISTS auth_sessions (
    tenant    String,
    id_hash   String,
    user_name String,
    secret    String,
    ext_json  String,
    created   DateTime,
    expires   DateTime,
    revoked   UInt8
) ENGINE = ReplacingMergeTree(revoked)
PARTITION BY toYYYYMM(expires)
ORDER BY (tenant, id_hash)
