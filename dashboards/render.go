package dashboards

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageNames are the page templates; each is parsed together with the
// layout and the shared partials.
var pageNames = []string{"public", "leadership", "indicator", "followup", "accessibility", "tenants", "error", "programme", "uppergoal"}

// parseTemplates parses every page once, at start-up.
func parseTemplates(funcs template.FuncMap) (map[string]*template.Template, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/strategy_partials.html")
	if err != nil {
		return nil, fmt.Errorf("dashboards: parsing layout: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		c, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if pages[name], err = c.ParseFS(templateFS, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("dashboards: parsing %s: %w", name, err)
		}
	}
	return pages, nil
}

// templateFuncs are bound once, at parse time.
func (s *Server) templateFuncs() template.FuncMap {
	return template.FuncMap{
		"t":     tr,
		"tf":    trf,
		"asset": s.assets.url,
		"rich":  richText, // strategy texts: the safe Markdown subset
		// args builds a map for passing several values to a sub-template.
		"args": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("args: odd number of arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("args: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		// tel keeps the digits and a leading + of a phone number.
		"tel": func(s string) string {
			var b strings.Builder
			for i, c := range s {
				if c >= '0' && c <= '9' || c == '+' && i == 0 {
					b.WriteRune(c)
				}
			}
			return b.String()
		},
	}
}

// page is what the layout needs; Data is the page's own view.
type page struct {
	Lang, OtherLang string
	Title           string
	Site            string
	Home            string
	LangURL         string
	Menu            []menuItem
	Demo            bool
	Stale           bool
	StaleSince      string
	Charts          bool
	Contact         Contact
	Data            any

	base, path string
}

// keepQuery makes the link to the other language carry the page's own
// parameters, given in canonical form. Nothing else of the request's
// query reaches a page: pages are cached and shared between visitors.
func (p *page) keepQuery(q url.Values) { p.LangURL = link(p.base, p.path, p.OtherLang, q) }

type menuItem struct {
	Href, Label string
	Current     bool
}

// URL is path within the current municipality, in the page's language.
func (p *page) URL(path string) string { return link(p.base, path, p.Lang, nil) }

// link builds base+path with ?lang=en when lang is English and the
// given extra query values.
func link(base, path, lang string, q url.Values) string {
	u := base + path
	v := url.Values{}
	for k, vs := range q {
		v[k] = vs
	}
	if lang == "en" {
		v.Set("lang", "en")
	}
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// newPage fills the layout fields for request r; current names the menu
// entry of the page.
func (s *Server) newPage(r *http.Request, title, current string) *page {
	q := reqInfo(r)
	p := &page{Lang: q.lang, OtherLang: "en", Title: title, Demo: s.opts.Demo, Contact: s.siteNow().contact, base: q.base}
	if q.lang == "en" {
		p.OtherLang = "sv"
	}
	p.Site = "Målbild"
	if q.strat != nil {
		p.Site = q.strat.Municipality.Name
	}
	p.Home = link(q.base, "/", q.lang, nil)
	// The same page in the other language. The request's query stays out:
	// the page is cached for every visitor (pages with parameters of their
	// own add them with keepQuery).
	p.path = r.URL.Path
	p.LangURL = link(q.base, p.path, p.OtherLang, nil)
	if q.strat == nil {
		return p
	}
	add := func(path, key, name string) {
		href := link(q.base, path, q.lang, nil)
		p.Menu = append(p.Menu, menuItem{Href: href, Label: tr(q.lang, key), Current: name == current})
	}
	add("/", "nav_public", "public")
	if s.internal(r) {
		add("/ledning", "nav_leader", "leadership")
		add("/uppfoljning", "nav_follow", "followup")
		if len(q.strat.Programmes) > 0 {
			add("/program", "nav_programmes", "programmes")
		}
		if len(q.strat.UpperGoals) > 0 {
			add("/kf-mal", "nav_upper", "upper")
		}
	}
	p.Menu = append(p.Menu, menuItem{Href: link(q.base, "/", q.lang, nil) + "#data", Label: tr(q.lang, "nav_data")})
	if s.opts.SignedIn != nil && s.opts.SignedIn(r) == "" {
		add("/logga-in", "nav_signin", "signin")
	}
	return p
}

// renderPage executes the named page template into a buffer.
func (s *Server) renderPage(name string, p *page) ([]byte, error) {
	t := s.pages[name]
	if t == nil {
		return nil, fmt.Errorf("no page template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// writeHTML sends a rendered page that is not cached.
func writeHTML(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	writeBody(w, r, status, "text/html; charset=utf-8", body)
}

// writeBody sends an answer that is not cached, compressed when the
// client accepts it (the page is built for this request alone).
func writeBody(w http.ResponseWriter, r *http.Request, status int, ctype string, b []byte) {
	newBody(b, onTheFlyQuality).write(w, r, status, newAnswerHeaders(ctype, "no-cache"))
}

// serveError renders an error page; key names the heading message, and
// key+"_text" the explanation.
func (s *Server) serveError(w http.ResponseWriter, r *http.Request, status int, key string) {
	q := reqInfo(r)
	p := s.newPage(r, tr(q.lang, key), "")
	p.Data = struct{ Heading, Text string }{tr(q.lang, key), tr(q.lang, key+"_text")}
	body, err := s.renderPage("error", p)
	if err != nil {
		s.log.Error("rendering error page", "err", err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	writeHTML(w, r, status, body)
}
