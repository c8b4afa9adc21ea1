package main

import (
	"context"
	"time"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
)

// sessionStore keeps the authenticator's sessions and sign-in failures in
// ClickHouse (auth_sessions, auth_login_failures), where every serve
// process of the installation sees them: replicas behind a load balancer
// act as one (docs/deploy.md).
type sessionStore struct{ s *clickhouse.Store }

var _ auth.SessionStore = sessionStore{}

func (c sessionStore) SaveSession(ctx context.Context, r auth.SessionRecord) error {
	return c.s.WriteAuthSession(ctx, clickhouse.AuthSession{IDHash: r.IDHash, User: r.User, Secret: r.Secret, Ext: r.Ext,
		Created: r.Created, Expires: r.Expires, Revoked: r.Revoked})
}

func recordOf(a clickhouse.AuthSession) auth.SessionRecord {
	return auth.SessionRecord{IDHash: a.IDHash, User: a.User, Secret: a.Secret, Ext: a.Ext,
		Created: a.Created, Expires: a.Expires, Revoked: a.Revoked}
}

func (c sessionStore) Session(ctx context.Context, idHash string) (auth.SessionRecord, bool, error) {
	a, ok, err := c.s.AuthSession(ctx, idHash)
	return recordOf(a), ok, err
}

func (c sessionStore) UserSessions(ctx context.Context, user string, now time.Time) ([]auth.SessionRecord, error) {
	as, err := c.s.UserAuthSessions(ctx, user, now)
	out := make([]auth.SessionRecord, len(as))
	for i, a := range as {
		out[i] = recordOf(a)
	}
	return out, err
}

func (c sessionStore) AddLoginFailure(ctx context.Context, key string, at time.Time) error {
	return c.s.AddLoginFailure(ctx, key, at)
}

func (c sessionStore) ClearLoginFailures(ctx context.Context, key string, at time.Time) error {
	return c.s.ClearLoginFailures(ctx, key, at)
}

func (c sessionStore) SharedKey(ctx context.Context, name, candidate string) (string, error) {
	return c.s.SharedKey(ctx, name, candidate)
}

func (c sessionStore) LoginFailures(ctx context.Context, keys []string, since time.Time) (map[string][]time.Time, error) {
	return c.s.LoginFailures(ctx, keys, since)
}
