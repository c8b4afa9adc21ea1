package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configure an Authenticator.
type Options struct {
	// UsersFile is the YAML users file; empty: no users (sign-in only
	// through the trusted header, if configured).
	UsersFile string
	// TrustedHeader names the request header a single-sign-on reverse
	// proxy puts the user name in. It is honoured only on requests whose
	// RemoteAddr is one of Proxies (IP addresses or CIDRs); everywhere
	// else it is ignored.
	TrustedHeader string
	Proxies       []string
	// HeaderRole is the role of users who come through the trusted header
	// but are not in the users file (default Viewer).
	HeaderRole Role
	// AllEditors lets every editor write for every goal and indicator.
	AllEditors bool
	// SessionTTL is how long a sign-in lasts (default 12h).
	SessionTTL time.Duration
	// CookieSecure marks cookies Secure (HTTPS only) and gives them the
	// __Host- prefix. Turn it off only for plain-HTTP demos on localhost.
	CookieSecure bool
	// SameSite of the session cookie (default Lax: links into internal
	// pages from mail keep working; forms are protected by CSRF tokens).
	SameSite http.SameSite
	// LoginLimit sign-in attempts are allowed per client address and per
	// user name in any LoginWindow (default 5 per minute).
	LoginLimit  int
	LoginWindow time.Duration
	// MaxSessions bounds the in-memory session store (default 10 000).
	MaxSessions int
	Now         func() time.Time
	Logger      *slog.Logger
	// OnEvent receives sign-ins, failed sign-ins, sign-outs and user
	// changes, for the audit trail. It may be nil.
	OnEvent func(ctx context.Context, e Event)
	// OIDC, when set, adds sign-in through an OpenID Connect provider
	// (oidc.go).
	OIDC *OIDCOptions
}

// Event is something the audit trail records.
type Event struct {
	// Action is login, login.failed, logout, user.add, user.change,
	// user.password or user.remove.
	Action string
	// Actor is who did it: the user signing in or out, the admin who
	// changed users, or "users-file" for changes found in the file.
	Actor string
	Role  Role
	// Subject is the user the event is about.
	Subject string
	Remote  string
	// Before and After describe the change (users without their hashes);
	// nil where there is nothing.
	Before, After any
	Reason        string
}

// Identity is a signed-in user as seen by one request.
type Identity struct {
	Name    string
	Display string
	Role    Role
	Owners  []string
	// Via is "session" (signed in with a password), "header" (the
	// trusted header of a single-sign-on proxy) or "oidc" (signed in
	// through the OpenID Connect provider).
	Via string

	allEditors bool
	csrf       string
	sessionID  string
}

// Is reports whether the identity has at least role r; a nil identity
// has none.
func (id *Identity) Is(r Role) bool { return id != nil && id.Role.AtLeast(r) }

// MayEdit reports whether the identity may write for something owned by
// any of owners: admins always, editors when they own it (or when every
// editor may write for everything), viewers never.
func (id *Identity) MayEdit(owners ...string) bool {
	switch {
	case id.Is(Admin):
		return true
	case !id.Is(Editor):
		return false
	case id.allEditors:
		return true
	}
	u := User{Owners: id.Owners}
	for _, o := range owners {
		if u.Owns(o) {
			return true
		}
	}
	return false
}

// Authenticator answers who is behind a request.
type Authenticator struct {
	opts     Options
	proxies  []netip.Prefix
	sessions *sessions
	ipLimit  *limiter
	userLim  *limiter
	key      []byte // HMAC key for the CSRF tokens of header users

	mu    sync.RWMutex
	users map[string]User

	fileMu sync.Mutex // serialises changes to the users file

	oidc *oidcClient // nil: no OpenID Connect provider
}

