package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

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

// Login checks a name and password. Failed sign-ins are limited per
// client address (LoginAddressLimit) and per client address and name
// (LoginLimit) in any LoginWindow; successful ones never count. On success
// it starts a new session (ending the one the request came with, if any)
// and sets its cookie. Refused sign-ins reach OnEvent aggregated: the
// first of a window at once, the rest as one event with their count.
func (a *Authenticator) Login(w http.ResponseWriter, r *http.Request, name, password string) (*Identity, error) {
	set := a.cur()
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
	rl, byAddress, err := a.limits.check(r.Context(), ip, name, now)
	if err != nil {
		return nil, err
	}
	if rl != nil {
		if byAddress {
			// One summary for the address, whatever names it tries.
			a.refused(r.Context(), failureKey{remote: ip}, "rate limited (address)", now)
		} else {
			a.refused(r.Context(), failureKey{remote: ip, name: name}, "rate limited (address and user name)", now)
		}
		return nil, rl
	}
	u, known := a.user(name)
	if !verify(u.PasswordHash, password) {
		ferr := a.limits.failed(r.Context(), ip, name, now)
		reason := "wrong password"
		switch {
		case !known:
			reason = "unknown user"
		case u.PasswordHash == "":
			reason = "user has no password"
		}
		a.refused(r.Context(), failureKey{remote: ip, name: name}, reason, now)
		if ferr != nil {
			return nil, ferr // a failure that could not be counted is no mere wrong password
		}
		return nil, ErrBadCredentials
	}
	if err := a.limits.succeeded(r.Context(), ip, name, now); err != nil {
		return nil, err
	}
	a.emitAll(r.Context(), a.failures.close(failureKey{remote: ip, name: name}))
	a.endOld(r, set, now)
	ss, err := a.sessions.create(r.Context(), u.Name, passwordMark(u.PasswordHash), nil, now, set.sessionTTL)
	if err != nil {
		return nil, err
	}
	http.SetCookie(w, &http.Cookie{Name: set.sessionCookie(), Value: ss.id, Path: "/", Expires: ss.expires,
		MaxAge: int(set.sessionTTL / time.Second), Secure: set.cookieSecure, HttpOnly: true, SameSite: set.sameSite})
	id := identityOf(set, u, "session")
	id.csrf, id.sessionID = ss.csrf, ss.id
	a.emit(r.Context(), Event{Action: "login", Actor: u.Name, Role: u.Role, Subject: u.Name, Remote: ip})
	return id, nil
}

// endOld ends the session the request came with, if any.
func (a *Authenticator) endOld(r *http.Request, set *settings, now time.Time) {
	if c, err := r.Cookie(set.sessionCookie()); err == nil {
		if err := a.sessions.delete(r.Context(), c.Value, now); err != nil {
			a.opts.Logger.Error("auth: the previous session could not be ended", "err", err)
		}
	}
}

// refused reports a refused sign-in to the audit trail, aggregated.
func (a *Authenticator) refused(ctx context.Context, key failureKey, reason string, now time.Time) {
	a.emitAll(ctx, a.failures.refused(key, reason, now))
}

// FlushFailures reports the refused sign-ins that wait to be summed up
// (see Login) and forgets the windows that have ended. Call it now and
// then — a server does once a LoginWindow — and when shutting down.
func (a *Authenticator) FlushFailures(ctx context.Context) {
	a.emitAll(ctx, a.failures.flush(a.opts.Now()))
}

// LoginWindow is the window of the sign-in limits and of the aggregated
// refused sign-ins: how often FlushFailures is worth calling.
func (a *Authenticator) LoginWindow() time.Duration { return a.opts.LoginWindow }

func (a *Authenticator) emitAll(ctx context.Context, es []Event) {
	for _, e := range es {
		a.emit(ctx, e)
	}
}

// Logout ends id's session and clears its cookie. Header users have no
// session to end: their proxy signs them out. With a shared store the
// session ends on every replica; should the store not take the
// revocation, the error is logged (the session then lasts until its
// expiry, or until this or another sign-out reaches the store).
func (a *Authenticator) Logout(w http.ResponseWriter, r *http.Request, id *Identity) {
	set := a.cur()
	if id != nil && id.sessionID != "" {
		if err := a.sessions.delete(r.Context(), id.sessionID, a.opts.Now()); err != nil {
			a.opts.Logger.Error("auth: sign-out not recorded in the session store", "user", id.Name, "err", err)
		}
		a.emit(r.Context(), Event{Action: "logout", Actor: id.Name, Role: id.Role, Subject: id.Name, Remote: a.ClientIP(r)})
	}
	http.SetCookie(w, &http.Cookie{Name: set.sessionCookie(), Value: "", Path: "/", MaxAge: -1,
		Secure: set.cookieSecure, HttpOnly: true, SameSite: set.sameSite})
}
