package auth

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// session is one signed-in browser.
type session struct {
	id      string
	user    string
	hash    string   // the password hash at sign-in: a new password ends the session
	ext     *extUser // a user of the OpenID Connect provider (oidc.go); nil for users-file users
	csrf    string
	created time.Time
	expires time.Time
}

// sessions is the in-memory session store. Sessions do not survive a
// restart: users sign in again.
type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	max int
}

func newSessions(max int) *sessions {
	return &sessions{m: map[string]*session{}, max: max}
}

// randomToken returns 256 random bits, base64url-encoded.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("auth: no randomness: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for user that lasts ttl.
func (s *sessions) create(user, hash string, now time.Time, ttl time.Duration) *session {
	ss := &session{id: randomToken(), user: user, hash: hash, csrf: randomToken(), created: now, expires: now.Add(ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		s.pruneLocked(now)
	}
	for len(s.m) >= s.max { // still full: drop the oldest
		var oldest *session
		for _, x := range s.m {
			if oldest == nil || x.created.Before(oldest.created) {
				oldest = x
			}
		}
		delete(s.m, oldest.id)
	}
	s.m[ss.id] = ss
	return ss
}

// get returns the live session with id, or nil. A session lasts until
// its expiry and at most ttl (the TTL in force, which a reload may have
// shortened) after it was created.
func (s *sessions) get(id string, now time.Time, ttl time.Duration) *session {
	if id == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[id]
	if ss == nil {
		return nil
	}
	if !now.Before(ss.expires) || !now.Before(ss.created.Add(ttl)) {
		delete(s.m, id)
		return nil
	}
	return ss
}

// delete ends the session with id.
func (s *sessions) delete(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// deleteUser ends every session of user.
func (s *sessions) deleteUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ss := range s.m {
		if ss.user == user {
			delete(s.m, id)
		}
	}
}

func (s *sessions) pruneLocked(now time.Time) {
	for id, ss := range s.m {
		if !now.Before(ss.expires) {
			delete(s.m, id)
		}
	}
}

// count is the number of sessions held (live or not yet pruned).
func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
