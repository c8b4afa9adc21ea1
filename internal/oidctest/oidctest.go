// Package oidctest runs a real OpenID Connect provider in-process on
// loopback for tests: github.com/oauth2-proxy/mockoidc's authorization,
// token, userinfo and discovery endpoints, plus what tests of a relying
// party need beyond it — users with any claims (groups, a wrong audience,
// an expired token, a wrong nonce), signing keys that rotate or are not
// published, and an end-session endpoint.
package oidctest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// EndSessionPath is the provider's end-session endpoint.
const EndSessionPath = mockoidc.IssuerBase + "/logout"

var (
	clockOnce sync.Once
	clockMu   sync.Mutex
	clockNow  func() time.Time
)

// setClock makes now the provider's clock. mockoidc reads its time from a
// package variable, so it is set once to a function that asks the clock
// of the test running now.
func setClock(now func() time.Time) {
	clockOnce.Do(func() {
		mockoidc.NowFunc = func() time.Time {
			clockMu.Lock()
			f := clockNow
			clockMu.Unlock()
			return f()
		}
	})
	clockMu.Lock()
	clockNow = now
	clockMu.Unlock()
}

// Provider is a running provider.
type Provider struct {
	m   *mockoidc.MockOIDC
	srv *http.Server

	// mu serialises the provider's handlers and the tests' changes to its
	// keys (mockoidc itself has no locks).
	mu         sync.Mutex
	published  []*mockoidc.Keypair
	jwksHits   int
	endSession []url.Values
}

// Start runs a provider on 127.0.0.1 with now as its clock, stopped when
// the test ends.
func Start(t testing.TB, now func() time.Time) *Provider {
	t.Helper()
	setClock(now)
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	m.CodeChallengeMethodsSupported = []string{"S256"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{m: m, published: []*mockoidc.Keypair{m.Keypair}}
	mux := http.NewServeMux()
	locked := func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.mu.Lock()
			defer p.mu.Unlock()
			h(w, r)
		})
	}
	mux.Handle(mockoidc.AuthorizationEndpoint, locked(func(w http.ResponseWriter, r *http.Request) {
		// Like a provider configured to require PKCE (Keycloak's "PKCE
		// method: S256", Entra ID for public clients).
		if r.FormValue("code_challenge_method") != "S256" || r.FormValue("code_challenge") == "" {
			http.Error(w, "invalid_request: PKCE with S256 is required", http.StatusBadRequest)
			return
		}
		m.Authorize(w, r)
	}))
	mux.Handle(mockoidc.TokenEndpoint, locked(m.Token))
	mux.Handle(mockoidc.UserinfoEndpoint, locked(m.Userinfo))
	mux.Handle(mockoidc.JWKSEndpoint, locked(p.jwks))
	mux.Handle(mockoidc.DiscoveryEndpoint, locked(p.discovery))
	mux.Handle(EndSessionPath, locked(p.logout))
	p.srv = &http.Server{Addr: ln.Addr().String(), Handler: mux}
	m.Server = p.srv // mockoidc derives its issuer from Server.Addr
	go p.srv.Serve(ln)
	t.Cleanup(func() { p.srv.Close() })
	return p
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.m.Issuer() }

// ClientID and ClientSecret are the credentials of the one registered client.
func (p *Provider) ClientID() string     { return p.m.ClientID }
func (p *Provider) ClientSecret() string { return p.m.ClientSecret }

// Queue makes u the user of the next authorization request (without one
// queued, mockoidc signs in its default user).
func (p *Provider) Queue(u *User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m.QueueUser(u)
}

// Rotate signs from now on with a new key and publishes only it, as a
// provider does after rolling its keys.
func (p *Provider) Rotate(t testing.TB) {
	t.Helper()
	kp := newKeypair(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m.Keypair = kp
	p.published = []*mockoidc.Keypair{kp}
}

// SignWithUnpublishedKey signs from now on with a key the JWKS does not
// contain (a forged token, or a key the provider never announced).
func (p *Provider) SignWithUnpublishedKey(t testing.TB) {
	t.Helper()
	kp := newKeypair(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m.Keypair = kp
}

// JWKSFetches is how often the key set was fetched.
func (p *Provider) JWKSFetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jwksHits
}

// EndSessionCalls are the query parameters of each end-session request.
func (p *Provider) EndSessionCalls() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.endSession...)
}

func newKeypair(t testing.TB) *mockoidc.Keypair {
	kp, err := mockoidc.RandomKeypair(2048)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	p.jwksHits++
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	for _, kp := range p.published {
		b, err := kp.JWKS()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var one struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(b, &one); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		set.Keys = append(set.Keys, one.Keys...)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(set)
}

// discovery is mockoidc's document with an end_session_endpoint added.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	p.m.Discovery(rec, r)
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	doc["end_session_endpoint"] = p.m.Addr() + EndSessionPath
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}

// logout records the request and sends the browser to
// post_logout_redirect_uri, or shows a page.
func (p *Provider) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.endSession = append(p.endSession, q)
	if to := q.Get("post_logout_redirect_uri"); to != "" {
		http.Redirect(w, r, to, http.StatusFound)
		return
	}
	w.Write([]byte("signed out"))
}

// User is a user of the provider with the claims a test wants.
type User struct {
	Subject, Username, Name, Email string
	// Groups go into the claim GroupsClaim (default "groups").
	Groups      []string
	GroupsClaim string
	// Token, when set, changes the ID token's standard claims (audience,
	// expiry, nonce) before it is signed.
	Token func(c *mockoidc.IDTokenClaims)
}

// ID implements mockoidc.User.
func (u *User) ID() string { return u.Subject }

// Userinfo implements mockoidc.User.
func (u *User) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]any{"sub": u.Subject, "preferred_username": u.Username, "name": u.Name, "email": u.Email})
}

type claims struct {
	*mockoidc.IDTokenClaims
	extra map[string]any
}

// MarshalJSON flattens the standard claims and the extra ones.
func (c claims) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(c.IDTokenClaims)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range c.extra {
		m[k] = v
	}
	return json.Marshal(m)
}

// Claims implements mockoidc.User.
func (u *User) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	if u.Token != nil {
		u.Token(base)
	}
	extra := map[string]any{}
	if u.Username != "" {
		extra["preferred_username"] = u.Username
	}
	if u.Name != "" {
		extra["name"] = u.Name
	}
	if u.Email != "" {
		extra["email"] = u.Email
	}
	gc := u.GroupsClaim
	if gc == "" {
		gc = "groups"
	}
	if u.Groups != nil {
		extra[gc] = u.Groups
	}
	return claims{IDTokenClaims: base, extra: extra}, nil
}
