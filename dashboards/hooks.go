package dashboards

// Hooks for packages that add pages to the server — the follow-up
// workflow and its sign-in pages: they mount handlers on the server's
// routes, add their stylesheet to its assets, and render their own
// "content" templates inside the server's layout, so every page looks the
// same and keeps the same Content-Security-Policy. All of this is used
// while wiring, before the server serves its first request.

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/malbild/malbild/strategy"
)

// Mount registers h under pattern (net/http ServeMux syntax, e.g.
// "GET /uppfoljning/rapport/{period}") on every municipality's routes:
// with several municipalities served it answers under /{slug}/..., and h
// sees the path within the municipality. name labels the request metrics.
// Patterns must not clash with the server's own routes (ServeMux panics
// if they do).
func (s *Server) Mount(pattern, name string, h http.Handler) {
	s.handle(s.inner, pattern, name, h.ServeHTTP)
}

// MountGlobal registers h on the routes above the municipalities, which
// answer when several are served (e.g. /logga-in). With one municipality
// everything goes to its routes: mount there too.
func (s *Server) MountGlobal(pattern, name string, h http.Handler) {
	s.handle(s.global, pattern, name, h.ServeHTTP)
}

// AddAsset adds a file to the served assets under a content-hash path,
// like the embedded ones, and returns that path; templates find it with
// {{asset "name"}}. Adding a name that exists is an error.
func (s *Server) AddAsset(name string, body []byte) (string, error) {
	if name == "" || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("dashboards: bad asset name %q", name)
	}
	if s.assets.byName[name] != nil {
		return "", fmt.Errorf("dashboards: asset %s exists already", name)
	}
	x := newAsset(name, body)
	s.assets.byName[name] = x
	s.assets.byPath[x.path] = x
	return x.path, nil
}

// Layout returns a fresh copy of the page layout and the shared partials,
// with the server's template functions (t, tf, asset, args, tel), for a
// package to add its own functions to and parse its "content" templates
// into. Render executes it.
func (s *Server) Layout() (*template.Template, error) {
	t, err := template.New("").Funcs(s.templateFuncs()).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("dashboards: parsing layout: %w", err)
	}
	return t, nil
}

// Request tells a mounted handler which municipality a request is for
// (nil on the routes above the municipalities), the URL prefix of its
// pages ("" or "/0120") and the language ("sv" or "en").
func (s *Server) Request(r *http.Request) (st *strategy.Strategy, base, lang string) {
	q := reqInfo(r)
	return q.strat, q.base, q.lang
}

// Changed tells the server that this process wrote data of tenant (a
// follow-up write, a collector run): the next request reads the data
// version at once instead of waiting out the refresh interval, so a
// writer sees what it wrote.
func (s *Server) Changed(tenant string) {
	ts := s.tenantState(tenant)
	ts.mu.Lock()
	ts.changed = true
	ts.mu.Unlock()
}

// Render executes t (from Layout, with a "content" template) as a page
// for r: title is the page title, current the menu entry to mark
// ("followup", "leadership", "public" or ""), and data becomes .Data in
// the content template; .Lang, .URL and the rest of the layout's page are
// there as on the server's own pages. The answer is never cached: pages
// rendered this way may show internal data.
func (s *Server) Render(w http.ResponseWriter, r *http.Request, status int, t *template.Template, title, current string, data any) {
	p := s.newPage(r, title, current)
	// Never cached, so the other language may keep this request's query
	// (a report's period, the audit trail's filters).
	other := r.URL.Query()
	other.Del("lang")
	p.keepQuery(other)
	p.Data = data
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("dashboards: rendering a mounted page failed", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	newBody(buf.Bytes(), onTheFlyQuality).write(w, r, status, newAnswerHeaders("text/html; charset=utf-8", "no-store"))
}