// New checks o and reads the users file.
func New(o Options) (*Authenticator, error) {
	if o.HeaderRole == "" {
		o.HeaderRole = Viewer
	}
	if !o.HeaderRole.Valid() {
		return nil, fmt.Errorf("auth: trusted header role %q: want viewer, editor or admin", o.HeaderRole)
	}
	if o.TrustedHeader != "" && len(o.Proxies) == 0 {
		return nil, errors.New("auth: a trusted header needs the addresses of the proxies allowed to set it")
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.SameSite == 0 {
		o.SameSite = http.SameSiteLaxMode
	}
	if o.LoginLimit <= 0 {
		o.LoginLimit = 5
	}
	if o.LoginWindow <= 0 {
		o.LoginWindow = time.Minute
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &Authenticator{
		opts:     o,
		sessions: newSessions(o.SessionTTL, o.MaxSessions),
		ipLimit:  newLimiter(o.LoginLimit, o.LoginWindow, 100000),
		userLim:  newLimiter(o.LoginLimit, o.LoginWindow, 100000),
		key:      []byte(randomToken()),
		users:    map[string]User{},
	}
	for _, p := range o.Proxies {
		pfx, err := parsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("auth: trusted proxy %q: %w", p, err)
		}
		a.proxies = append(a.proxies, pfx)
	}
	if o.OIDC != nil {
		c, err := newOIDCClient(*o.OIDC, o.SessionTTL, o.Now)
		if err != nil {
			return nil, err
		}
		a.oidc = c
	}
	if o.UsersFile != "" {
		uf, err := LoadUsers(o.UsersFile)
		if err != nil {
			return nil, err
		}
		a.users = byName(uf.Users)
	}
	return a, nil
}

// parsePrefix reads an IP address (a single-address prefix) or a CIDR.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return p, errors.New("not an IP address or CIDR")
		}
		return p.Masked(), nil
	}
	ip, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, errors.New("not an IP address or CIDR")
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

func byName(us []User) map[string]User {
	m := make(map[string]User, len(us))
	for _, u := range us {
		m[u.Name] = u
	}
	return m
}

// AllEditors reports whether every editor may write for everything.
func (a *Authenticator) AllEditors() bool { return a.opts.AllEditors }

// UsersFile is the path of the users file ("" if none), for a reload
// watcher.
func (a *Authenticator) UsersFile() string { return a.opts.UsersFile }

// Users returns the users, sorted by name, without their password hashes
// (HasPassword in the hash's place says whether one is set).
func (a *Authenticator) Users() []UserInfo {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]UserInfo, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, infoOf(u))
	}
	slices.SortFunc(out, func(x, y UserInfo) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// UserInfo is a user as shown and audited: never with the hash.
type UserInfo struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name,omitempty"`
	Role        Role     `json:"role"`
	Owners      []string `json:"owners,omitempty"`
	HasPassword bool     `json:"has_password"`
}

func infoOf(u User) UserInfo {
	return UserInfo{Name: u.Name, DisplayName: u.DisplayName, Role: u.Role, Owners: slices.Clone(u.Owners), HasPassword: u.PasswordHash != ""}
}

func (a *Authenticator) user(name string) (User, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	u, ok := a.users[name]
	return u, ok
}

// Reload reads the users file again. Users removed from it, and users
// whose password changed, are signed out. Each difference is reported to
// OnEvent with actor "users-file" (changes made with `malbild user` while
// the server runs are audited this way). On error the previous users stay.
func (a *Authenticator) Reload(ctx context.Context) error {
	return a.reload(ctx, Event{Actor: "users-file"})
}

func (a *Authenticator) reload(ctx context.Context, base Event) error {
	if a.opts.UsersFile == "" {
		return nil
	}
	uf, err := LoadUsers(a.opts.UsersFile)
	if err != nil {
		return err
	}
	next := byName(uf.Users)
	a.mu.Lock()
	prev := a.users
	a.users = next
	a.mu.Unlock()
	for _, ev := range diffUsers(prev, next) {
		if ev.Action == "user.remove" || ev.Action == "user.password" {
			a.sessions.deleteUser(ev.Subject)
		}
		e := base
		e.Action, e.Subject, e.Before, e.After = ev.Action, ev.Subject, ev.Before, ev.After
		a.emit(ctx, e)
	}
	return nil
}

