package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	// LoginLimit failed sign-ins are allowed per client address and user
	// name in any LoginWindow (default 5 per minute), LoginAddressLimit per
	// client address whatever the name (default 4 × LoginLimit). Only
	// failures count: many people signing in behind one NAT address are
	// never refused, and a user is never locked out from another address.
	// LoginKeys bounds the addresses and address+name pairs remembered
	// (default 100 000; the least recently used go first).
	LoginLimit        int
	LoginAddressLimit int
	LoginWindow       time.Duration
	LoginKeys         int
	// MaxSessions bounds the in-memory session store (default 10 000);
	// with a Store, the sessions this process remembers for reading
	// through an outage of the store.
	MaxSessions int
	Now         func() time.Time
	Logger      *slog.Logger
	// OnEvent receives sign-ins, failed sign-ins, sign-outs and user
	// changes, for the audit trail. It may be nil. Refused sign-ins are
	// aggregated: see Event.Count and FlushFailures.
	OnEvent func(ctx context.Context, e Event)
	// OIDC, when set, adds sign-in through an OpenID Connect provider
	// (oidc.go).
	OIDC *OIDCOptions
	// Store, when set, keeps the sessions and the sign-in limits where
	// every serve process of the installation sees them (store.go); nil
	// keeps them in this process's memory.
	Store SessionStore
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
	// Count is how many refused sign-ins a login.failed event stands for
	// (0 and 1: one); After then holds a LoginFailures summary.
	Count int
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

// Authenticator answers who is behind a request. The settings that come
// from the configuration file (see ApplyConfig) can change while it runs;
// sessions, rate limits and the CSRF key stay.
type Authenticator struct {
	opts     Options // as given to New; the reloadable part lives in set
	set      atomic.Pointer[settings]
	sessions sessionBackend
	limits   limitBackend
	failures *failureLog
	keyMu    sync.Mutex
	key      []byte    // HMAC key for the CSRF tokens of header users (csrfKey)
	keyRead  time.Time // when key was read from Options.Store

	mu    sync.RWMutex
	users map[string]User

	fileMu sync.Mutex // serialises changes to the users file and to the settings

	oidc *oidcClient // nil: no OpenID Connect provider
}

// settings are the part of Options that ApplyConfig may change, checked
// and parsed.
type settings struct {
	usersFile     string
	trustedHeader string
	proxies       []netip.Prefix
	headerRole    Role
	allEditors    bool
	sessionTTL    time.Duration
	cookieSecure  bool
	sameSite      http.SameSite
}

// settingsOf checks the reloadable options and fills in their defaults.
func settingsOf(o Options) (*settings, error) {
	s := &settings{usersFile: o.UsersFile, trustedHeader: o.TrustedHeader, headerRole: o.HeaderRole,
		allEditors: o.AllEditors, sessionTTL: o.SessionTTL, cookieSecure: o.CookieSecure, sameSite: o.SameSite}
	if s.headerRole == "" {
		s.headerRole = Viewer
	}
	if !s.headerRole.Valid() {
		return nil, fmt.Errorf("auth: trusted header role %q: want viewer, editor or admin", o.HeaderRole)
	}
	if o.TrustedHeader != "" && len(o.Proxies) == 0 {
		return nil, errors.New("auth: a trusted header needs the addresses of the proxies allowed to set it")
	}
	if s.sessionTTL <= 0 {
		s.sessionTTL = 12 * time.Hour
	}
	if s.sameSite == 0 {
		s.sameSite = http.SameSiteLaxMode
	}
	for _, p := range o.Proxies {
		pfx, err := parsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("auth: trusted proxy %q: %w", p, err)
		}
		s.proxies = append(s.proxies, pfx)
	}
	return s, nil
}

// cur returns the settings in force.
func (a *Authenticator) cur() *settings { return a.set.Load() }

// New checks o and reads the users file.
func New(o Options) (*Authenticator, error) {
	set, err := settingsOf(o)
	if err != nil {
		return nil, err
	}
	if o.LoginLimit <= 0 {
		o.LoginLimit = 5
	}
	if o.LoginAddressLimit <= 0 {
		o.LoginAddressLimit = 4 * o.LoginLimit
	}
	if o.LoginWindow <= 0 {
		o.LoginWindow = time.Minute
	}
	if o.LoginKeys <= 0 {
		o.LoginKeys = 100000
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
		sessions: memSessions{newSessions(o.MaxSessions)},
		limits:   memLimits{newLoginLimits(o.LoginAddressLimit, o.LoginLimit, o.LoginWindow, o.LoginKeys)},
		failures: newFailureLog(o.LoginWindow, o.LoginKeys),
		key:      []byte(randomToken()),
		users:    map[string]User{},
	}
	if o.Store != nil {
		a.sessions = newStoreSessions(o.Store, o.MaxSessions, o.Logger)
		a.limits = &storeLimits{store: o.Store, addrLimit: o.LoginAddressLimit, pairLimit: o.LoginLimit, window: o.LoginWindow}
		k, err := o.Store.SharedKey(context.Background(), headerKeyName, randomToken())
		if err != nil {
			return nil, fmt.Errorf("auth: reading the shared CSRF key: %w", err)
		}
		a.key, a.keyRead = []byte(k), o.Now()
	}
	a.set.Store(set)
	if o.OIDC != nil {
		c, err := newOIDCClient(*o.OIDC, set.sessionTTL, o.Now)
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

// CheckConfig reports whether ApplyConfig(o) would work, changing
// nothing: the settings are valid and a new users file loads.
func (a *Authenticator) CheckConfig(o Options) error {
	next, err := settingsOf(o)
	if err != nil {
		return err
	}
	if next.usersFile != "" && next.usersFile != a.cur().usersFile {
		if _, err := LoadUsers(next.usersFile); err != nil {
			return err
		}
	}
	return nil
}

// ApplyConfig puts the configuration-file settings of o in force while
// the server runs: UsersFile, TrustedHeader, Proxies, HeaderRole,
// AllEditors, SessionTTL, CookieSecure and SameSite. The other fields of o
// are ignored (they are fixed at New). Every setting is checked first; on
// error nothing changes. A new users file is read (and its differences
// audited as a reload would); a shorter SessionTTL also shortens the
// sessions in force; changing CookieSecure renames the cookies, so
// everybody signs in again.
func (a *Authenticator) ApplyConfig(ctx context.Context, o Options) error {
	next, err := settingsOf(o)
	if err != nil {
		return err
	}
	a.fileMu.Lock()
	defer a.fileMu.Unlock()
	prev := a.cur()
	if next.usersFile == prev.usersFile {
		a.set.Store(next)
		return nil
	}
	users := map[string]User{}
	if next.usersFile != "" {
		uf, err := LoadUsers(next.usersFile)
		if err != nil {
			return err
		}
		users = byName(uf.Users)
	}
	a.set.Store(next)
	a.swapUsers(ctx, users, Event{Actor: "users-file"})
	return nil
}

func byName(us []User) map[string]User {
	m := make(map[string]User, len(us))
	for _, u := range us {
		m[u.Name] = u
	}
	return m
}

// AllEditors reports whether every editor may write for everything.
func (a *Authenticator) AllEditors() bool { return a.cur().allEditors }

// UsersFile is the path of the users file ("" if none), for a reload
// watcher.
func (a *Authenticator) UsersFile() string { return a.cur().usersFile }

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
