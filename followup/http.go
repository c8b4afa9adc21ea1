package followup

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/strategy"
)

// routes mounts the pages; see docs/followup.md for what each does.
func (s *Service) routes() {
	m := func(pattern, name string, h http.Handler) { s.site.Mount(pattern, name, h) }
	m("GET /uppfoljning/rapport", "followup_periods", s.view(auth.Viewer, s.servePeriods))
	m("GET /uppfoljning/rapport/{period}", "followup_report", s.view(auth.Viewer, s.serveReport))
	m("GET /uppfoljning/rapport/{period}/utskrift", "followup_print", s.view(auth.Viewer, s.servePrint))
	m("GET /uppfoljning/rapport/{period}/rapport.csv", "followup_csv", s.view(auth.Viewer, s.serveReportCSV))
	m("GET /uppfoljning/rapport/{period}/stang", "followup_close_confirm", s.view(auth.Admin, s.serveCloseConfirm))
	m("POST /uppfoljning/rapport/{period}/stang", "followup_close", s.action(auth.Admin, s.postClose))
	m("POST /uppfoljning/rapport/{period}/oppna", "followup_reopen", s.action(auth.Admin, s.postReopen))
	m("GET /uppfoljning/indikator/{id}/{period}", "followup_indicator", s.view(auth.Viewer, s.serveIndicator))
	m("POST /uppfoljning/indikator/{id}/{period}", "followup_indicator_save", s.action(auth.Editor, s.postIndicator))
	m("POST /uppfoljning/indikator/{id}/varde", "followup_value_save", s.action(auth.Editor, s.postValue))
	m("GET /uppfoljning/mal/{id}/{period}", "followup_goal", s.view(auth.Viewer, s.serveGoal))
	m("POST /uppfoljning/mal/{id}/{period}", "followup_goal_save", s.action(auth.Editor, s.postGoal))
	m("POST /uppfoljning/mal/{id}/{period}/organ/{body}", "followup_body_save", s.action(auth.Editor, s.postBodyReport))
	m("POST /uppfoljning/aktivitet/{id}/{period}", "followup_activity_save", s.action(auth.Editor, s.postActivity))
	m("GET /uppfoljning/uppladdning", "followup_upload", s.view(auth.Editor, s.serveUpload))
	m("POST /uppfoljning/uppladdning", "followup_upload_save", s.action(auth.Editor, s.postUpload))
	m("GET /uppfoljning/mall.csv", "followup_template", s.view(auth.Viewer, s.serveTemplateCSV))
	m("GET /uppfoljning/logg", "followup_audit", s.view(auth.Admin, s.serveAudit))
	m("GET /uppfoljning/logg.csv", "followup_audit_csv", s.view(auth.Admin, s.serveAuditCSV))
	m("GET /uppfoljning/anvandare", "followup_users", s.view(auth.Admin, s.serveUsers))
	m("POST /uppfoljning/anvandare", "followup_user_add", s.action(auth.Admin, s.postUserAdd))
	m("POST /uppfoljning/anvandare/{name}", "followup_user_change", s.action(auth.Admin, s.postUserChange))
	// Sign-in works on every municipality's pages and above them.
	for _, mount := range []func(string, string, http.Handler){s.site.Mount, s.site.MountGlobal} {
		mount("GET "+s.opts.LoginPath, "login", http.HandlerFunc(s.serveLogin))
		mount("POST "+s.opts.LoginPath, "login_post", http.HandlerFunc(s.postLogin))
		mount("POST /logga-ut", "logout", http.HandlerFunc(s.postLogout))
		mount("GET "+OIDCPath, "login_oidc", http.HandlerFunc(s.serveOIDCStart))
		mount("GET "+OIDCCallbackPath, "login_oidc_callback", http.HandlerFunc(s.serveOIDCCallback))
	}
}

// req is what a handler knows about its request.
type req struct {
	st     *strategy.Strategy // nil above the municipalities
	base   string             // "" or "/0120"
	lang   string
	who    *auth.Identity
	remote string
}

// url is path within the municipality, in the request's language, with
// the query values q.
func (q *req) url(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	if q.lang == "en" {
		v.Set("lang", "en")
	}
	u := q.base + path
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

func (s *Service) request(r *http.Request) *req {
	st, base, lang := s.site.Request(r)
	return &req{st: st, base: base, lang: lang, who: s.auth.Identify(r), remote: s.auth.ClientIP(r)}
}

// toLogin sends the browser to the sign-in page, coming back to next.
func (s *Service) toLogin(w http.ResponseWriter, r *http.Request, q *req, next string) {
	v := url.Values{"next": {auth.SafeNext(next)}}
	if q.lang == "en" {
		v.Set("lang", "en")
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, q.base+s.opts.LoginPath+"?"+v.Encode(), http.StatusSeeOther)
}

// view wraps a page for signed-in users of at least role min: anonymous
// requests are sent to sign in, others without the role get 403.
func (s *Service) view(min auth.Role, h func(http.ResponseWriter, *http.Request, *req)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := s.request(r)
		switch {
		case q.st == nil:
			s.fail(w, r, q, errNotFound())
		case q.who == nil:
			s.toLogin(w, r, q, q.base+r.URL.RequestURI())
		case !q.who.Is(min):
			s.fail(w, r, q, errForbidden())
		default:
			h(w, r, q)
		}
	})
}