// diffUsers lists what changed from prev to next, sorted by user name.
func diffUsers(prev, next map[string]User) []Event {
	var out []Event
	names := map[string]bool{}
	for n := range prev {
		names[n] = true
	}
	for n := range next {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	for _, n := range sorted {
		p, had := prev[n]
		q, has := next[n]
		switch {
		case !had:
			out = append(out, Event{Action: "user.add", Subject: n, After: infoOf(q)})
		case !has:
			out = append(out, Event{Action: "user.remove", Subject: n, Before: infoOf(p)})
		default:
			if p.Role != q.Role || p.DisplayName != q.DisplayName || !slices.Equal(p.Owners, q.Owners) {
				out = append(out, Event{Action: "user.change", Subject: n, Before: infoOf(p), After: infoOf(q)})
			}
			if p.PasswordHash != q.PasswordHash {
				out = append(out, Event{Action: "user.password", Subject: n, Before: infoOf(p), After: infoOf(q)})
			}
		}
	}
	return out
}

// UpdateUsers changes the users file under a lock — re-read, changed by
// change, checked, written atomically — and reloads it; the differences
// are reported to OnEvent with by as the actor. A missing file is created.
func (a *Authenticator) UpdateUsers(ctx context.Context, by *Identity, remote string, change func(uf *UsersFile) error) error {
	if a.opts.UsersFile == "" {
		return errors.New("no users file is configured (auth.users_file)")
	}
	a.fileMu.Lock()
	defer a.fileMu.Unlock()
	uf, err := LoadUsers(a.opts.UsersFile)
	if errors.Is(err, os.ErrNotExist) {
		uf, err = NewUsersFile(a.opts.UsersFile), nil
	}
	if err != nil {
		return err
	}
	if err := change(uf); err != nil {
		return err
	}
	if err := uf.Save(); err != nil {
		return err
	}
	base := Event{Remote: remote}
	if by != nil {
		base.Actor, base.Role = by.Name, by.Role
	}
	return a.reload(ctx, base)
}

func (a *Authenticator) emit(ctx context.Context, e Event) {
	if a.opts.OnEvent != nil {
		a.opts.OnEvent(ctx, e)
	}
}

// fromProxy reports whether r came straight from a trusted proxy.
func (a *Authenticator) fromProxy(r *http.Request) bool {
	ip, ok := remoteIP(r.RemoteAddr)
	return ok && a.trusted(ip)
}

func (a *Authenticator) trusted(ip netip.Addr) bool {
	for _, p := range a.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func remoteIP(remoteAddr string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap().WithZone(""), true
}

// ClientIP is the address of the client: the request's peer, or — when
// the peer is a trusted proxy — the last address in X-Forwarded-For that
// is not one of the proxies.
func (a *Authenticator) ClientIP(r *http.Request) string {
	ip, ok := remoteIP(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if !a.trusted(ip) {
		return ip.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		h = h.Unmap()
		if !a.trusted(h) {
			return h.String()
		}
	}
	return ip.String()
}

// Identify returns who is behind r, or nil for an anonymous request. The
// trusted header counts only on requests from a trusted proxy; otherwise
// the session cookie decides. A session whose user was removed, or whose
// password changed since, no longer counts.
func (a *Authenticator) Identify(r *http.Request) *Identity {
	if a.opts.TrustedHeader != "" && a.fromProxy(r) {
		if name := strings.ToLower(strings.TrimSpace(r.Header.Get(a.opts.TrustedHeader))); name != "" {
			if CheckName(name) != nil {
				a.opts.Logger.Warn("auth: ignoring a malformed user name in the trusted header", "header", a.opts.TrustedHeader)
			} else {
				return a.headerIdentity(name)
			}
		}
	}
	c, err := r.Cookie(a.sessionCookie())
	if err != nil {
		return nil
	}
	ss := a.sessions.get(c.Value, a.opts.Now())
	if ss == nil {
		return nil
	}
	if ss.ext != nil {
		return a.extIdentity(ss)
	}
	u, ok := a.user(ss.user)
	if !ok || u.PasswordHash != ss.hash {
		a.sessions.delete(ss.id)
		return nil
	}
	id := a.identityOf(u, "session")
	id.csrf, id.sessionID = ss.csrf, ss.id
	return id
}

func (a *Authenticator) headerIdentity(name string) *Identity {
	u, ok := a.user(name)
	if !ok {
		u = User{Name: name, Role: a.opts.HeaderRole}
	}
	id := a.identityOf(u, "header")
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte("header\x00" + name))
	id.csrf = base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	return id
}

func (a *Authenticator) identityOf(u User, via string) *Identity {
	return &Identity{Name: u.Name, Display: u.Display(), Role: u.Role, Owners: slices.Clone(u.Owners), Via: via, allEditors: a.opts.AllEditors}
}

// Authorizer is the dashboards' hook: ok when a signed-in user (any role)
// is behind r.
func (a *Authenticator) Authorizer(r *http.Request) (user string, ok bool) {
	id := a.Identify(r)
	if !id.Is(Viewer) {
		return "", false
	}
	return id.Name, true
}

// CSRFField is the form field (and X-CSRF-Token the header) that carries
// the CSRF token.
const CSRFField = "csrf"

// CSRFToken is the token the forms of id's pages carry ("" for nil).
func (id *Identity) CSRFToken() string {
	if id == nil {
		return ""
	}
	return id.csrf
}

// CheckCSRF reports whether r carries id's CSRF token (form field csrf or
// header X-CSRF-Token), compared in constant time. Call it after any
// multipart form was parsed with its own limits.
func CheckCSRF(r *http.Request, id *Identity) bool {
	if id == nil || id.csrf == "" {
		return false
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(id.csrf)) == 1
}

func (a *Authenticator) sessionCookie() string {
	if a.opts.CookieSecure {
		return "__Host-malbild_session"
	}
	return "malbild_session"
}

func (a *Authenticator) loginCookie() string {
	if a.opts.CookieSecure {
		return "__Host-malbild_login"
	}
	return "malbild_login"
}

// LoginToken returns the CSRF token of the sign-in form, setting a
// short-lived cookie that holds it (the form has no session yet).
func (a *Authenticator) LoginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(a.loginCookie()); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: a.loginCookie(), Value: tok, Path: "/", MaxAge: 3600,
		Secure: a.opts.CookieSecure, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return tok
}

// CheckLoginToken reports whether the sign-in form r posted carries the
// token of its cookie.
func (a *Authenticator) CheckLoginToken(r *http.Request) bool {
	c, err := r.Cookie(a.loginCookie())
	if err != nil || c.Value == "" {
		return false
	}
	got := r.PostFormValue(CSRFField)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) == 1
}

