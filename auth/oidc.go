package auth

// Sign-in with the municipality's own OpenID Connect identity provider:
// authorization code flow with PKCE, state and nonce, the ID token
// verified against the provider's JWKS (go-oidc re-fetches the key set
// when a token names a key it has not seen, so key rotation needs
// nothing), and role and owners taken from the groups claim at every
// sign-in.

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCOptions configure sign-in with an OpenID Connect provider.
type OIDCOptions struct {
	// Issuer is the provider's issuer URL (discovery at
	// Issuer/.well-known/openid-configuration).
	Issuer   string
	ClientID string
	// ClientSecret is empty for a public client (PKCE only).
	ClientSecret string
	// RedirectURL is the callback registered at the provider.
	RedirectURL string
	// PostLogoutURL is where the provider's end-session endpoint sends the
	// browser after signing out ("" : the provider decides).
	PostLogoutURL string
	// DisplayName names the provider on the sign-in button (default
	// "organisationens konto").
	DisplayName string
	// Scopes requested (default openid, profile, email).
	Scopes []string
	// UsernameClaim is the user name (default preferred_username, falling
	// back to email); NameClaim the display name (default name);
	// GroupsClaim the groups or app roles (default groups).
	UsernameClaim, NameClaim, GroupsClaim string
	// DefaultRole is the role of users whose matching groups give owners
	// but no role (default Viewer). Users in no listed group get no access.
	DefaultRole Role
	Groups      []OIDCGroup
	// SessionTTL bounds a session from the provider (default and at most
	// Options.SessionTTL).
	SessionTTL time.Duration
	// ClockSkew is how far the provider's clock may be off (default 2m).
	ClockSkew time.Duration
	// HTTPClient talks to the provider (default http.DefaultClient with a
	// 30 s timeout).
	HTTPClient *http.Client
}

// OIDCGroup maps a value of the groups claim to a role and owners.
type OIDCGroup struct {
	Group  string
	Role   Role // "" : owners only (with DefaultRole)
	Owners []string
}

// ViaOIDC is Identity.Via for users signed in through the provider.
const ViaOIDC = "oidc"

// OIDCError is a refused or failed sign-in through the provider. Kind
// tells the page what to say; the error text is for the log.
type OIDCError struct {
	Kind   OIDCErrorKind
	Detail string
}

// OIDCErrorKind classifies an OIDCError.
type OIDCErrorKind string

const (
	// OIDCUnavailable: the provider could not be reached or answered wrongly.
	OIDCUnavailable OIDCErrorKind = "unavailable"
	// OIDCExpired: the sign-in attempt is unknown, expired or was not
	// started in this browser (state or its cookie missing or wrong).
	OIDCExpired OIDCErrorKind = "expired"
	// OIDCDenied: the provider said no (the user cancelled, or is not
	// allowed to use the application there).
	OIDCDenied OIDCErrorKind = "denied"
	// OIDCInvalid: the provider's answer failed verification (signature,
	// issuer, audience, expiry, nonce).
	OIDCInvalid OIDCErrorKind = "invalid"
	// OIDCNoAccess: signed in at the provider, but in no group that gives
	// access to Målbild.
	OIDCNoAccess OIDCErrorKind = "no_access"
)

func (e *OIDCError) Error() string { return "oidc sign-in: " + string(e.Kind) + ": " + e.Detail }

func oidcErr(kind OIDCErrorKind, format string, args ...any) *OIDCError {
	// The detail may quote the provider's answers: one line, bounded.
	return &OIDCError{Kind: kind, Detail: clean(fmt.Sprintf(format, args...), 500)}
}

// OIDCUser is a user who signed in through the provider since the server
// started, as the users page shows them.
type OIDCUser struct {
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name,omitempty"`
	Role        Role      `json:"role"`
	Owners      []string  `json:"owners,omitempty"`
	Groups      []string  `json:"groups,omitempty"` // the listed groups that matched
	Provider    string    `json:"provider"`
	Issuer      string    `json:"issuer"`
	Subject     string    `json:"sub"`
	LastLogin   time.Time `json:"last_login"`
}

// oidcFlow is one sign-in in progress, keyed by its state.
type oidcFlow struct {
	verifier, nonce, next string
	expires               time.Time
}

// extUser is the identity a provider's session carries (there is no
// users-file entry behind it).
type extUser struct {
	display string
	role    Role
	owners  []string
	idToken string // for id_token_hint at sign-out
}

const (
	oidcFlowTTL      = 10 * time.Minute
	oidcMaxFlows     = 10000
	oidcMaxSeenUsers = 10000
)

