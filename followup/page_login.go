package followup

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/malbild/malbild/auth"
)

type loginView struct {
	chrome
	Action, Token, Next, Name string
	Problem                   string
	Already                   string
	// OIDC names the identity provider when sign-in through it is
	// configured; Password shows the name-and-password form.
	OIDC, OIDCURL string
	Password      bool
}

func (s *Service) loginView(w http.ResponseWriter, r *http.Request, q *req, next string) *loginView {
	v := &loginView{chrome: s.chrome(q, ""), Action: q.url(s.opts.LoginPath), Token: s.auth.LoginToken(w, r), Next: auth.SafeNext(next)}
	if q.who != nil {
		v.Already = trf(q.lang, "already_in", q.who.Display)
	}
	v.OIDC, v.OIDCURL = s.auth.OIDCName(), q.url(OIDCPath, "next", v.Next)
	v.Password = s.auth.UsersFile() != "" || !s.auth.OIDCEnabled()
	return v
}

// defaultNext is where a sign-in leads without a next parameter.
func defaultNext(q *req) string {
	if q.st == nil {
		return q.url("/")
	}
	return q.url("/uppfoljning/rapport")
}

// serveLogin shows the sign-in form.
func (s *Service) serveLogin(w http.ResponseWriter, r *http.Request) {
	q := s.request(r)
	next := r.URL.Query().Get("next")
	if next == "" {
		next = defaultNext(q)
	}
	s.render(w, r, q, http.StatusOK, "login", tr(q.lang, "login_title"), s.loginView(w, r, q, next))
}

// postLogin checks the name and password. The form carries its own CSRF
// token (there is no session yet); failures are counted per address and
// per name, and the sixth within a minute gets 429 with Retry-After.
func (s *Service) postLogin(w http.ResponseWriter, r *http.Request) {
	q := s.request(r)
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.failBody(w, r, q, err)
		return
	}
	next := r.PostFormValue("next")
	if next == "" {
		next = defaultNext(q)
	}
	v := s.loginView(w, r, q, next)
	v.Name = r.PostFormValue("namn")
	if !s.auth.CheckLoginToken(r) {
		v.Problem = tr(q.lang, "login_expired")
		s.render(w, r, q, http.StatusForbidden, "login", tr(q.lang, "login_title"), v)
		return
	}
	// A name that is no valid text, or is a personal identity number
	// (people type theirs), is refused before it can reach the audit
	// trail of failed sign-ins.
	var pr problems
	if checkText(&pr, fieldUserName, "", v.Name); len(pr) > 0 {
		v.Name, v.Problem = "", pr[0].In(q.lang)
		s.render(w, r, q, http.StatusBadRequest, "login", tr(q.lang, "login_title"), v)
		return
	}
	_, err := s.auth.Login(w, r, v.Name, r.PostFormValue("losenord"))
	var rl *auth.RateLimitError
	switch {
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", strconv.Itoa(rl.RetrySeconds()))
		v.Problem = trf(q.lang, "login_limited", rl.RetrySeconds())
		s.render(w, r, q, http.StatusTooManyRequests, "login", tr(q.lang, "login_title"), v)
	case errors.Is(err, auth.ErrBadCredentials):
		v.Problem = tr(q.lang, "login_bad")
		s.render(w, r, q, http.StatusUnauthorized, "login", tr(q.lang, "login_title"), v)
	case err != nil:
		s.fail(w, r, q, err)
	default:
		redirect(w, r, v.Next)
	}
}

// postLogout ends the session. It needs the session's CSRF token, so
// that another site cannot sign a user out.
func (s *Service) postLogout(w http.ResponseWriter, r *http.Request) {
	q := s.request(r)
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.failBody(w, r, q, err)
		return
	}
	to, end := q.url("/"), ""
	if q.who != nil {
		if !auth.CheckCSRF(r, q.who) {
			s.fail(w, r, q, refuse(http.StatusForbidden,
				"Formuläret saknar giltig säkerhetstoken (CSRF). Ladda om sidan och försök igen.",
				"The form lacks a valid security token (CSRF). Reload the page and try again."))
			return
		}
		end = s.auth.SignOutURL(q.who)
		s.auth.Logout(w, r, q.who)
	}
	if end != "" {
		s.signedOut(w, r, q, end) // on to the provider's end-session endpoint
		return
	}
	redirect(w, r, to)
}
