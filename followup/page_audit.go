package followup

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/strategy"
)

// Actions are the audit trail's actions with their labels.
var Actions = []struct{ Action, SV, EN string }{
	{"assessment.draft", "Bedömning sparad som utkast", "Assessment saved as draft"},
	{"assessment.confirm", "Bedömning bekräftad", "Assessment confirmed"},
	{"assessment.ready", "Bedömning bekräftad och klarmarkerad", "Assessment confirmed and marked ready"},
	{"value.enter", "Värde angivet", "Value entered"},
	{"value.correct", "Värde rättat", "Value corrected"},
	{"value.upload", "Värden uppladdade", "Values uploaded"},
	{"period.close", "Period stängd", "Period closed"},
	{"period.reopen", "Period öppnad igen", "Period reopened"},
	{"login", "Inloggning", "Sign-in"},
	{"login.failed", "Misslyckad inloggning", "Failed sign-in"},
	{"logout", "Utloggning", "Sign-out"},
	{"user.add", "Användare tillagd", "User added"},
	{"user.change", "Användare ändrad", "User changed"},
	{"user.password", "Lösenord bytt", "Password changed"},
	{"user.remove", "Användare borttagen", "User removed"},
}

func actionLabel(a, lang string) string {
	base, failed := strings.CutSuffix(a, ".failed")
	if a == "login.failed" {
		base, failed = a, false
	}
	base, unknown := strings.CutSuffix(base, ".unknown")
	for _, x := range Actions {
		if x.Action == base {
			l := x.SV
			if lang == "en" {
				l = x.EN
			}
			switch {
			case failed && lang == "en":
				return l + " (failed to save)"
			case failed:
				return l + " (kunde inte sparas)"
			case unknown && lang == "en":
				return l + " (only partly saved: outcome unknown)"
			case unknown:
				return l + " (bara delvis sparat: utfallet okänt)"
			}
			return l
		}
	}
	return a
}

type auditView struct {
	chrome
	Action                         string
	Actor, Subject, Period, Search string
	From, To                       string
	Actions                        []option
	Problems                       []string
	Rows                           []auditRow
	CSVURL, Newer, Older           string
}

type auditRow struct {
	When, Actor, Role, Action, Subject, Period string
	Before, After, Reason, Remote              string
}

// auditPage is how many entries a page of the audit trail shows.
const auditPage = 50

// auditFilter reads the filter from the query; problems are reported in
// the user's language.
func (s *Service) auditFilter(r *http.Request, q *req) (clickhouse.AuditFilter, []string) {
	qs := r.URL.Query()
	f := clickhouse.AuditFilter{Tenant: q.st.Municipality.Code, IncludeGlobal: true,
		Actor: strings.TrimSpace(qs.Get("vem")), Action: qs.Get("handling"), SubjectID: strings.TrimSpace(qs.Get("vad")),
		Period: strings.TrimSpace(qs.Get("period")), Text: strings.TrimSpace(qs.Get("sok"))}
	var probs []string
	day := func(key string, next bool) time.Time {
		v := strings.TrimSpace(qs.Get(key))
		if v == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation("2006-01-02", v, strategy.Stockholm)
		if err != nil || t.Year() < 1970 || t.Year() > 2105 {
			probs = append(probs, trf(q.lang, "bad_filter", v))
			return time.Time{}
		}
		if next {
			t = t.AddDate(0, 0, 1)
		}
		return t
	}
	f.From, f.To = day("fran", false), day("till", true)
	if f.Period != "" {
		if p, err := strategy.ParsePeriod(f.Period); err == nil {
			f.Period = p.String()
		} else {
			probs = append(probs, trf(q.lang, "bad_filter", f.Period))
			f.Period = ""
		}
	}
	for _, v := range []string{f.Actor, f.SubjectID, f.Text} {
		if len(v) > 200 {
			probs = append(probs, trf(q.lang, "bad_filter", v[:20]+"…"))
		}
	}
	return f, probs
}

