package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memStore is a SessionStore in memory, shared by the Authenticators of
// a test as ClickHouse is by serve replicas.
type memStore struct {
	mu       sync.Mutex
	down     bool // Session fails, as a store that does not answer
	versions map[string][]SessionRecord
	failures map[string][]failureRow
	keys     map[string][]string
}

type failureRow struct {
	at      time.Time
	cleared bool
}

func newMemStore() *memStore {
	return &memStore{versions: map[string][]SessionRecord{}, failures: map[string][]failureRow{}, keys: map[string][]string{}}
}

func (m *memStore) SaveSession(_ context.Context, r SessionRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.versions[r.IDHash] = append(m.versions[r.IDHash], r)
	return nil
}

func (m *memStore) Session(_ context.Context, h string) (SessionRecord, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return SessionRecord{}, false, errors.New("store down")
	}
	vs := m.versions[h]
	if len(vs) == 0 {
		return SessionRecord{}, false, nil
	}
	r := vs[0]
	for _, v := range vs {
		r.Revoked = r.Revoked || v.Revoked
	}
	return r, true, nil
}

func (m *memStore) UserSessions(ctx context.Context, user string, now time.Time) ([]SessionRecord, error) {
	m.mu.Lock()
	var hs []string
	for h, vs := range m.versions {
		if vs[0].User == user {
			hs = append(hs, h)
		}
	}
	m.mu.Unlock()
	var out []SessionRecord
	for _, h := range hs {
		if r, _, _ := m.Session(ctx, h); !r.Revoked && r.Expires.After(now) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memStore) AddLoginFailure(_ context.Context, key string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures[key] = append(m.failures[key], failureRow{at: at})
	return nil
}

func (m *memStore) ClearLoginFailures(_ context.Context, key string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures[key] = append(m.failures[key], failureRow{at: at, cleared: true})
	return nil
}

func (m *memStore) LoginFailures(_ context.Context, keys []string, since time.Time) (map[string][]time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]time.Time{}
	for _, k := range keys {
		var got []time.Time
		for _, f := range m.failures[k] {
			switch {
			case !f.at.After(since):
			case f.cleared:
				got = nil
			default:
				got = append(got, f.at)
			}
		}
		if len(got) > 0 {
			out[k] = got
		}
	}
	return out, nil
}

func (m *memStore) SharedKey(_ context.Context, name, candidate string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.keys[name]) == 0 && candidate != "" {
		m.keys[name] = append(m.keys[name], candidate)
	}
	if len(m.keys[name]) == 0 {
		return "", nil
	}
	return slices.Min(m.keys[name]), nil
}

// TestReplicaStoreKeepsNoToken: what a sign-in stores holds neither the
// session token nor the password hash, and two Authenticators over one
// store share the session, its CSRF token and its end.
func TestReplicaStoreKeepsNoToken(t *testing.T) {
	store := newMemStore()
	a, _, _, _ := newTestAuth(t, func(o *Options) { o.Store = store })
	b, err := New(a.opts)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	id, err := a.Login(w, request("POST", "/logga-in", "192.0.2.1:5000"), "anna", annaPW)
	if err != nil {
		t.Fatal(err)
	}
	c := w.Result().Cookies()[0]
	for _, vs := range store.versions {
		for _, v := range vs {
			if strings.Contains(v.IDHash+v.Secret+v.Ext, c.Value) || strings.Contains(v.Secret, "$2") {
				t.Fatalf("the store holds the token or the password hash: %+v", v)
			}
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/x", nil)
	r.AddCookie(c)
	got := b.Identify(r)
	if got == nil || got.Name != "anna" || got.CSRFToken() != id.CSRFToken() {
		t.Fatalf("B's identity of A's session: %+v", got)
	}
	a.Logout(httptest.NewRecorder(), r, got)
	if b.Identify(r) != nil {
		t.Fatal("B still knows the session A signed out")
	}
}

// TestReplicaHeaderCSRF: the CSRF token of a trusted-header user is the
// same on every replica over one store, so a form one rendered posts to
// the other; without a store each process has its own key.
func TestReplicaHeaderCSRF(t *testing.T) {
	store := newMemStore()
	o := Options{TrustedHeader: "X-Remote-User", Proxies: []string{"127.0.0.2"}, Store: store}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "127.0.0.2:4000"
	r.Header.Set("X-Remote-User", "bo")
	ia, ib := a.Identify(r), b.Identify(r)
	if ia == nil || ib == nil || ia.CSRFToken() != ib.CSRFToken() {
		t.Fatalf("header users' CSRF tokens differ between replicas: %+v, %+v", ia, ib)
	}
	post := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(url.Values{CSRFField: {ia.CSRFToken()}}.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !CheckCSRF(post, ib) {
		t.Error("B refuses the token of A's form")
	}
}

// TestReplicaPasswordChange: a replica that reloads the users file and
// finds a password changed ends the user's sessions on every replica,
// also on one that has not read the new file yet.
func TestReplicaPasswordChange(t *testing.T) {
	store := newMemStore()
	a, _, _, path := newTestAuth(t, func(o *Options) { o.Store = store })
	b, err := New(a.opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := login(t, a, "anna", annaPW, "192.0.2.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	r := request("GET", "/", "192.0.2.1:5000")
	r.AddCookie(c)
	if b.Identify(r) == nil {
		t.Fatal("B does not know A's session")
	}
	writeUsers(t, path, User{Name: "anna", Role: Admin, PasswordHash: testHash(t, "ett-nytt-lösenord-2")})
	if err := a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b.Identify(r) != nil {
		t.Fatal("B, with the old users file, still takes the session of a changed password")
	}
}

// TestReplicaStoreDown: while the store does not answer, a session this
// replica has seen may still read pages, but not write; another
// replica, which never saw it, refuses it.
func TestReplicaStoreDown(t *testing.T) {
	store := newMemStore()
	a, _, _, _ := newTestAuth(t, func(o *Options) { o.Store = store })
	b, err := New(a.opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := login(t, a, "anna", annaPW, "192.0.2.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	store.mu.Lock()
	store.down = true
	store.mu.Unlock()
	for _, tc := range []struct {
		a      *Authenticator
		method string
		want   bool
	}{{a, "GET", true}, {a, "POST", false}, {b, "GET", false}} {
		r := request(tc.method, "/", "192.0.2.1:5000")
		r.AddCookie(c)
		if got := tc.a.Identify(r) != nil; got != tc.want {
			t.Errorf("%s on %s with the store down: signed in %v, want %v", tc.method, map[bool]string{true: "A", false: "B"}[tc.a == a], got, tc.want)
		}
	}
}
