package dashboards

import (
	"net/http"
)

type accessibilityView struct {
	Owner string
	// Gaps are the shortcomings known in Målbild itself, in the page's
	// language; Issues those the site lists in its configuration (in
	// Swedish: IssuesLang is "sv" on the English page).
	Gaps       []string
	Issues     []string
	IssuesLang string
	Contact    Contact
	NoContact  bool
	Assessed   string
}

// serveAccessibility answers the accessibility statement required by the
// DOS act (lagen om tillgänglighet till digital offentlig service), with
// the contact for reporting problems.
func (s *Server) serveAccessibility(w http.ResponseWriter, r *http.Request) {
	q := reqInfo(r)
	lang := q.lang
	p := s.newPage(r, tr(lang, "a11y_title"), "")
	owner := "Målbild"
	if q.strat != nil {
		owner = q.strat.Municipality.Name
	} else if st := s.strategies(); len(st) == 1 {
		owner = st[0].Municipality.Name
	}
	c := s.siteNow().contact
	v := &accessibilityView{Owner: owner, Issues: s.opts.Accessibility.KnownIssues, Contact: c,
		NoContact: c.Email == "" && c.Phone == "" && c.URL == ""}
	for _, k := range []string{"a11y_gap_charts", "a11y_gap_band", "a11y_gap_print", "a11y_gap_lang", "a11y_gap_sources", "a11y_gap_tables"} {
		v.Gaps = append(v.Gaps, tr(lang, k))
	}
	if lang == "en" {
		v.IssuesLang = "sv"
	}
	if s.opts.Accessibility.Assessed.IsZero() {
		v.Gaps = append(v.Gaps, tr(lang, "a11y_gap_reviewed"))
	}
	if a := s.opts.Accessibility.Assessed; !a.IsZero() {
		v.Assessed = trf(lang, "a11y_assessed_date", formatDate(a))
	} else {
		v.Assessed = tr(lang, "a11y_assessed_auto")
	}
	p.Data = v
	body, err := s.renderPage("accessibility", p)
	if err != nil {
		s.log.Error("dashboards: rendering the accessibility statement", "err", err)
		s.serveError(w, r, http.StatusInternalServerError, "err_internal")
		return
	}
	writeHTML(w, r, http.StatusOK, body)
}

type tenantLink struct {
	Href, Name, Title string
}

// serveTenants lists the municipalities when there are several.
func (s *Server) serveTenants(w http.ResponseWriter, r *http.Request) {
	lang := reqInfo(r).lang
	p := s.newPage(r, tr(lang, "tenants_title"), "")
	var list []tenantLink
	for _, st := range s.strategies() {
		list = append(list, tenantLink{Href: link("/"+slug(st), "/", lang, nil), Name: st.Municipality.Name, Title: st.Title.In(lang)})
	}
	p.Data = list
	body, err := s.renderPage("tenants", p)
	if err != nil {
		s.log.Error("dashboards: rendering the municipality list", "err", err)
		s.serveError(w, r, http.StatusInternalServerError, "err_internal")
		return
	}
	writeHTML(w, r, http.StatusOK, body)
}