// serveAudit browses the audit trail (admins).
func (s *Service) serveAudit(w http.ResponseWriter, r *http.Request, q *req) {
	f, probs := s.auditFilter(r, q)
	qs := r.URL.Query()
	page, _ := strconv.Atoi(qs.Get("sida"))
	page = max(page, 0)
	v := &auditView{chrome: s.chrome(q, "audit"), Actor: f.Actor, Action: f.Action, Subject: f.SubjectID, Period: f.Period,
		Search: f.Text, From: qs.Get("fran"), To: qs.Get("till"), Problems: probs}
	v.Actions = append(v.Actions, option{Value: "", Label: tr(q.lang, "any"), Checked: f.Action == ""})
	for _, a := range Actions {
		v.Actions = append(v.Actions, option{Value: a.Action, Label: actionLabel(a.Action, q.lang), Checked: f.Action == a.Action})
	}
	status := http.StatusOK
	if len(probs) > 0 {
		status = http.StatusBadRequest
	} else {
		f.Offset, f.Limit = page*auditPage, auditPage+1
		entries, err := s.store.AuditLog(r.Context(), f)
		if err != nil {
			s.fail(w, r, q, err)
			return
		}
		kv := filterKV(qs)
		link := func(p int) string {
			if p > 0 {
				return q.url("/uppfoljning/logg", append(slices.Clone(kv), "sida", strconv.Itoa(p))...)
			}
			return q.url("/uppfoljning/logg", kv...)
		}
		if len(entries) > auditPage {
			entries = entries[:auditPage]
			v.Older = link(page + 1)
		}
		if page > 0 {
			v.Newer = link(page - 1)
		}
		v.CSVURL = q.url("/uppfoljning/logg.csv", kv...)
		for _, e := range entries {
			v.Rows = append(v.Rows, auditRow{When: formatTime(e.At), Actor: e.Actor, Role: e.Role, Action: actionLabel(e.Action, q.lang),
				Subject: strings.TrimSpace(e.Subject + " " + e.SubjectID), Period: e.Period, Before: e.Before, After: e.After,
				Reason: e.Reason, Remote: e.Remote})
		}
	}
	s.render(w, r, q, status, "audit", tr(q.lang, "audit_title"), v)
}

// serveAuditCSV exports the selected entries (at most
// clickhouse.MaxAuditRows) as CSV.
func (s *Service) serveAuditCSV(w http.ResponseWriter, r *http.Request, q *req) {
	f, probs := s.auditFilter(r, q)
	if len(probs) > 0 {
		s.fail(w, r, q, refuse(http.StatusBadRequest, strings.Join(probs, " "), strings.Join(probs, " ")))
		return
	}
	entries, err := s.store.AuditLog(r.Context(), f)
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	head := []string{"tid", "kommun", "vem", "roll", "händelse", "vad", "id", "period", "före", "efter", "motivering", "adress"}
	if q.lang == "en" {
		head = []string{"time", "tenant", "actor", "role", "action", "subject", "id", "period", "before", "after", "reason", "address"}
	}
	rows := make([][]string, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, []string{e.At.UTC().Format(time.RFC3339), e.Tenant, e.Actor, e.Role, e.Action, e.Subject, e.SubjectID,
			e.Period, e.Before, e.After, e.Reason, e.Remote})
	}
	name := fmt.Sprintf("andringslogg-%s-%s.csv", q.st.Municipality.Code, s.opts.Now().In(strategy.Stockholm).Format("20060102"))
	if err := writeCSV(w, name, head, rows); err != nil {
		s.log.Warn("followup: writing the audit export failed", "err", err)
	}
}

// filterKV are the audit filter's query values, sorted by key, without
// the page and the language.
func filterKV(qs url.Values) []string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(qs)) {
		if k != "sida" && k != "lang" && qs.Get(k) != "" {
			kv = append(kv, k, qs.Get(k))
		}
	}
	return kv
}
