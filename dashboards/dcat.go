package dashboards

import (
	"net/http"
	"strings"
	"time"

	"github.com/malbild/malbild/strategy"
)

// The DCAT-AP-SE catalogue describes the public data sets so that
// dataportal.se can harvest them: per municipality one data set with the
// observations of its public indicators (CSV and JSON) and one with the
// goals, statuses and confirmed assessments (JSON), both under CC0.

const (
	licenceCC0    = "http://creativecommons.org/publicdomain/zero/1.0/"
	themeGOVE     = "http://publications.europa.eu/resource/authority/data-theme/GOVE"
	publisherType = "http://purl.org/adms/publishertype/LocalAuthority"
	fileTypeCSV   = "http://publications.europa.eu/resource/authority/file-type/CSV"
	fileTypeJSON  = "http://publications.europa.eu/resource/authority/file-type/JSON"
	langSwedish   = "http://publications.europa.eu/resource/authority/language/SWE"
	frequencyBase = "http://publications.europa.eu/resource/authority/frequency/"
)

var dcatContext = map[string]any{
	"dcat":    "http://www.w3.org/ns/dcat#",
	"dcterms": "http://purl.org/dc/terms/",
	"foaf":    "http://xmlns.com/foaf/0.1/",
	"vcard":   "http://www.w3.org/2006/vcard/ns#",
	"xsd":     "http://www.w3.org/2001/XMLSchema#",
}

