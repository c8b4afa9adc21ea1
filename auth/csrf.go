package auth

import (
	"crypto/subtle"
	"net/http"
)

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

func (a *Authenticator) sessionCookie() string { return a.cur().sessionCookie() }

func (s *settings) sessionCookie() string {
	if s.cookieSecure {
		return "__Host-malbild_session"
	}
	return "malbild_session"
}

func (s *settings) loginCookie() string {
	if s.cookieSecure {
		return "__Host-malbild_login"
	}
	return "malbild_login"
}

// LoginToken returns the CSRF token of the sign-in form, setting a
// short-lived cookie that holds it (the form has no session yet).
func (a *Authenticator) LoginToken(w http.ResponseWriter, r *http.Request) string {
	set := a.cur()
	if c, err := r.Cookie(set.loginCookie()); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: set.loginCookie(), Value: tok, Path: "/", MaxAge: 3600,
		Secure: set.cookieSecure, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return tok
}

// CheckLoginToken reports whether the sign-in form r posted carries the
// token of its cookie.
func (a *Authenticator) CheckLoginToken(r *http.Request) bool {
	c, err := r.Cookie(a.cur().loginCookie())
	if err != nil || c.Value == "" {
		return false
	}
	got := r.PostFormValue(CSRFField)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) == 1
}
