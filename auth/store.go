package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// SessionStore keeps the sessions and the sign-in limiter's failures
// where every serve process of an installation sees them (Options.Store),
// so that several processes behind a load balancer act as one: a sign-in
// on one is valid on all, a sign-out on one ends the session on all, and
// failed sign-ins on one count on all.
//
// Why a server-side store and not signed, encrypted cookies with a shared
// key file: revocation needs a shared table anyway (a cookie cannot be
// taken back), so cookies would add a key file to distribute, rotate and
// protect on every host without removing the table; a server-side
// session also ends for good when its user is removed or changes
// password, on every replica. The store never sees a session token:
// records are keyed by the token's SHA-256 (TokenHash), and a session's
// CSRF token is derived from the token, so it is not stored either.
//
// Without a store (Options.Store nil) sessions and limits live in memory
// in the process, as they always did: fine for one process.
type SessionStore interface {
	// SaveSession writes one version of a session: its start, or its
	// revocation (Revoked set, the other fields as at the start).
	SaveSession(ctx context.Context, rec SessionRecord) error
	// Session returns the session with id hash idHash as its versions
	// say together (revoked once, revoked for good); ok false when there
	// is none.
	Session(ctx context.Context, idHash string) (rec SessionRecord, ok bool, err error)
	// UserSessions returns user's sessions that are not revoked and
	// expire after now.
	UserSessions(ctx context.Context, user string, now time.Time) ([]SessionRecord, error)
	// AddLoginFailure records a failed sign-in under key at at;
	// ClearLoginFailures forgets key's failures up to at (a successful
	// sign-in).
	AddLoginFailure(ctx context.Context, key string, at time.Time) error
	ClearLoginFailures(ctx context.Context, key string, at time.Time) error
	// LoginFailures returns, for each of keys, its failures after since
	// and after its latest clearing, oldest first.
	LoginFailures(ctx context.Context, keys []string, since time.Time) (map[string][]time.Time, error)
	// SharedKey returns the key stored under name (the least, should
	// several have been stored at once), storing candidate first when
	// there is none; with candidate "" it only reads ("" when none).
	SharedKey(ctx context.Context, name, candidate string) (string, error)
}

// SessionRecord is a session as a SessionStore keeps it.
type SessionRecord struct {
	// IDHash is TokenHash of the session token.
	IDHash string
	User   string
	// Secret is a fingerprint of the user's password hash at sign-in
	// (a new password ends the session); "" for provider users.
	Secret string
	// Ext is the provider user of an OpenID Connect session as JSON
	// (display name, role, owners, ID token for the sign-out); "" for
	// users-file users.
	Ext              string
	Created, Expires time.Time
	Revoked          bool
}