// maxForm bounds a posted form that is not an upload.
const maxForm = 256 << 10

// action wraps a write: anonymous requests are sent to sign in; a request
// without the session's CSRF token, or from a user below role min, gets
// 403 and changes nothing. The body is read with limits before the token
// is checked.
func (s *Service) action(min auth.Role, h func(http.ResponseWriter, *http.Request, *req)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := s.request(r)
		if q.st == nil {
			s.fail(w, r, q, errNotFound())
			return
		}
		if q.who == nil {
			s.toLogin(w, r, q, q.base+r.URL.Path)
			return
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxUpload+maxForm)
			if err := r.ParseMultipartForm(1 << 20); err != nil {
				s.failBody(w, r, q, err)
				return
			}
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				s.failBody(w, r, q, err)
				return
			}
		}
		if !auth.CheckCSRF(r, q.who) {
			s.fail(w, r, q, refuse(http.StatusForbidden,
				"Formuläret saknar giltig säkerhetstoken (CSRF). Ladda om sidan och försök igen.",
				"The form lacks a valid security token (CSRF). Reload the page and try again."))
			return
		}
		if !q.who.Is(min) {
			s.fail(w, r, q, errForbidden())
			return
		}
		// Whatever the write did, the pages look again before they answer
		// the next request (the writer sees what was written).
		defer s.site.Changed(q.st.Municipality.Code)
		h(w, r, q)
	})
}

func (s *Service) failBody(w http.ResponseWriter, r *http.Request, q *req, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		s.fail(w, r, q, refuse(http.StatusRequestEntityTooLarge, "Det som skickades är för stort.", "What was sent is too large."))
		return
	}
	s.fail(w, r, q, refuse(http.StatusBadRequest, "Formuläret kunde inte läsas.", "The form could not be read."))
}

// messageView is the page for a refused request or a failure.
type messageView struct {
	chrome
	Heading  string
	Problems []string
	Back     string
}

// fail answers with err: an *Error with its status and problems, an
// unreachable database with 503, anything else with 500 (the cause goes
// to the log, not the page).
func (s *Service) fail(w http.ResponseWriter, r *http.Request, q *req, err error) {
	var fe *Error
	v := &messageView{chrome: s.chrome(q, "")}
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &fe):
		status = fe.Status
		v.Heading = tr(q.lang, "refused")
		for _, p := range fe.Problems {
			v.Problems = append(v.Problems, p.In(q.lang))
		}
	case clickhouse.IsUnavailable(err):
		status = http.StatusServiceUnavailable
		s.log.Warn("followup: the database does not answer", "path", r.URL.Path, "err", err)
		v.Heading = tr(q.lang, "unavailable")
		v.Problems = []string{tr(q.lang, "unavailable_text")}
		w.Header().Set("Retry-After", "30")
	default:
		s.log.Error("followup: request failed", "path", r.URL.Path, "err", err)
		v.Heading = tr(q.lang, "internal")
		v.Problems = []string{tr(q.lang, "internal_text")}
	}
	if q.st != nil && q.who != nil {
		v.Back = q.url("/uppfoljning/rapport")
	}
	s.render(w, r, q, status, "message", v.Heading, v)
}

// render writes a page in the site's layout.
func (s *Service) render(w http.ResponseWriter, r *http.Request, q *req, status int, page, title string, data any) {
	s.site.Render(w, r, status, s.pages[page], title, "followup", data)
}

// chrome is what every page of the workflow shows around its content:
// who is signed in, the sign-out form and the workflow's own menu.
type chrome struct {
	Lang      string
	Who       *auth.Identity
	RoleLabel string
	// WhoLabel is the name and the role, the role once (whoText).
	WhoLabel  string
	CSRF      string
	LogoutURL string
	Nav       []navItem
	Flash     string
}

type navItem struct {
	Href, Label string
	Current     bool
}

func (s *Service) chrome(q *req, current string) chrome {
	c := chrome{Lang: q.lang, Who: q.who, CSRF: q.who.CSRFToken(), LogoutURL: q.url("/logga-ut")}
	if q.who == nil || q.st == nil {
		return c
	}
	c.RoleLabel = tr(q.lang, "role_"+string(q.who.Role))
	c.WhoLabel = whoText(q.who, q.lang)
	add := func(path, key, name string) {
		c.Nav = append(c.Nav, navItem{Href: q.url(path), Label: tr(q.lang, key), Current: name == current})
	}
	add("/uppfoljning/rapport", "nav_periods", "periods")
	if q.who.Is(auth.Editor) {
		add("/uppfoljning/uppladdning", "nav_upload", "upload")
	}
	if q.who.Is(auth.Admin) {
		add("/uppfoljning/logg", "nav_audit", "audit")
		add("/uppfoljning/anvandare", "nav_users", "users")
	}
	return c
}

// redirect answers a successful write with 303 See Other to a page.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// periodOf reads the {period} path value as a report period of q's
// strategy.
func (s *Service) periodOf(r *http.Request, q *req) (strategy.Period, bool) {
	return s.parseReportPeriod(q.st, r.PathValue("period"))
}
