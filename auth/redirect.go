package auth

import (
	"net/http"
	"net/url"
	"strings"
)

// RedirectUnauthorized wraps a handler whose internal pages answer 401 to
// anonymous requests (the dashboards do): a browser asking for a page
// (GET or HEAD accepting text/html) without being signed in is sent to
// loginPath?next=<the page> with 303 See Other instead. Everything else —
// API clients, signed-in users, other methods — gets the handler's answer
// unchanged.
func (a *Authenticator) RedirectUnauthorized(next http.Handler, loginPath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) ||
			!strings.Contains(r.Header.Get("Accept"), "text/html") || a.Identify(r) != nil {
			next.ServeHTTP(w, r)
			return
		}
		target := loginPath + "?" + url.Values{"next": {SafeNext(r.URL.RequestURI())}}.Encode()
		next.ServeHTTP(&unauthorizedWriter{ResponseWriter: w, location: target}, r)
	})
}

// unauthorizedWriter turns a 401 answer into a redirect, dropping its body.
type unauthorizedWriter struct {
	http.ResponseWriter
	location    string
	wroteHeader bool
	redirected  bool
}

func (u *unauthorizedWriter) WriteHeader(code int) {
	if u.wroteHeader {
		return
	}
	u.wroteHeader = true
	if code != http.StatusUnauthorized {
		u.ResponseWriter.WriteHeader(code)
		return
	}
	u.redirected = true
	h := u.Header()
	h.Del("Content-Length")
	h.Del("Content-Type")
	h.Set("Location", u.location)
	h.Set("Cache-Control", "no-store")
	u.ResponseWriter.WriteHeader(http.StatusSeeOther)
}

func (u *unauthorizedWriter) Write(b []byte) (int, error) {
	if !u.wroteHeader {
		u.WriteHeader(http.StatusOK)
	}
	if u.redirected {
		return len(b), nil
	}
	return u.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (u *unauthorizedWriter) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// SafeNext returns next if it is a path on this site, else "/": the
// target after sign-in may never lead to another host.
func SafeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t\\") {
		return "/"
	}
	return next
}
