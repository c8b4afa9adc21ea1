package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AuthSession is one version of a signed-in session (auth.SessionRecord):
// its start, or its revocation. IDHash is the SHA-256 of the session token,
// never the token.
type AuthSession struct {
	IDHash, User, Secret, Ext string
	Created, Expires          time.Time
	Revoked                   bool
}

var authSessionCols = []string{"tenant", "id_hash", "user_name", "secret", "ext_json", "created", "expires", "revoked"}

// WriteAuthSession writes one version of a session.
func (s *Store) WriteAuthSession(ctx context.Context, a AuthSession) error {
	if a.IDHash == "" {
		return errors.New("writing a session: no id hash")
	}
	if err := checkDateTime("session start", a.Created); err != nil {
		return fmt.Errorf("writing a session of %s: %w", a.User, err)
	}
	if err := checkDateTime("session expiry", a.Expires); err != nil {
		return fmt.Errorf("writing a session of %s: %w", a.User, err)
	}
	rows := []AuthSession{a}
	type A = AuthSession
	err := s.insert(ctx, "auth_sessions", authSessionCols, 1, func(w *blockWriter, lo, hi int) {
		constStrCol(w, 0, 1, "")
		strCol(w, 1, rows, func(a *A) string { return a.IDHash })
		strCol(w, 2, rows, func(a *A) string { return a.User })
		strCol(w, 3, rows, func(a *A) string { return a.Secret })
		strCol(w, 4, rows, func(a *A) string { return a.Ext })
		timeCol(w, 5, rows, func(a *A) time.Time { return a.Created })
		timeCol(w, 6, rows, func(a *A) time.Time { return a.Expires })
		boolCol(w, 7, rows, func(a *A) bool { return a.Revoked })
	})
	if err != nil {
		return fmt.Errorf("writing a session of %s: %w", a.User, err)
	}
	return nil
}

// The versions of one session carry the same fields; a revocation is for
// good, so max(revoked) decides, whatever the order the versions were
// written in (no FINAL: it fails on Distributed tables).
const authSessionSelect = `SELECT id_hash, any(user_name), any(secret), any(ext_json), min(created), max(expires), max(revoked)
FROM auth_sessions
WHERE tenant = ''`

// AuthSession returns the session with id hash idHash; ok is false when
// there is none.
func (s *Store) AuthSession(ctx context.Context, idHash string) (AuthSession, bool, error) {
	out, err := s.scanAuthSessions(ctx, authSessionSelect+` AND id_hash = ?
GROUP BY id_hash`, idHash)
	if err != nil {
		return AuthSession{}, false, fmt.Errorf("reading a session: %w", err)
	}
	if len(out) == 0 {
		return AuthSession{}, false, nil
	}
	return out[0], true, nil
}

// UserAuthSessions returns user's sessions that are not revoked and
// expire after now.
func (s *Store) UserAuthSessions(ctx context.Context, user string, now time.Time) ([]AuthSession, error) {
	out, err := s.scanAuthSessions(ctx, authSessionSelect+` AND user_name = ? AND expires > toDateTime(?)
GROUP BY id_hash
HAVING max(revoked) = 0
ORDER BY id_hash`, user, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("reading the sessions of %s: %w", user, err)
	}
	return out, nil
}

func (s *Store) scanAuthSessions(ctx context.Context, q string, args ...any) ([]AuthSession, error) {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuthSession
	for rows.Next() {
		var (
			a       AuthSession
			revoked uint8
		)
		if err := rows.Scan(&a.IDHash, &a.User, &a.Secret, &a.Ext, &a.Created, &a.Expires, &revoked); err != nil {
			return nil, err
		}
		a.Created, a.Expires, a.Revoked = timeFromColumn(a.Created), timeFromColumn(a.Expires), revoked == 1
		out = append(out, a)
	}
	return out, rows.Err()
}

var authKeyCols = []string{"tenant", "name", "key", "created"}