// ErrBadCredentials is a failed sign-in: the same answer for an unknown
// user and a wrong password.
var ErrBadCredentials = errors.New("wrong user name or password")

// RateLimitError is returned when too many sign-ins were tried.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many sign-in attempts; try again in %s", e.RetryAfter.Round(time.Second))
}

// RetrySeconds is RetryAfter in whole seconds, at least 1 (for the
// Retry-After header).
func (e *RateLimitError) RetrySeconds() int {
	s := int((e.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}

// Login checks a name and password, with at most LoginLimit attempts per
// client address and per name in any LoginWindow. On success it starts a
// new session (ending the one the request came with, if any) and sets its
// cookie.
func (a *Authenticator) Login(w http.ResponseWriter, r *http.Request, name, password string) (*Identity, error) {
	now := a.opts.Now()
	ip := a.ClientIP(r)
	name = strings.ToLower(strings.TrimSpace(name))
	if len(name) > 100 {
		name = name[:100]
	}
	// What was typed goes to the audit trail: valid UTF-8, no control
	// characters.
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	fail := func(reason string) {
		a.emit(r.Context(), Event{Action: "login.failed", Actor: name, Subject: name, Remote: ip, Reason: reason})
	}
	if ok, wait := a.ipLimit.allow("ip\x00"+ip, now); !ok {
		fail("rate limited (address)")
		return nil, &RateLimitError{RetryAfter: wait}
	}
	if ok, wait := a.userLim.allow("user\x00"+name, now); !ok {
		fail("rate limited (user name)")
		return nil, &RateLimitError{RetryAfter: wait}
	}
	u, known := a.user(name)
	if !verify(u.PasswordHash, password) {
		switch {
		case !known:
			fail("unknown user")
		case u.PasswordHash == "":
			fail("user has no password")
		default:
			fail("wrong password")
		}
		return nil, ErrBadCredentials
	}
	if c, err := r.Cookie(a.sessionCookie()); err == nil {
		a.sessions.delete(c.Value)
	}
	ss := a.sessions.create(u.Name, u.PasswordHash, now)
	http.SetCookie(w, &http.Cookie{Name: a.sessionCookie(), Value: ss.id, Path: "/", Expires: ss.expires,
		MaxAge: int(a.opts.SessionTTL / time.Second), Secure: a.opts.CookieSecure, HttpOnly: true, SameSite: a.opts.SameSite})
	id := a.identityOf(u, "session")
	id.csrf, id.sessionID = ss.csrf, ss.id
	a.emit(r.Context(), Event{Action: "login", Actor: u.Name, Role: u.Role, Subject: u.Name, Remote: ip})
	return id, nil
}

// Logout ends id's session and clears its cookie. Header users have no
// session to end: their proxy signs them out.
func (a *Authenticator) Logout(w http.ResponseWriter, r *http.Request, id *Identity) {
	if id != nil && id.sessionID != "" {
		a.sessions.delete(id.sessionID)
		a.emit(r.Context(), Event{Action: "logout", Actor: id.Name, Role: id.Role, Subject: id.Name, Remote: a.ClientIP(r)})
	}
	http.SetCookie(w, &http.Cookie{Name: a.sessionCookie(), Value: "", Path: "/", MaxAge: -1,
		Secure: a.opts.CookieSecure, HttpOnly: true, SameSite: a.opts.SameSite})
}

// SafeNext returns next if it is a path on this site, else "/": the
// target after sign-in may never lead to another host.
func SafeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t\\") {
		return "/"
	}
	return next
}