// oidcClient is the relying party.
type oidcClient struct {
	o   OIDCOptions
	now func() time.Time

	mu         sync.Mutex
	provider   *oidc.Provider // nil until discovered
	verifier   *oidc.IDTokenVerifier
	endSession string
	flows      map[string]*oidcFlow
	seen       map[string]OIDCUser
}

func newOIDCClient(o OIDCOptions, sessionTTL time.Duration, now func() time.Time) (*oidcClient, error) {
	switch {
	case o.Issuer == "":
		return nil, errors.New("auth: oidc needs an issuer URL")
	case o.ClientID == "":
		return nil, errors.New("auth: oidc needs a client id")
	case o.RedirectURL == "":
		return nil, errors.New("auth: oidc needs a redirect URL")
	case len(o.Groups) == 0:
		return nil, errors.New("auth: oidc needs groups: a user in no listed group has no access")
	}
	if len(o.Scopes) == 0 {
		o.Scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	}
	if o.DisplayName == "" {
		o.DisplayName = "organisationens konto"
	}
	if o.NameClaim == "" {
		o.NameClaim = "name"
	}
	if o.GroupsClaim == "" {
		o.GroupsClaim = "groups"
	}
	if o.DefaultRole == "" {
		o.DefaultRole = Viewer
	}
	if !o.DefaultRole.Valid() {
		return nil, fmt.Errorf("auth: oidc default role %q: want viewer, editor or admin", o.DefaultRole)
	}
	for _, g := range o.Groups {
		if g.Role != "" && !g.Role.Valid() {
			return nil, fmt.Errorf("auth: oidc group %q: role %q: want viewer, editor or admin", g.Group, g.Role)
		}
	}
	if o.SessionTTL <= 0 || o.SessionTTL > sessionTTL {
		o.SessionTTL = sessionTTL
	}
	if o.ClockSkew <= 0 {
		o.ClockSkew = 2 * time.Minute
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &oidcClient{o: o, now: now, flows: map[string]*oidcFlow{}, seen: map[string]OIDCUser{}}, nil
}

// discover fetches the provider's discovery document once; a failure is
// retried at the next sign-in.
func (c *oidcClient) discover(ctx context.Context) (*oidc.Provider, *oidc.IDTokenVerifier, error) {
	c.mu.Lock()
	p, v := c.provider, c.verifier
	c.mu.Unlock()
	if p != nil {
		return p, v, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, c.o.HTTPClient), c.o.Issuer)
	if err != nil {
		return nil, nil, oidcErr(OIDCUnavailable, "discovery at %s: %v", c.o.Issuer, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&extra); err != nil {
		return nil, nil, oidcErr(OIDCUnavailable, "discovery document of %s: %v", c.o.Issuer, err)
	}
	// Expiry is checked below with the configured clock skew.
	v = p.Verifier(&oidc.Config{ClientID: c.o.ClientID, SkipExpiryCheck: true, Now: c.now})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider == nil {
		c.provider, c.verifier, c.endSession = p, v, extra.EndSession
	}
	return c.provider, c.verifier, nil
}

func (c *oidcClient) config(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: c.o.ClientID, ClientSecret: c.o.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: c.o.RedirectURL, Scopes: c.o.Scopes}
}

func (c *oidcClient) addFlow(state string, f *oidcFlow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.flows) >= oidcMaxFlows {
		for k, x := range c.flows {
			if !now.Before(x.expires) {
				delete(c.flows, k)
			}
		}
	}
	for len(c.flows) >= oidcMaxFlows { // still full: drop the one closest to expiry
		var oldest string
		for k, x := range c.flows {
			if oldest == "" || x.expires.Before(c.flows[oldest].expires) {
				oldest = k
			}
		}
		delete(c.flows, oldest)
	}
	c.flows[state] = f
}

// takeFlow removes and returns the live flow of state (each state is
// good for one callback).
func (c *oidcClient) takeFlow(state string) *oidcFlow {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.flows[state]
	delete(c.flows, state)
	if f == nil || !c.now().Before(f.expires) {
		return nil
	}
	return f
}

func (c *oidcClient) remember(u OIDCUser) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[u.Name]; !ok && len(c.seen) >= oidcMaxSeenUsers {
		var oldest string
		for k, x := range c.seen {
			if oldest == "" || x.LastLogin.Before(c.seen[oldest].LastLogin) {
				oldest = k
			}
		}
		delete(c.seen, oldest)
	}
	c.seen[u.Name] = u
}