// TokenHash is the key a SessionStore keeps a session under: the hex
// SHA-256 of its token.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// csrfOf is the CSRF token of the session with token tok: derived, so
// that every replica computes the same without storing it.
func csrfOf(tok string) string {
	mac := hmac.New(sha256.New, []byte(tok))
	mac.Write([]byte("malbild csrf"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// passwordMark is what a session keeps of its user's password hash: a
// fingerprint that tells a changed password, and that is no use to
// anybody who reads the sessions table.
func passwordMark(hash string) string {
	if hash == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("malbild session\x00" + hash))
	return hex.EncodeToString(sum[:12])
}

// headerKeyName is the SharedKey of the CSRF tokens of trusted-header
// users, so that a form one replica rendered posts to another.
const headerKeyName = "csrf-header"

// headerKeyRefresh is how often a replica reads the shared key again:
// two replicas that started at the same moment on an empty store may
// each have stored a key of their own, and agree on the least within
// this time.
const headerKeyRefresh = time.Minute

// csrfKey returns the HMAC key of the CSRF tokens of header users.
func (a *Authenticator) csrfKey() []byte {
	a.keyMu.Lock()
	defer a.keyMu.Unlock()
	if a.opts.Store != nil && a.opts.Now().Sub(a.keyRead) >= headerKeyRefresh {
		k, err := a.opts.Store.SharedKey(context.Background(), headerKeyName, "")
		switch {
		case err != nil:
			a.opts.Logger.Warn("auth: reading the shared CSRF key; keeping the one read before", "err", err)
		case k != "":
			a.key = []byte(k)
		}
		a.keyRead = a.opts.Now()
	}
	return a.key
}

// flowKey is the id hash an OpenID Connect sign-in in progress is kept
// under in a SessionStore: never that of a session token (a cookie
// cannot hold the NUL).
func flowKey(state string) string { return TokenHash("oidc-flow\x00" + state) }

// flowJSON is an oidcFlow as stored.
type flowJSON struct {
	Verifier string `json:"verifier"`
	Nonce    string `json:"nonce"`
	Next     string `json:"next"`
}

// addFlow remembers a sign-in in progress: in the store, so that the
// provider may send the browser back to any replica, or in memory.
func (a *Authenticator) addFlow(ctx context.Context, state string, f *oidcFlow) error {
	if a.opts.Store == nil {
		a.oidc.addFlow(state, f)
		return nil
	}
	b, _ := json.Marshal(flowJSON{Verifier: f.verifier, Nonce: f.nonce, Next: f.next})
	rec := SessionRecord{IDHash: flowKey(state), Ext: string(b), Created: a.oidc.now(), Expires: f.expires}
	if err := a.opts.Store.SaveSession(ctx, rec); err != nil {
		return fmt.Errorf("auth: remembering a sign-in through the identity provider: %w", err)
	}
	return nil
}

// takeFlow removes and returns the live sign-in in progress of state
// (each state is good for one callback), or nil.
func (a *Authenticator) takeFlow(ctx context.Context, state string) *oidcFlow {
	if a.opts.Store == nil {
		return a.oidc.takeFlow(state)
	}
	rec, ok, err := a.opts.Store.Session(ctx, flowKey(state))
	if err != nil {
		a.opts.Logger.Warn("auth: reading a sign-in through the identity provider", "err", err)
		return nil
	}
	if !ok || rec.Revoked || rec.Ext == "" || !a.oidc.now().Before(rec.Expires) {
		return nil
	}
	rec.Revoked = true
	if err := a.opts.Store.SaveSession(ctx, rec); err != nil {
		a.opts.Logger.Warn("auth: using up a sign-in through the identity provider", "err", err)
		return nil
	}
	var f flowJSON
	if err := json.Unmarshal([]byte(rec.Ext), &f); err != nil {
		return nil
	}
	return &oidcFlow{verifier: f.Verifier, nonce: f.Nonce, next: f.Next, expires: rec.Expires}
}

// sessionBackend is where an Authenticator keeps its sessions: memory
// (sessions) or a SessionStore (storeSessions).
type sessionBackend interface {
	create(ctx context.Context, user, mark string, ext *extUser, now time.Time, ttl time.Duration) (*session, error)
	// get returns the live session with token id, or nil. readOnly says
	// the request only reads: a shared store that does not answer may
	// then be stood in for by what this process saw last.
	get(ctx context.Context, id string, now time.Time, ttl time.Duration, readOnly bool) (*session, error)
	delete(ctx context.Context, id string, now time.Time) error
	// deleteUser ends user's sessions: every one, or only those of the
	// identity provider (extOnly).
	deleteUser(ctx context.Context, user string, extOnly bool, now time.Time) error
}

// memSessions is the in-memory backend.
type memSessions struct{ s *sessions }

func (m memSessions) create(_ context.Context, user, mark string, ext *extUser, now time.Time, ttl time.Duration) (*session, error) {
	if ext != nil {
		return m.s.createExt(user, ext, now, ttl), nil
	}
	return m.s.create(user, mark, now, ttl), nil
}

func (m memSessions) get(_ context.Context, id string, now time.Time, ttl time.Duration, _ bool) (*session, error) {
	return m.s.get(id, now, ttl), nil
}

func (m memSessions) delete(_ context.Context, id string, _ time.Time) error {
	m.s.delete(id)
	return nil
}

func (m memSessions) deleteUser(_ context.Context, user string, extOnly bool, _ time.Time) error {
	if extOnly {
		m.s.deleteExt(user)
	} else {
		m.s.deleteUser(user)
	}
	return nil
}

// storeSessions keeps sessions in a SessionStore. Every request reads
// its session from the store, so a sign-out on another replica counts
// from the next request on. seen remembers the sessions this process
// read last (bounded, least recently used out first); it stands in for
// the store only for requests that read while the store does not answer
// (the pages keep showing the last good data in an outage), never for a
// write.
type storeSessions struct {
	store SessionStore
	log   *slog.Logger
	mu    sync.Mutex
	seen  *simplelru.LRU[string, *session]
}

func newStoreSessions(store SessionStore, max int, log *slog.Logger) *storeSessions {
	seen, err := simplelru.NewLRU[string, *session](max, nil)
	if err != nil {
		panic("auth: sessions: " + err.Error()) // only for max <= 0, which New rules out
	}
	return &storeSessions{store: store, log: log, seen: seen}
}

// extJSON is extUser as stored.
type extJSON struct {
	Display string   `json:"display,omitempty"`
	Role    Role     `json:"role"`
	Owners  []string `json:"owners,omitempty"`
	IDToken string   `json:"id_token,omitempty"`
}

func (s *storeSessions) create(ctx context.Context, user, mark string, ext *extUser, now time.Time, ttl time.Duration) (*session, error) {
	tok := randomToken()
	ss := &session{id: tok, user: user, hash: mark, ext: ext, csrf: csrfOf(tok), created: now, expires: now.Add(ttl)}
	if err := s.store.SaveSession(ctx, recordOf(ss, false)); err != nil {
		return nil, fmt.Errorf("auth: starting a session for %s: %w", user, err)
	}
	s.remember(ss)
	return ss, nil
}

func recordOf(ss *session, revoked bool) SessionRecord {
	rec := SessionRecord{IDHash: TokenHash(ss.id), User: ss.user, Secret: ss.hash,
		Created: ss.created, Expires: ss.expires, Revoked: revoked}
	if x := ss.ext; x != nil {
		b, _ := json.Marshal(extJSON{Display: x.display, Role: x.role, Owners: x.owners, IDToken: x.idToken})
		rec.Ext = string(b)
	}
	return rec
}

func (s *storeSessions) remember(ss *session) {
	s.mu.Lock()
	s.seen.Add(TokenHash(ss.id), ss)
	s.mu.Unlock()
}

func (s *storeSessions) forget(idHash string) {
	s.mu.Lock()
	s.seen.Remove(idHash)
	s.mu.Unlock()
}

func live(ss *session, now time.Time, ttl time.Duration) bool {
	return now.Before(ss.expires) && now.Before(ss.created.Add(ttl))
}

func (s *storeSessions) get(ctx context.Context, id string, now time.Time, ttl time.Duration, readOnly bool) (*session, error) {
	if id == "" || len(id) > 100 {
		return nil, nil
	}
	h := TokenHash(id)
	rec, ok, err := s.store.Session(ctx, h)
	if err != nil {
		s.mu.Lock()
		ss, known := s.seen.Get(h)
		s.mu.Unlock()
		if readOnly && known && live(ss, now, ttl) {
			s.log.Warn("auth: the session store does not answer; a session seen before may read", "user", ss.user, "err", err)
			return ss, nil
		}
		return nil, fmt.Errorf("auth: reading a session: %w", err)
	}
	if !ok || rec.Revoked {
		s.forget(h)
		return nil, nil
	}
	ss := &session{id: id, user: rec.User, hash: rec.Secret, csrf: csrfOf(id), created: rec.Created, expires: rec.Expires}
	if rec.Ext != "" {
		var x extJSON
		if err := json.Unmarshal([]byte(rec.Ext), &x); err != nil {
			return nil, fmt.Errorf("auth: session of %s: provider user: %w", rec.User, err)
		}
		ss.ext = &extUser{display: x.Display, role: x.Role, owners: x.Owners, idToken: x.IDToken}
	}
	if !live(ss, now, ttl) {
		s.forget(h)
		return nil, nil
	}
	s.remember(ss)
	return ss, nil
}

func (s *storeSessions) delete(ctx context.Context, id string, now time.Time) error {
	if id == "" || len(id) > 100 {
		return nil
	}
	h := TokenHash(id)
	s.forget(h)
	rec, ok, err := s.store.Session(ctx, h)
	if err != nil {
		return fmt.Errorf("auth: ending a session: %w", err)
	}
	if !ok || rec.Revoked {
		return nil
	}
	rec.Revoked = true
	if err := s.store.SaveSession(ctx, rec); err != nil {
		return fmt.Errorf("auth: ending the session of %s: %w", rec.User, err)
	}
	return nil
}

func (s *storeSessions) deleteUser(ctx context.Context, user string, extOnly bool, now time.Time) error {
	s.mu.Lock()
	for _, h := range s.seen.Keys() {
		if ss, ok := s.seen.Peek(h); ok && ss.user == user && (!extOnly || ss.ext != nil) {
			s.seen.Remove(h)
		}
	}
	s.mu.Unlock()
	recs, err := s.store.UserSessions(ctx, user, now)
	if err != nil {
		return fmt.Errorf("auth: ending the sessions of %s: %w", user, err)
	}
	var errs []error
	for _, rec := range recs {
		if extOnly && rec.Ext == "" {
			continue
		}
		rec.Revoked = true
		if err := s.store.SaveSession(ctx, rec); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("auth: ending the sessions of %s: %w", user, err)
	}
	return nil
}

// limitBackend is where the sign-in limits are counted: memory
// (loginLimits) or a SessionStore (storeLimits).
type limitBackend interface {
	check(ctx context.Context, ip, name string, now time.Time) (rl *RateLimitError, byAddress bool, err error)
	failed(ctx context.Context, ip, name string, now time.Time) error
	succeeded(ctx context.Context, ip, name string, now time.Time) error
}

type memLimits struct{ l *loginLimits }

func (m memLimits) check(_ context.Context, ip, name string, now time.Time) (*RateLimitError, bool, error) {
	rl, byAddress := m.l.check(ip, name, now)
	return rl, byAddress, nil
}

func (m memLimits) failed(_ context.Context, ip, name string, now time.Time) error {
	m.l.failed(ip, name, now)
	return nil
}

func (m memLimits) succeeded(_ context.Context, ip, name string, _ time.Time) error {
	m.l.succeeded(ip, name)
	return nil
}

// storeLimits counts failed sign-ins in a SessionStore, so that failures
// on one replica count on all. The keys are hashed (an address, or an
// address and the name typed, which is sometimes a password typed in
// the wrong field). The state is bounded: a key is refused once it has
// limit failures in the window, and refusals are not recorded, so a key
// adds at most limit rows per window.
type storeLimits struct {
	store     SessionStore
	addrLimit int
	pairLimit int
	window    time.Duration
}

func limitKey(kind, s string) string {
	sum := sha256.Sum256([]byte("malbild login\x00" + kind + "\x00" + s))
	return hex.EncodeToString(sum[:16])
}

// blockedBy is limiter.blocked over failures h (oldest first).
func blockedBy(h []time.Time, limit int, window time.Duration, now time.Time) (bool, time.Duration) {
	i := 0
	for i < len(h) && !h[i].After(now.Add(-window)) {
		i++
	}
	h = h[i:]
	if len(h) < limit {
		return false, 0
	}
	return true, h[len(h)-limit].Add(window).Sub(now)
}

func (l *storeLimits) check(ctx context.Context, ip, name string, now time.Time) (*RateLimitError, bool, error) {
	ak, pk := limitKey("address", ip), limitKey("pair", pairKey(ip, name))
	got, err := l.store.LoginFailures(ctx, []string{ak, pk}, now.Add(-l.window))
	if err != nil {
		return nil, false, fmt.Errorf("auth: reading failed sign-ins: %w", err)
	}
	if ok, wait := blockedBy(got[ak], l.addrLimit, l.window, now); ok {
		return &RateLimitError{RetryAfter: wait}, true, nil
	}
	if ok, wait := blockedBy(got[pk], l.pairLimit, l.window, now); ok {
		return &RateLimitError{RetryAfter: wait}, false, nil
	}
	return nil, false, nil
}

func (l *storeLimits) failed(ctx context.Context, ip, name string, now time.Time) error {
	if err := l.store.AddLoginFailure(ctx, limitKey("address", ip), now); err != nil {
		return fmt.Errorf("auth: recording a failed sign-in: %w", err)
	}
	if err := l.store.AddLoginFailure(ctx, limitKey("pair", pairKey(ip, name)), now); err != nil {
		return fmt.Errorf("auth: recording a failed sign-in: %w", err)
	}
	return nil
}

func (l *storeLimits) succeeded(ctx context.Context, ip, name string, now time.Time) error {
	if err := l.store.ClearLoginFailures(ctx, limitKey("pair", pairKey(ip, name)), now); err != nil {
		return fmt.Errorf("auth: clearing failed sign-ins: %w", err)
	}
	return nil
}