// baseURL is the absolute address of the server: Options.BaseURL, or
// the scheme and host the request came to.
func (s *Server) baseURL(r *http.Request) string {
	if b := s.siteNow().baseURL; b != "" {
		return b
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func langText(t strategy.Text) []map[string]string {
	out := []map[string]string{{"@language": "sv", "@value": t.SV}}
	if t.EN != "" {
		out = append(out, map[string]string{"@language": "en", "@value": t.EN})
	}
	return out
}

func ref(id string) map[string]string { return map[string]string{"@id": id} }

// serveDCAT answers /api/v1/dcat: the catalogue of the request's
// municipality, or of all of them on the top level.
func (s *Server) serveDCAT(w http.ResponseWriter, r *http.Request) {
	q := reqInfo(r)
	base := s.baseURL(r)
	var strats []*strategy.Strategy
	if q.strat != nil {
		strats = []*strategy.Strategy{q.strat}
	} else {
		strats = s.strategies()
	}
	catalogID := base + q.base + "/api/v1/dcat"
	var datasets []any
	var publisher map[string]any
	modified := time.Time{}
	for _, st := range strats {
		prefix := ""
		if q.strat == nil || q.multi {
			prefix = "/" + slug(st)
		}
		snap := s.data(r.Context(), st)
		if snap.loaded.After(modified) {
			modified = snap.loaded
		}
		pub := s.dcatPublisher(st)
		if publisher == nil {
			publisher = pub
		}
		datasets = append(datasets, s.dcatDatasets(base+prefix, st, snap, pub)...)
	}
	title := strategy.Text{SV: "Målbild – öppna data om digitaliseringsstrategier", EN: "Målbild – open data on digitalisation strategies"}
	if q.strat != nil {
		title = strategy.Text{
			SV: q.strat.Municipality.Name + " – uppföljning av digitaliseringsstrategin",
			EN: q.strat.Municipality.Name + " – follow-up of the digitalisation strategy",
		}
	}
	if publisher == nil {
		publisher = map[string]any{"@type": "foaf:Agent", "foaf:name": "Målbild"}
	}
	catalog := map[string]any{
		"@context":            dcatContext,
		"@id":                 catalogID,
		"@type":               "dcat:Catalog",
		"dcterms:title":       langText(title),
		"dcterms:description": langText(strategy.Text{SV: "Mål, indikatorer, mätvärden och bedömningar som kommunen har publicerat.", EN: "Goals, indicators, values and assessments the municipality has published."}),
		"dcterms:publisher":   publisher,
		"dcterms:license":     ref(licenceCC0),
		"dcterms:language":    ref(langSwedish),
		"foaf:homepage":       ref(base + q.base + "/"),
		"dcat:dataset":        datasets,
	}
	if !modified.IsZero() {
		catalog["dcterms:modified"] = map[string]string{"@type": "xsd:dateTime", "@value": modified.UTC().Format(time.RFC3339)}
	}
	writeJSON(w, r, http.StatusOK, "application/ld+json; charset=utf-8", catalog)
}

func (s *Server) dcatPublisher(st *strategy.Strategy) map[string]any {
	return map[string]any{
		"@type":              "foaf:Agent",
		"foaf:name":          st.Municipality.Name,
		"dcterms:type":       ref(publisherType),
		"dcterms:identifier": st.Municipality.Code,
	}
}

func (s *Server) dcatContact(st *strategy.Strategy) map[string]any {
	c := map[string]any{"@type": "vcard:Organization", "vcard:fn": st.Municipality.Name}
	contact := s.siteNow().contact
	if contact.Name != "" {
		c["vcard:fn"] = contact.Name
	}
	if contact.Email != "" {
		c["vcard:hasEmail"] = ref("mailto:" + contact.Email)
	}
	if contact.Phone != "" {
		c["vcard:hasTelephone"] = ref("tel:" + strings.ReplaceAll(contact.Phone, " ", ""))
	}
	if contact.URL != "" {
		c["vcard:hasURL"] = ref(contact.URL)
	}
	return c
}

func frequency(st *strategy.Strategy) string {
	if st.Rhythm == strategy.RhythmQuarter {
		return frequencyBase + "QUARTERLY"
	}
	return frequencyBase + "ANNUAL_3" // three times a year: tertials
}

// dcatDatasets describes the public data sets of one municipality whose
// pages live at root.
func (s *Server) dcatDatasets(root string, st *strategy.Strategy, snap *snapshot, publisher map[string]any) []any {
	name := st.Municipality.Name
	var keywords []map[string]string
	for _, kw := range []string{"digitalisering", "e-tjänster", "måluppföljning", "nyckeltal", name} {
		keywords = append(keywords, map[string]string{"@language": "sv", "@value": kw})
	}
	distribution := func(id, title, url, format, media string) map[string]any {
		return map[string]any{
			"@id":              url + "#distribution",
			"@type":            "dcat:Distribution",
			"dcterms:title":    []map[string]string{{"@language": "sv", "@value": title}},
			"dcat:accessURL":   ref(url),
			"dcat:downloadURL": ref(url),
			"dcterms:format":   ref(format),
			"dcat:mediaType":   ref("http://www.iana.org/assignments/media-types/" + media),
			"dcterms:license":  ref(licenceCC0),
		}
	}
	common := func(id string, title, desc strategy.Text, dists ...any) map[string]any {
		d := map[string]any{
			"@id":                        id,
			"@type":                      "dcat:Dataset",
			"dcterms:title":              langText(title),
			"dcterms:description":        langText(desc),
			"dcterms:publisher":          publisher,
			"dcat:contactPoint":          s.dcatContact(st),
			"dcat:theme":                 ref(themeGOVE),
			"dcat:keyword":               keywords,
			"dcterms:language":           ref(langSwedish),
			"dcterms:accrualPeriodicity": ref(frequency(st)),
			"dcat:landingPage":           ref(root + "/"),
			"dcat:distribution":          dists,
		}
		if !snap.loaded.IsZero() {
			d["dcterms:modified"] = map[string]string{"@type": "xsd:dateTime", "@value": snap.loaded.UTC().Format(time.RFC3339)}
		}
		if !st.Adopted.IsZero() {
			d["dcterms:issued"] = map[string]string{"@type": "xsd:date", "@value": st.Adopted.Format("2006-01-02")}
		}
		return d
	}
	obs := common(root+"/api/v1/observations",
		strategy.Text{SV: name + ": mätvärden för digitaliseringsstrategins indikatorer", EN: name + ": values of the digitalisation strategy's indicators"},
		strategy.Text{SV: "Utfall per period och indikator (med fördelning där den finns) för de publika målen i " + st.Title.SV + ".",
			EN: "Outcome per period and indicator (with breakdowns where available) for the public goals of " + st.Title.In("en") + "."},
		distribution("csv", "Mätvärden (CSV)", root+"/api/v1/observations.csv", fileTypeCSV, "text/csv"),
		distribution("json", "Mätvärden (JSON)", root+"/api/v1/observations", fileTypeJSON, "application/json"))
	stat := common(root+"/api/v1/statuses",
		strategy.Text{SV: name + ": mål, status och bedömningar", EN: name + ": goals, status and assessments"},
		strategy.Text{SV: "Strategins publika mål och indikatorer med aktuell status, prognos och fastställda bedömningar.",
			EN: "The strategy's public goals and indicators with current status, forecast and confirmed assessments."},
		distribution("statuses", "Status och bedömningar (JSON)", root+"/api/v1/statuses", fileTypeJSON, "application/json"),
		distribution("strategy", "Strategin (JSON)", root+"/api/v1/strategy", fileTypeJSON, "application/json"))
	return []any{obs, stat}
}