// SharedKey returns the key stored under name: the least, should several
// have been stored at once. When there is none, it stores candidate and
// reads again; with candidate "" it only reads ("" when there is none).
func (s *Store) SharedKey(ctx context.Context, name, candidate string) (string, error) {
	read := func() (string, error) {
		var k string
		if err := s.conn.QueryRow(ctx, "SELECT min(key) FROM auth_keys WHERE tenant = '' AND name = ?", name).Scan(&k); err != nil {
			return "", fmt.Errorf("reading the shared key %s: %w", name, err)
		}
		return k, nil
	}
	k, err := read()
	if err != nil || k != "" || candidate == "" {
		return k, err
	}
	type K struct{ name, key string }
	rows := []K{{name, candidate}}
	err = s.insert(ctx, "auth_keys", authKeyCols, 1, func(w *blockWriter, lo, hi int) {
		constStrCol(w, 0, 1, "")
		strCol(w, 1, rows, func(k *K) string { return k.name })
		strCol(w, 2, rows, func(k *K) string { return k.key })
		timeCol(w, 3, rows, func(*K) time.Time { return time.Now() })
	})
	if err != nil {
		return "", fmt.Errorf("storing the shared key %s: %w", name, err)
	}
	return read()
}

var loginFailureCols = []string{"tenant", "key", "at", "at_ns", "cleared"}

type loginFailure struct {
	key     string
	at      time.Time
	cleared bool
}

func (s *Store) writeLoginFailure(ctx context.Context, f loginFailure) error {
	if f.key == "" {
		return errors.New("no key")
	}
	if err := checkDateTime("time", f.at); err != nil {
		return err
	}
	rows := []loginFailure{f}
	type F = loginFailure
	return s.insert(ctx, "auth_login_failures", loginFailureCols, 1, func(w *blockWriter, lo, hi int) {
		constStrCol(w, 0, 1, "")
		strCol(w, 1, rows, func(f *F) string { return f.key })
		timeCol(w, 2, rows, func(f *F) time.Time { return f.at })
		u64Col(w, 3, rows, func(f *F) uint64 { return uint64(f.at.UnixNano()) })
		boolCol(w, 4, rows, func(f *F) bool { return f.cleared })
	})
}

// AddLoginFailure records a failed sign-in under key (a hash of the
// client address, or of the address and the name typed).
func (s *Store) AddLoginFailure(ctx context.Context, key string, at time.Time) error {
	if err := s.writeLoginFailure(ctx, loginFailure{key: key, at: at}); err != nil {
		return fmt.Errorf("recording a failed sign-in: %w", err)
	}
	return nil
}

// ClearLoginFailures forgets key's failures up to at.
func (s *Store) ClearLoginFailures(ctx context.Context, key string, at time.Time) error {
	if err := s.writeLoginFailure(ctx, loginFailure{key: key, at: at, cleared: true}); err != nil {
		return fmt.Errorf("clearing failed sign-ins: %w", err)
	}
	return nil
}

// LoginFailures returns the failures of each of keys after since (and
// after the key's latest clearing), oldest first. Keys without any are
// left out.
func (s *Store) LoginFailures(ctx context.Context, keys []string, since time.Time) (map[string][]time.Time, error) {
	out := map[string][]time.Time{}
	for _, key := range keys {
		// The whole seconds of at let the primary key's order skip old
		// rows; at_ns decides exactly.
		rows, err := s.conn.Query(ctx, `SELECT at_ns, cleared
FROM auth_login_failures
WHERE tenant = '' AND key = ? AND at >= toDateTime(?) AND at_ns > ?
ORDER BY at_ns`, key, since.Unix(), uint64(max(since.UnixNano(), 0)))
		if err != nil {
			return nil, fmt.Errorf("reading failed sign-ins: %w", err)
		}
		var got []time.Time
		for rows.Next() {
			var (
				ns      uint64
				cleared uint8
			)
			if err := rows.Scan(&ns, &cleared); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading failed sign-ins: %w", err)
			}
			if cleared == 1 {
				got = got[:0]
				continue
			}
			got = append(got, time.Unix(0, int64(ns)))
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("reading failed sign-ins: %w", err)
		}
		if len(got) > 0 {
			out[key] = got
		}
	}
	return out, nil
}