// OIDCEnabled reports whether sign-in through a provider is configured.
func (a *Authenticator) OIDCEnabled() bool { return a.oidc != nil }

// OIDCName is the provider's name for the sign-in button ("" when off).
func (a *Authenticator) OIDCName() string {
	if a.oidc == nil {
		return ""
	}
	return a.oidc.o.DisplayName
}

// OIDCUsers are the users who signed in through the provider since the
// server started, sorted by name: their role and owners as their groups
// gave them at their last sign-in.
func (a *Authenticator) OIDCUsers() []OIDCUser {
	if a.oidc == nil {
		return nil
	}
	a.oidc.mu.Lock()
	defer a.oidc.mu.Unlock()
	out := make([]OIDCUser, 0, len(a.oidc.seen))
	for _, u := range a.oidc.seen {
		u.Owners, u.Groups = slices.Clone(u.Owners), slices.Clone(u.Groups)
		out = append(out, u)
	}
	slices.SortFunc(out, func(x, y OIDCUser) int { return strings.Compare(x.Name, y.Name) })
	return out
}

func (a *Authenticator) oidcCookie() string {
	if a.cur().cookieSecure {
		return "__Host-malbild_oidc"
	}
	return "malbild_oidc"
}

// StartOIDC begins a sign-in through the provider: it remembers a new
// state with its nonce, PKCE verifier and next (a path on this site),
// binds the state to this browser with a short-lived cookie, and returns
// the provider's authorization URL to redirect to.
func (a *Authenticator) StartOIDC(w http.ResponseWriter, r *http.Request, next string) (string, error) {
	c := a.oidc
	if c == nil {
		return "", errors.New("auth: oidc is not configured")
	}
	p, _, err := c.discover(r.Context())
	if err != nil {
		return "", err
	}
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	if err := a.addFlow(r.Context(), state, &oidcFlow{verifier: verifier, nonce: nonce, next: SafeNext(next), expires: c.now().Add(oidcFlowTTL)}); err != nil {
		return "", err
	}
	// Lax, not Strict: the provider sends the browser back with a
	// top-level GET from its own site.
	http.SetCookie(w, &http.Cookie{Name: a.oidcCookie(), Value: state, Path: "/", MaxAge: int(oidcFlowTTL / time.Second),
		Secure: a.cur().cookieSecure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return c.config(p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// FinishOIDC handles the provider's redirect back: it checks the state
// against the browser's cookie and the flows in progress, exchanges the
// code (with the PKCE verifier), verifies the ID token (signature,
// issuer, audience, expiry with clock skew, nonce), maps the groups claim
// to a role and owners, and starts a session. It returns the identity
// and the path to continue to (also with an error, when the sign-in it
// belongs to is known, so the page can answer in its language). Every
// refusal is audited as login.failed.
func (a *Authenticator) FinishOIDC(w http.ResponseWriter, r *http.Request) (*Identity, string, error) {
	c := a.oidc
	if c == nil {
		return nil, "", errors.New("auth: oidc is not configured")
	}
	http.SetCookie(w, &http.Cookie{Name: a.oidcCookie(), Value: "", Path: "/", MaxAge: -1,
		Secure: a.cur().cookieSecure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	id, next, err := a.finishOIDC(w, r)
	if err != nil {
		var oe *OIDCError
		if !errors.As(err, &oe) {
			oe = oidcErr(OIDCUnavailable, "%v", err)
		}
		actor := ""
		if id != nil {
			actor = id.Name
		}
		if oe.Kind == OIDCNoAccess && actor != "" {
			// No longer in any listed group: whatever sessions the user
			// still has end now, not only at their TTL.
			if err := a.sessions.deleteUser(r.Context(), actor, true, a.opts.Now()); err != nil {
				a.opts.Logger.Error("auth: the provider sessions of a user without access could not be ended", "user", actor, "err", err)
			}
		}
		a.opts.Logger.Warn("auth: sign-in through the identity provider refused", "kind", oe.Kind, "user", actor, "reason", oe.Detail)
		a.emit(r.Context(), Event{Action: "login.failed", Actor: actor, Subject: actor, Remote: a.ClientIP(r), Reason: "oidc " + string(oe.Kind) + ": " + oe.Detail})
		return nil, next, oe
	}
	return id, next, nil
}

func (a *Authenticator) finishOIDC(w http.ResponseWriter, r *http.Request) (*Identity, string, error) {
	c := a.oidc
	q := r.URL.Query()
	state := q.Get("state")
	ck, err := r.Cookie(a.oidcCookie())
	stateOK := err == nil && state != "" && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(state)) == 1
	var flow *oidcFlow
	if stateOK {
		flow = a.takeFlow(r.Context(), state)
	}
	if e := q.Get("error"); e != "" {
		next := ""
		if flow != nil {
			next = flow.next
		}
		return nil, next, oidcErr(OIDCDenied, "the provider answered %s: %s", clean(e, 100), clean(q.Get("error_description"), 300))
	}
	if !stateOK {
		return nil, "", oidcErr(OIDCExpired, "state does not match this browser's sign-in")
	}
	if flow == nil {
		return nil, "", oidcErr(OIDCExpired, "unknown or expired state")
	}
	code := q.Get("code")
	if code == "" {
		return nil, flow.next, oidcErr(OIDCInvalid, "no code in the provider's answer")
	}
	p, verifier, err := c.discover(r.Context())
	if err != nil {
		return nil, flow.next, err
	}
	ctx := oidc.ClientContext(r.Context(), c.o.HTTPClient)
	tok, err := c.config(p).Exchange(ctx, code, oauth2.VerifierOption(flow.verifier))
	if err != nil {
		return nil, flow.next, oidcErr(OIDCUnavailable, "exchanging the code: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, flow.next, oidcErr(OIDCInvalid, "the token response has no id_token")
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return nil, flow.next, oidcErr(OIDCInvalid, "ID token: %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, flow.next, oidcErr(OIDCInvalid, "ID token claims: %v", err)
	}
	now, skew := c.now(), c.o.ClockSkew
	if !now.Before(idt.Expiry.Add(skew)) {
		return nil, flow.next, oidcErr(OIDCInvalid, "ID token expired at %s (now %s, clock skew %s)", idt.Expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew)
	}
	if nbf, ok := claims["nbf"].(float64); ok && now.Add(skew).Before(time.Unix(int64(nbf), 0)) {
		return nil, flow.next, oidcErr(OIDCInvalid, "ID token not valid before %s", time.Unix(int64(nbf), 0).UTC().Format(time.RFC3339))
	}
	if now.Add(skew).Before(idt.IssuedAt) {
		return nil, flow.next, oidcErr(OIDCInvalid, "ID token issued in the future (%s)", idt.IssuedAt.UTC().Format(time.RFC3339))
	}
	if len(idt.Audience) > 1 {
		if azp, _ := claims["azp"].(string); azp != c.o.ClientID {
			return nil, flow.next, oidcErr(OIDCInvalid, "ID token for several audiences without azp %q", c.o.ClientID)
		}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.nonce)) != 1 {
		return nil, flow.next, oidcErr(OIDCInvalid, "nonce does not match the sign-in")
	}
	u, err := c.mapClaims(claims, idt.Subject)
	if err != nil {
		return &Identity{Name: u.Name}, flow.next, err
	}
	u.Issuer, u.Subject, u.LastLogin = idt.Issuer, idt.Subject, now
	id, err := a.startExtSession(w, r, u, raw)
	if err != nil {
		return nil, flow.next, err
	}
	return id, flow.next, nil
}

// mapClaims reads the user name, display name and groups, and maps the
// groups to a role and owners. The returned user carries its name even
// when access is refused (for the audit trail).
func (c *oidcClient) mapClaims(claims map[string]any, sub string) (OIDCUser, error) {
	u := OIDCUser{Provider: c.o.DisplayName}
	nameClaims := []string{c.o.UsernameClaim}
	if c.o.UsernameClaim == "" {
		nameClaims = []string{"preferred_username", "email"}
	}
	for _, k := range nameClaims {
		if s, ok := claims[k].(string); ok && s != "" {
			u.Name = strings.ToLower(strings.TrimSpace(s))
			break
		}
	}
	if err := CheckName(u.Name); err != nil {
		bad := clean(u.Name, 100)
		u.Name = ""
		return u, oidcErr(OIDCInvalid, "no usable user name in claim %s (sub %s): %q", strings.Join(nameClaims, " or "), clean(sub, 100), bad)
	}
	if s, ok := claims[c.o.NameClaim].(string); ok {
		u.DisplayName = clean(s, MaxOwnerLen)
	}
	groups, err := stringsClaim(claims, c.o.GroupsClaim)
	if err != nil {
		return u, oidcErr(OIDCNoAccess, "%v", err)
	}
	var role Role
	for _, g := range c.o.Groups {
		if !slices.Contains(groups, g.Group) {
			continue
		}
		u.Groups = append(u.Groups, g.Group)
		if g.Role.rank() > role.rank() {
			role = g.Role
		}
		for _, o := range g.Owners {
			if !slices.Contains(u.Owners, o) {
				u.Owners = append(u.Owners, o)
			}
		}
	}
	if len(u.Groups) == 0 {
		return u, oidcErr(OIDCNoAccess, "%s is in no group listed under auth.oidc.groups (claim %s has %d values)", u.Name, c.o.GroupsClaim, len(groups))
	}
	if role == "" {
		role = c.o.DefaultRole
	}
	u.Role = role
	return u, nil
}

// stringsClaim reads a claim that holds a list of strings (or one string).
func stringsClaim(claims map[string]any, name string) ([]string, error) {
	switch v := claims[name].(type) {
	case nil:
		// Entra ID leaves the groups out when a user is in too many
		// ("groups overage") and points to Graph instead.
		if names, ok := claims["_claim_names"].(map[string]any); ok && names[name] != nil {
			return nil, fmt.Errorf("the provider left claim %s out (too many groups); send only the groups assigned to the application, or use app roles", name)
		}
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out, nil
	default:
		b, _ := json.Marshal(v)
		return nil, fmt.Errorf("claim %s is not a list of strings: %s", name, clean(string(b), 200))
	}
}

// clean makes s one line of valid UTF-8 of at most n bytes.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	return s
}

// startExtSession starts a session for a provider's user (ending the one
// the request came with), sets its cookie and audits the sign-in.
func (a *Authenticator) startExtSession(w http.ResponseWriter, r *http.Request, u OIDCUser, idToken string) (*Identity, error) {
	now := a.opts.Now()
	a.endOld(r, a.cur(), now)
	ttl := a.oidc.o.SessionTTL
	ss, err := a.sessions.create(r.Context(), u.Name, "", &extUser{display: u.DisplayName, role: u.Role, owners: slices.Clone(u.Owners), idToken: idToken}, now, ttl)
	if err != nil {
		return nil, err
	}
	http.SetCookie(w, &http.Cookie{Name: a.sessionCookie(), Value: ss.id, Path: "/", Expires: ss.expires,
		MaxAge: int(ttl / time.Second), Secure: a.cur().cookieSecure, HttpOnly: true, SameSite: a.cur().sameSite})
	a.oidc.remember(u)
	a.emit(r.Context(), Event{Action: "login", Actor: u.Name, Role: u.Role, Subject: u.Name, Remote: a.ClientIP(r), After: u, Reason: "oidc: " + u.Provider})
	return a.extIdentity(ss), nil
}

// deleteExt ends every provider session of user (users-file sessions of
// the same name stay).
func (s *sessions) deleteExt(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ss := range s.m {
		if ss.user == user && ss.ext != nil {
			delete(s.m, id)
		}
	}
}

// createExt starts a session for a provider's user, lasting at most ttl.
func (s *sessions) createExt(user string, x *extUser, now time.Time, ttl time.Duration) *session {
	ss := s.create(user, "", now, ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	ss.ext = x
	return ss
}

// extIdentity is the identity of a provider's session.
func (a *Authenticator) extIdentity(ss *session) *Identity {
	x := ss.ext
	return &Identity{Name: ss.user, Display: cmpOr(x.display, ss.user), Role: x.role, Owners: slices.Clone(x.owners),
		Via: ViaOIDC, allEditors: a.cur().allEditors, csrf: ss.csrf, sessionID: ss.id}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// SignOutURL is where to send the browser after Logout of id: the
// provider's end-session endpoint (with id_token_hint, client_id and
// post_logout_redirect_uri) for a user signed in through a provider that
// offers one; "" otherwise. Call it before Logout.
func (a *Authenticator) SignOutURL(id *Identity) string {
	if a.oidc == nil || id == nil || id.Via != ViaOIDC || id.sessionID == "" {
		return ""
	}
	a.oidc.mu.Lock()
	end := a.oidc.endSession
	a.oidc.mu.Unlock()
	if end == "" {
		return ""
	}
	u, err := url.Parse(end)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	v := u.Query()
	if ss, _ := a.sessions.get(context.Background(), id.sessionID, a.opts.Now(), a.cur().sessionTTL, true); ss != nil && ss.ext != nil && ss.ext.idToken != "" {
		v.Set("id_token_hint", ss.ext.idToken)
	}
	v.Set("client_id", a.oidc.o.ClientID)
	if a.oidc.o.PostLogoutURL != "" {
		v.Set("post_logout_redirect_uri", a.oidc.o.PostLogoutURL)
	}
	u.RawQuery = v.Encode()
	return u.String()
}
