package followup

import (
	"strings"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// Human labels for what the store keeps as codes: the kinds of a value's
// dimension and the sources of values. Every label is plain text; what
// comes from outside (a dimension's value, an unknown source) is passed
// on as text and escaped by html/template like everything else.

// dimensionKinds names the kinds of break-down the collectors and the
// measures write (clickhouse.Measures' Dimensions, the cases and
// e-service files), Swedish first.
var dimensionKinds = map[string][2]string{
	"department": {"Förvaltning", "Department"},
	"case_type":  {"Ärendetyp", "Case type"},
	"channel":    {"Kanal", "Channel"},
	"service":    {"E-tjänst", "E-service"},
	"system":     {"System", "System"},
	"group":      {"Grupp", "Group"},
	"category":   {"Kategori", "Category"},
}

// dimensionKindLabel names a kind of break-down: "Förvaltning"; a kind
// not in dimensionKinds is shown as written, capitalised.
func dimensionKindLabel(kind, lang string) string {
	if m, ok := dimensionKinds[kind]; ok {
		if lang == "en" {
			return m[1]
		}
		return m[0]
	}
	return capitalize(strings.ReplaceAll(kind, "_", " "))
}

// dimensionText is a value's dimension as shown: "Totalt" or
// "Förvaltning: Socialförvaltningen".
func dimensionText(d strategy.Dimension, lang string) string {
	if d.IsTotal() {
		if lang == "en" {
			return "Total"
		}
		return "Totalt"
	}
	return dimensionKindLabel(d.Kind, lang) + ": " + d.Value
}

// factsSources names where each kind of raw facts is collected from.
var factsSources = map[facts.Kind][2]string{
	facts.KindEServices: {"e-tjänstkatalog", "e-service catalogue"},
	facts.KindCases:     {"ärendesystem", "case management system"},
	facts.KindSurvey:    {"enkät", "survey"},
	facts.KindProbes:    {"tillgänglighetskontroll", "availability checks"},
}

// sourceText names where a value came from: "Manuellt värde", "Uppladdad
// fil", "Insamlad: e-tjänstkatalog" for a measure computed from the
// e-service catalogue, and so on. A source it does not know is shown as
// stored, after "Annan källa".
func sourceText(src, lang string) string {
	pick := func(sv, en string) string {
		if lang == "en" {
			return en
		}
		return sv
	}
	collected := func(sv, en string) string { return pick("Insamlad: "+sv, "Collected: "+en) }
	switch {
	case src == SourceManual:
		return pick("Manuellt värde", "Entered by hand")
	case src == SourceUpload:
		return pick("Uppladdad fil", "Uploaded file")
	case src == "series_csv":
		return collected("seriefil (CSV)", "series file (CSV)")
	case src == "kolada":
		return collected("Kolada", "Kolada")
	case strings.HasPrefix(src, "prometheus/"):
		return collected("Prometheus", "Prometheus")
	case strings.HasPrefix(src, "measure:"):
		if m, ok := clickhouse.LookupMeasure(strings.TrimPrefix(src, "measure:")); ok {
			if l, ok := factsSources[m.Facts]; ok {
				return collected(l[0], l[1])
			}
		}
		return collected("beräknat mått", "computed measure")
	case src == "":
		return "–"
	}
	return pick("Annan källa: ", "Other source: ") + src
}

// measureNote says where a computed indicator's values come from: the
// source and the measure's title ("Insamlad: e-tjänstkatalog – Antal
// aktiva e-tjänster"), or Kolada and the key figure.
func measureNote(src strategy.Source, lang string) string {
	switch {
	case src.Measure != "":
		s := sourceText("measure:"+src.Measure, lang)
		if m, ok := clickhouse.LookupMeasure(src.Measure); ok {
			s += " – " + m.Title.In(lang)
		}
		return s
	case src.Kolada != "":
		return sourceText("kolada", lang) + " " + src.Kolada
	}
	return ""
}

// whoText is the signed-in user as the bar shows them: the display name
// and the role, the role once. A display name that already ends with the
// role in parentheses ("Kommunledningskontoret (administratör)") is shown
// as it is.
func whoText(who *auth.Identity, lang string) string {
	role := tr(lang, "role_"+string(who.Role))
	name := strings.TrimSpace(who.Display)
	if name == "" {
		name = who.Name
	}
	lower := strings.ToLower(name)
	for _, l := range []string{"sv", "en"} {
		if strings.HasSuffix(lower, "("+strings.ToLower(tr(l, "role_"+string(who.Role)))+")") {
			return name
		}
	}
	return name + " (" + role + ")"
}

// countText writes a count as the pages write numbers: "100 000" with a
// no-break space in Swedish, "100,000" in English.
func countText(n int, lang string) string { return progress.FormatNumber(float64(n), lang) }
