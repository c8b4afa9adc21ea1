package followup

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/strategy"
)

// writeEndpoint is one POST route with a form that would succeed for a
// user allowed to send it.
type writeEndpoint struct {
	path string
	form func() url.Values
	// min is the least role that may send it (editors need to own the
	// subject: bo owns andel-digitala).
	min auth.Role
}

var writeEndpoints = []writeEndpoint{
	{"/uppfoljning/indikator/andel-digitala/2025-T1", func() url.Values { return formOf("met", "", "Analys", "bekrafta", 0, false) }, auth.Editor},
	{"/uppfoljning/mal/intern-effektivitet/2025-T1", func() url.Values { return formOf("partly", "", "Analys", "utkast", 0, false) }, auth.Editor},
	{"/uppfoljning/indikator/andel-digitala/varde", func() url.Values {
		return url.Values{"period": {"2025-05"}, "varde": {"67"}, "kommentar": {"Från systemet"}, "bas": {"0"}, "tillbaka": {"2025-T1"}}
	}, auth.Editor},
	{"/uppfoljning/rapport/2025-T1/stang", func() url.Values { return url.Values{"bekraftat": {"1"}} }, auth.Admin},
	{"/uppfoljning/rapport/2025-T1/oppna", func() url.Values { return url.Values{"motivering": {"Fel"}} }, auth.Admin},
	{"/uppfoljning/anvandare", func() url.Values { return url.Values{"namn": {"ny"}, "roll": {"viewer"}} }, auth.Admin},
	{"/uppfoljning/anvandare/cy", func() url.Values { return url.Values{"atgard": {"andra"}, "roll": {"viewer"}} }, auth.Admin},
}

// TestWriteEndpointsRefuse posts to every write endpoint as nobody, as a
// viewer, as an editor where only admins may, without and with a wrong
// CSRF token, and with a trusted header from an address that is not a
// proxy: each is refused and nothing is written.
func TestWriteEndpointsRefuse(t *testing.T) {
	e := newEnv(t)
	anon := e.client("127.0.0.1")
	vera := e.login("vera")
	bo := e.login("bo")
	anna := e.login("anna")
	spoof := e.client("127.0.0.1")
	spoof.hdr.Set("X-Remote-User", "anna")
	for _, ep := range writeEndpoints {
		t.Run(ep.path, func(t *testing.T) {
			for _, c := range []*client{anon, spoof} {
				a := c.post(ep.path, ep.form())
				if a.code != http.StatusSeeOther || !strings.HasPrefix(a.hdr.Get("Location"), "/logga-in?next=") {
					t.Errorf("anonymous POST: %d %q", a.code, a.hdr.Get("Location"))
				}
			}
			if a := vera.post(ep.path, ep.form()); a.code != http.StatusForbidden {
				t.Errorf("viewer POST: %d", a.code)
			}
			if ep.min == auth.Admin {
				if a := bo.post(ep.path, ep.form()); a.code != http.StatusForbidden {
					t.Errorf("editor POST to an admin route: %d", a.code)
				}
			}
			f := ep.form()
			f.Set("csrf", "")
			if a := anna.post(ep.path, f); a.code != http.StatusForbidden || !strings.Contains(a.body, "CSRF") {
				t.Errorf("POST without CSRF token: %d", a.code)
			}
			f = ep.form()
			f.Set("csrf", anna.csrf[:len(anna.csrf)-1]+"x")
			if a := anna.post(ep.path, f); a.code != http.StatusForbidden {
				t.Errorf("POST with a wrong CSRF token: %d", a.code)
			}
			// Another user's token is no good either.
			f = ep.form()
			f.Set("csrf", bo.csrf)
			if a := anna.post(ep.path, f); a.code != http.StatusForbidden {
				t.Errorf("POST with another session's token: %d", a.code)
			}
		})
	}
	// An editor cannot write for a subject they do not own.
	if a := bo.post("/uppfoljning/indikator/antal-e-tjanster/2025-T1", formOf("met", "", "x", "bekrafta", 0, false)); a.code != http.StatusForbidden {
		t.Errorf("editor on another owner's indicator: %d", a.code)
	}
	if a := bo.post("/uppfoljning/mal/ansokningar/2025-T1", formOf("met", "", "x", "bekrafta", 0, false)); a.code != http.StatusForbidden {
		t.Errorf("editor on another owner's goal: %d", a.code)
	}
	if got := e.writes(); len(got) != 0 {
		t.Errorf("refused requests wrote %v", got)
	}
	if as := e.assessments(false); len(as) != 0 {
		t.Errorf("refused requests wrote assessments: %+v", as)
	}
	uf, err := auth.LoadUsers(e.users)
	if err != nil || uf.User("ny") != nil || uf.User("cy").Role != auth.Editor {
		t.Errorf("refused requests changed the users file (%v)", err)
	}
	// Read-only pages need a sign-in too, and admin pages the admin role.
	for _, p := range []string{"/uppfoljning/rapport", "/uppfoljning/rapport/2025-T1", "/uppfoljning/indikator/intern-kostnad/2025-T1",
		"/uppfoljning/logg", "/ledning", "/uppfoljning"} {
		if a := anon.get(p); a.code != http.StatusSeeOther || !strings.HasPrefix(a.hdr.Get("Location"), "/logga-in?next=") {
			t.Errorf("anonymous GET %s: %d %q", p, a.code, a.hdr.Get("Location"))
		}
	}
	for _, p := range []string{"/uppfoljning/logg", "/uppfoljning/logg.csv", "/uppfoljning/anvandare"} {
		if a := bo.get(p); a.code != http.StatusForbidden {
			t.Errorf("editor GET %s: %d", p, a.code)
		}
	}
	if a := vera.get("/uppfoljning/uppladdning"); a.code != http.StatusForbidden {
		t.Errorf("viewer GET upload form: %d", a.code)
	}
	if a := vera.get("/uppfoljning/indikator/andel-digitala/2025-T1"); a.code != http.StatusOK || strings.Contains(a.body, `name="niva"`) {
		t.Errorf("viewer sees an editable form (%d)", a.code)
	}
}

// TestTrustedHeader signs in through the header only from the proxy.
func TestTrustedHeader(t *testing.T) {
	e := newEnv(t)
	proxy := e.client("127.0.0.2")
	proxy.hdr.Set("X-Remote-User", "bo")
	a := proxy.get("/uppfoljning/indikator/andel-digitala/2025-T1")
	if a.code != http.StatusOK || !strings.Contains(a.body, "Bo Berg") || proxy.csrf == "" {
		t.Fatalf("header user from the proxy: %d", a.code)
	}
	mustNotContain(t, "header user's page", a.body, `class="fu-logout"`) // the proxy signs them out
	if a := proxy.post("/uppfoljning/indikator/andel-digitala/2025-T1", formOf("met", "met", "Via SSO", "bekrafta", 0, false)); a.code != http.StatusSeeOther {
		t.Fatalf("header user's save: %d %s", a.code, a.body)
	}
	as := e.assessments(false)
	if len(as) != 1 || as[0].Author != "bo" {
		t.Fatalf("assessments = %+v", as)
	}
	// The same header from elsewhere is ignored.
	direct := e.client("127.0.0.1")
	direct.hdr.Set("X-Remote-User", "bo")
	if a := direct.get("/uppfoljning/rapport"); a.code != http.StatusSeeOther {
		t.Errorf("header from a non-proxy: %d", a.code)
	}
	// An unknown header user gets the default role (viewer).
	unknown := e.client("127.0.0.2")
	unknown.hdr.Set("X-Remote-User", "okand.person")
	if a := unknown.get("/uppfoljning/rapport"); a.code != http.StatusOK {
		t.Errorf("unknown header user reading: %d", a.code)
	}
	if a := unknown.post("/uppfoljning/indikator/andel-digitala/2025-T1", formOf("met", "", "x", "bekrafta", 0, false)); a.code != http.StatusForbidden {
		t.Errorf("unknown header user writing: %d", a.code)
	}
}

// TestAssessmentWorkflow drafts, confirms and marks ready, with the
// engine's proposal stored beside each revision and an audit row each.
func TestAssessmentWorkflow(t *testing.T) {
	e := newEnv(t)
	bo := e.login("bo")
	path := "/uppfoljning/indikator/andel-digitala/2025-T1"
	a := bo.post(path, formOf("partly", "met", "Första utkastet", "utkast", 0, false))
	if a.code != http.StatusSeeOther {
		t.Fatalf("draft: %d %s", a.code, a.body)
	}
	as := e.assessments(false)
	if len(as) != 1 || as[0].Confirmed || as[0].Ready || as[0].Proposed != strategy.LevelNotMet || as[0].Comment != "Första utkastet" {
		t.Fatalf("draft stored as %+v", as)
	}
	if len(e.assessments(true)) != 0 {
		t.Error("a draft counts as confirmed")
	}
	a = bo.post(path, formOf("partly", "met", "Bekräftad analys", "bekrafta", as[0].Revision, false))
	if a.code != http.StatusSeeOther {
		t.Fatalf("confirm: %d %s", a.code, a.body)
	}
	as = e.assessments(true)
	if len(as) != 1 || !as[0].Confirmed || as[0].Ready || as[0].Forecast != strategy.LevelMet {
		t.Fatalf("confirmed = %+v", as)
	}
	a = bo.post(path, formOf("partly", "met", "Bekräftad analys", "bekrafta", as[0].Revision, true))
	if a.code != http.StatusSeeOther {
		t.Fatalf("ready: %d %s", a.code, a.body)
	}
	report := bo.get("/uppfoljning/rapport/2025-T1")
	mustContain(t, "report", report.body, "Klarmarkerad", "IT-avdelningen")
	if got := strings.Join(e.writes(), " "); got != "assessment.draft assessment.confirm assessment.ready" {
		t.Errorf("audit = %s", got)
	}
	last := e.audit()[len(e.audit())-1]
	if last.Actor != "bo" || last.Role != "editor" || last.Subject != "indicator" || last.SubjectID != "andel-digitala" ||
		last.Period != "2025-T1" || !strings.Contains(last.Before, `"ready":false`) || !strings.Contains(last.After, `"ready":true`) || last.Remote != "127.0.0.1" {
		t.Errorf("audit entry = %+v", last)
	}
	// The form shows every revision.
	page := bo.get(path)
	mustContain(t, "history", page.body, "Första utkastet", "Bekräftad analys", "Utkast", "Klarmarkerad")
	// A goal: its owner (Kommunstyrelsen) has no editor; the admin writes.
	anna := e.login("anna")
	if a := anna.post("/uppfoljning/mal/ansokningar/2025-T1", formOf("partly", "partly", "Målet går åt rätt håll.", "bekrafta", 0, true)); a.code != http.StatusSeeOther {
		t.Fatalf("goal: %d %s", a.code, a.body)
	}
}

// TestStaleForm: two people edit the same assessment; the second save,
// based on an old revision, gets 409 with both versions and does not
// overwrite; saving again from the conflict page works.
func TestStaleForm(t *testing.T) {
	e := newEnv(t)
	bo := e.login("bo")
	anna := e.login("anna")
	path := "/uppfoljning/indikator/andel-digitala/2025-T1"
	if a := bo.post(path, formOf("met", "", "Bos första", "bekrafta", 0, false)); a.code != http.StatusSeeOther {
		t.Fatal(a.code, a.body)
	}
	base := e.assessments(false)[0].Revision
	if a := anna.post(path, formOf("partly", "", "Annas ändring", "bekrafta", base, false)); a.code != http.StatusSeeOther {
		t.Fatal(a.code, a.body)
	}
	a := bo.post(path, formOf("not_met", "", "Bos andra", "bekrafta", base, false))
	if a.code != http.StatusConflict {
		t.Fatalf("stale save: %d", a.code)
	}
	mustContain(t, "conflict page", a.body, "Någon annan har sparat", "Annas ändring", "Bos andra", "anna")
	if cur := e.assessments(false); len(cur) != 1 || cur[0].Comment != "Annas ändring" {
		t.Fatalf("stale save overwrote: %+v", cur)
	}
	// A new save with no base at all is stale too.
	if a := bo.post(path, formOf("not_met", "", "Bos tredje", "bekrafta", 0, false)); a.code != http.StatusConflict {
		t.Errorf("save without base over an existing assessment: %d", a.code)
	}
	// The conflict page carries the current revision: saving from it wins.
	m := regexpFind(a.body, `name="bas" value="(\d+)"`)
	if m == "" {
		t.Fatal("conflict page has no base")
	}
	if m != strconv.FormatUint(e.assessments(false)[0].Revision, 10) {
		t.Errorf("conflict page base %s, current %d", m, e.assessments(false)[0].Revision)
	}
	v := formOf("not_met", "", "Bos andra", "bekrafta", 0, false)
	v.Set("bas", m)
	if a := bo.post(path, v); a.code != http.StatusSeeOther {
		t.Fatalf("save from the conflict page: %d %s", a.code, a.body)
	}
	if cur := e.assessments(false); cur[0].Comment != "Bos andra" {
		t.Errorf("after resolving: %+v", cur)
	}
}

// TestCloseAndReopen: a closed period refuses every write into it until an
// admin reopens it with a reason.
func TestCloseAndReopen(t *testing.T) {
	e := newEnv(t)
	bo := e.login("bo")
	anna := e.login("anna")
	path := "/uppfoljning/indikator/andel-digitala/2025-T1"
	if a := bo.post(path, formOf("met", "", "Klar", "bekrafta", 0, true)); a.code != http.StatusSeeOther {
		t.Fatal(a.code, a.body)
	}
	rev := e.assessments(false)[0].Revision
	if a := anna.post("/uppfoljning/rapport/2025-T1/stang", url.Values{"bekraftat": {"1"}}); a.code != http.StatusSeeOther {
		t.Fatalf("close: %d %s", a.code, a.body)
	}
	if a := anna.post("/uppfoljning/rapport/2025-T1/stang", url.Values{"bekraftat": {"1"}}); a.code != http.StatusConflict {
		t.Errorf("closing twice: %d", a.code)
	}
	report := bo.get("/uppfoljning/rapport/2025-T1")
	mustContain(t, "closed report", report.body, "Stängd", "anna")
	if a := bo.get(path); strings.Contains(a.body, `name="niva"`) {
		t.Error("the form is editable in a closed period")
	}
	if a := bo.post(path, formOf("partly", "", "Ändrad", "bekrafta", rev, true)); a.code != http.StatusConflict || !strings.Contains(a.body, "stängd") {
		t.Errorf("save into a closed period: %d", a.code)
	}
	// A value for March feeds the closed T1 report; one for May does not.
	val := func(per string) answer {
		return bo.post("/uppfoljning/indikator/andel-digitala/varde", url.Values{"period": {per}, "varde": {"61"}, "kommentar": {"k"}, "bas": {"0"}, "tillbaka": {"2025-T1"}})
	}
	if a := val("2025-03"); a.code != http.StatusConflict {
		t.Errorf("value in the closed period: %d", a.code)
	}
	if a := val("2025-05"); a.code != http.StatusSeeOther {
		t.Errorf("value after the closed period: %d %s", a.code, a.body)
	}
	// Reopening needs a reason.
	if a := anna.post("/uppfoljning/rapport/2025-T1/oppna", url.Values{"motivering": {"  "}}); a.code != http.StatusBadRequest {
		t.Errorf("reopen without reason: %d", a.code)
	}
	if a := anna.post("/uppfoljning/rapport/2025-T1/oppna", url.Values{"motivering": {"Kulturs utfall var fel"}}); a.code != http.StatusSeeOther {
		t.Fatalf("reopen: %d %s", a.code, a.body)
	}
	if a := bo.post(path, formOf("partly", "", "Ändrad", "bekrafta", rev, true)); a.code != http.StatusSeeOther {
		t.Errorf("save after reopening: %d %s", a.code, a.body)
	}
	got := strings.Join(e.writes(), " ")
	if got != "assessment.ready period.close value.enter period.reopen assessment.ready" {
		t.Errorf("audit = %s", got)
	}
	for _, a := range e.audit() {
		if a.Action == "period.reopen" && (a.Reason != "Kulturs utfall var fel" || a.Actor != "anna" || !strings.Contains(a.Before, `"closed":true`)) {
			t.Errorf("reopen entry = %+v", a)
		}
	}
	h, err := e.store.PeriodHistory(context.Background(), tenant, t1)
	if err != nil || len(h) != 2 || h[0].Closed || !h[1].Closed {
		t.Errorf("period history = %+v (%v)", h, err)
	}
}

// TestBadInput: each bad form gets 400 with a message and writes nothing.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	bo := e.login("bo")
	path := "/uppfoljning/indikator/andel-digitala/2025-T1"
	for _, c := range []struct {
		name string
		path string
		form url.Values
		want string
	}{
		{"empty comment", path, formOf("met", "", "   ", "bekrafta", 0, false), "Skriv en kommentar"},
		{"long comment", path, formOf("met", "", strings.Repeat("å", MaxComment+1), "bekrafta", 0, false), "högst 4000"},
		{"control characters", path, formOf("met", "", "a\x00b", "bekrafta", 0, false), "otillåtna tecken"},
		{"no level", path, formOf("", "", "x", "bekrafta", 0, false), "Välj en bedömning"},
		{"unknown level", path, formOf("excellent", "", "x", "bekrafta", 0, false), "Välj en bedömning"},
		{"bad forecast", path, formOf("met", "not_assessed", "x", "bekrafta", 0, false), "helårsprognos"},
		{"forecast for the year", "/uppfoljning/indikator/andel-digitala/2024", formOf("met", "met", "x", "bekrafta", 0, false), "ingen prognos"},
		{"ready draft", path, formOf("met", "", "x", "utkast", 0, true), "Klarmarkering kräver"},
		{"percent over 100", "/uppfoljning/indikator/andel-digitala/varde", url.Values{"period": {"2025-05"}, "varde": {"120"}, "kommentar": {"k"}, "tillbaka": {"2025-T1"}}, "utanför 0–100"},
		{"not a number", "/uppfoljning/indikator/andel-digitala/varde", url.Values{"period": {"2025-05"}, "varde": {"sjuttio"}, "kommentar": {"k"}, "tillbaka": {"2025-T1"}}, "som ett tal"},
		{"future period", "/uppfoljning/indikator/andel-digitala/varde", url.Values{"period": {"2025-T3"}, "varde": {"50"}, "kommentar": {"k"}, "tillbaka": {"2025-T1"}}, "har inte börjat"},
		{"bad period", "/uppfoljning/indikator/andel-digitala/varde", url.Values{"period": {"våren"}, "varde": {"50"}, "kommentar": {"k"}, "tillbaka": {"2025-T1"}}, "Ange en period"},
		{"value without comment", "/uppfoljning/indikator/andel-digitala/varde", url.Values{"period": {"2025-05"}, "varde": {"50"}, "tillbaka": {"2025-T1"}}, "Skriv en kommentar"},
		{"bad dimension", "/uppfoljning/indikator/andel-digitala/varde", url.Values{"period": {"2025-05"}, "varde": {"50"}, "kommentar": {"k"}, "dimension": {"bara"}, "tillbaka": {"2025-T1"}}, "typ=värde"},
	} {
		a := bo.post(c.path, c.form)
		if a.code != http.StatusBadRequest || !strings.Contains(a.body, c.want) {
			t.Errorf("%s: %d, want 400 with %q", c.name, a.code, c.want)
		}
	}
	// Unknown subjects and periods that are not report periods: 404.
	for _, p := range []string{"/uppfoljning/indikator/nope/2025-T1", "/uppfoljning/indikator/andel-digitala/2025-T3",
		"/uppfoljning/indikator/andel-digitala/2025-Q1", "/uppfoljning/indikator/andel-digitala/2026", "/uppfoljning/mal/nope/2025-T1"} {
		if a := bo.post(p, formOf("met", "", "x", "bekrafta", 0, false)); a.code != http.StatusNotFound {
			t.Errorf("POST %s: %d", p, a.code)
		}
	}
	// An oversized body is refused before anything is read.
	big := url.Values{"kommentar": {strings.Repeat("x", 300<<10)}}
	if a := bo.post(path, big); a.code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized form: %d", a.code)
	}
	if got := e.writes(); len(got) != 0 {
		t.Errorf("bad input wrote %v", got)
	}
	// The refused form keeps what was typed.
	a := bo.post(path, formOf("partly", "met", strings.Repeat("ö", MaxComment+1), "bekrafta", 0, false))
	mustContain(t, "refused form", a.body, `value="partly" checked`, `id="fel"`)
}

// TestManualValues enters and corrects a value; the history shows both;
// a stale correction is refused with both values.
func TestManualValues(t *testing.T) {
	e := newEnv(t)
	bo := e.login("bo")
	vpath := "/uppfoljning/indikator/andel-digitala/varde"
	if a := bo.post(vpath, url.Values{"period": {"2025-05"}, "varde": {"64,5"}, "kommentar": {"Från e-tjänsteplattformen"}, "bas": {"0"}, "tillbaka": {"2025-T1"}}); a.code != http.StatusSeeOther {
		t.Fatalf("enter: %d %s", a.code, a.body)
	}
	// Correcting: the form is filled from the value to correct.
	form := bo.get("/uppfoljning/indikator/andel-digitala/2025-T1?varde=2025-05")
	base := regexpFind(form.body, `id="vardeformular"[\s\S]*?name="bas" value="(\d+)"`)
	if base == "" || base == "0" || !strings.Contains(form.body, `value="64,5"`) {
		t.Fatalf("correction form base %q", base)
	}
	if a := bo.post(vpath, url.Values{"period": {"2025-05"}, "varde": {"65,5"}, "kommentar": {"Rättat efter avstämning"}, "bas": {base}, "tillbaka": {"2025-T1"}}); a.code != http.StatusSeeOther {
		t.Fatalf("correct: %d %s", a.code, a.body)
	}
	// A second correction from the old form is stale.
	a := bo.post(vpath, url.Values{"period": {"2025-05"}, "varde": {"99"}, "kommentar": {"Gammalt formulär"}, "bas": {base}, "tillbaka": {"2025-T1"}})
	if a.code != http.StatusConflict {
		t.Fatalf("stale correction: %d", a.code)
	}
	mustContain(t, "value conflict", a.body, "Sparat värde: 65,5 %", "Ditt värde: 99")
	hist, err := e.store.ObservationHistory(context.Background(), tenant, "andel-digitala")
	if err != nil || len(hist) != 2 || hist[0].Value != 65.5 || hist[1].Value != 64.5 || hist[0].Author != "bo" || hist[0].Source != SourceManual {
		t.Fatalf("history = %+v (%v)", hist, err)
	}
	page := bo.get("/uppfoljning/indikator/andel-digitala/2025-T1")
	mustContain(t, "indicator page", page.body, "Från e-tjänsteplattformen", "Rättat efter avstämning", "64,5 %", "65,5 %")
	if got := strings.Join(e.writes(), " "); got != "value.enter value.correct" {
		t.Errorf("audit = %s", got)
	}
	for _, x := range e.audit() {
		if x.Action == "value.correct" && (!strings.Contains(x.Before, `"value":64.5`) || !strings.Contains(x.After, `"value":65.5`) || x.Reason != "Rättat efter avstämning") {
			t.Errorf("correction entry = %+v", x)
		}
	}
	// Count units cannot be negative; cy owns antal-e-tjanster.
	cy := e.login("cy")
	if a := cy.post("/uppfoljning/indikator/antal-e-tjanster/varde", url.Values{"period": {"2025-05"}, "varde": {"-3"}, "kommentar": {"k"}, "tillbaka": {"2025-T1"}}); a.code != http.StatusBadRequest {
		t.Errorf("negative count: %d", a.code)
	}
	if a := bo.post("/uppfoljning/indikator/antal-e-tjanster/varde", url.Values{"period": {"2025-05"}, "varde": {"3"}, "kommentar": {"k"}, "tillbaka": {"2025-T1"}}); a.code != http.StatusForbidden {
		t.Errorf("value for another owner's indicator: %d", a.code)
	}
}

func regexpFind(s, re string) string {
	m := regexpMust(re).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// upload posts a file with a comment.
func (c *client) upload(name, content, comment string, withCSRF bool) answer {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if withCSRF {
		mw.WriteField("csrf", c.csrf)
	}
	mw.WriteField("kommentar", comment)
	fw, _ := mw.CreateFormFile("fil", name)
	fw.Write([]byte(content))
	mw.Close()
	return c.do("POST", "/uppfoljning/uppladdning", &buf, mw.FormDataContentType())
}

func TestUpload(t *testing.T) {
	e := newEnv(t)
	bo := e.login("bo")
	bo.get("/uppfoljning/uppladdning")
	good := "indikator;period;värde;kommentar\nandel-digitala;2025-04;65,5;\nintern-kostnad;2024;410;Budgetuppföljning\n"
	if a := bo.upload("serier.csv", good, "", true); a.code != http.StatusBadRequest || !strings.Contains(a.body, "Skriv en kommentar") {
		t.Errorf("upload without comment: %d", a.code)
	}
	if a := bo.upload("serier.csv", good, "Månadsrapport", false); a.code != http.StatusForbidden {
		t.Errorf("upload without CSRF: %d", a.code)
	}
	bad := "indikator;period;värde\nandel-digitala;2025-04;165\nokand;2025-04;1\n"
	a := bo.upload("fel.csv", bad, "Månadsrapport", true)
	if a.code != http.StatusBadRequest {
		t.Fatalf("bad file: %d", a.code)
	}
	mustContain(t, "bad upload", a.body, "fel.csv:2:", "outside 0–100", "fel.csv:3:", "unknown indicator")
	if a := bo.upload("kultur.csv", "indikator;period;värde\nantal-e-tjanster;2025-04;40\n", "Månadsrapport", true); a.code != http.StatusForbidden {
		t.Errorf("upload for another owner's indicator: %d", a.code)
	}
	if a := bo.upload("tom.csv", "indikator;period;värde\n", "Månadsrapport", true); a.code != http.StatusBadRequest {
		t.Errorf("empty upload: %d", a.code)
	}
	if got := e.writes(); len(got) != 0 {
		t.Fatalf("refused uploads wrote %v", got)
	}
	a = bo.upload("serier.csv", good, "Månadsrapport från ekonomi", true)
	if a.code != http.StatusOK || !strings.Contains(a.body, "2 värden sparades") {
		t.Fatalf("upload: %d %s", a.code, a.body)
	}
	hist, _ := e.store.ObservationHistory(context.Background(), tenant, "intern-kostnad")
	if len(hist) != 1 || hist[0].Value != 410 || hist[0].Comment != "Budgetuppföljning" || hist[0].Author != "bo" || hist[0].Source != SourceUpload {
		t.Errorf("intern-kostnad history = %+v", hist)
	}
	hist, _ = e.store.ObservationHistory(context.Background(), tenant, "andel-digitala")
	if len(hist) != 1 || hist[0].Comment != "Månadsrapport från ekonomi" {
		t.Errorf("andel-digitala history = %+v", hist)
	}
	entries := e.audit()
	last := entries[len(entries)-1]
	if last.Action != "value.upload" || last.SubjectID != "serier.csv" || !strings.Contains(last.After, `"rows":2`) || !strings.Contains(last.Before, `"value":455`) {
		t.Errorf("upload entry = %+v", last)
	}
	// The template lists the series indicators.
	tpl := bo.get("/uppfoljning/mall.csv")
	mustContain(t, "template", tpl.body, "indikator;period;värde;dimension;kommentar", "andel-digitala;2025-T1")
}

// TestDraftsNeverPublic: the public page, the public indicator page and
// the public API show the latest confirmed assessment and comment, never a
// later draft, and nothing of internal goals.
func TestDraftsNeverPublic(t *testing.T) {
	e := newEnv(t)
	anna := e.login("anna")
	const (
		published = "Publicerad kommentar Ekorre"
		draft     = "UTKAST Giraff"
		indPub    = "Indikatorkommentar Uggla"
		indDraft  = "INDIKATORUTKAST Lodjur"
		secret    = "Hemlig kommentar Zebra"
	)
	if a := anna.post("/uppfoljning/mal/ansokningar/2025-T1", formOf("partly", "partly", published, "bekrafta", 0, true)); a.code != http.StatusSeeOther {
		t.Fatal(a.code, a.body)
	}
	rev := e.assessments(false)[0].Revision
	if a := anna.post("/uppfoljning/mal/ansokningar/2025-T1", formOf("not_met", "not_met", draft, "utkast", rev, false)); a.code != http.StatusSeeOther {
		t.Fatal(a.code, a.body)
	}
	if a := anna.post("/uppfoljning/indikator/andel-digitala/2025-T1", formOf("met", "met", indPub, "bekrafta", 0, false)); a.code != http.StatusSeeOther {
		t.Fatal(a.code, a.body)
	}
	var irev uint64
	for _, x := range e.assessments(false) {
		if x.SubjectID == "andel-digitala" {
			irev = x.Revision
		}
	}
	if a := anna.post("/uppfoljning/indikator/andel-digitala/2025-T1", formOf("not_met", "", indDraft, "utkast", irev, false)); a.code != http.StatusSeeOther {
		t.Fatal(a.code, a.body)
	}
	if a := anna.post("/uppfoljning/mal/intern-effektivitet/2025-T1", formOf("met", "", secret, "bekrafta", 0, true)); a.code != http.StatusSeeOther {
		t.Fatal(a.code, a.body)
	}
	anon := e.client("127.0.0.1")
	home := pageWith(t, anon, "/", published)
	mustNotContain(t, "public page", home, draft, indDraft, secret, secretGoal)
	ind := anon.get("/indikator/andel-digitala")
	mustContain(t, "public indicator page", ind.body, indPub)
	mustNotContain(t, "public indicator page", ind.body, indDraft, draft)
	for _, p := range []string{"/api/v1/", "/api/v1/strategy", "/api/v1/indicators", "/api/v1/indicators/andel-digitala",
		"/api/v1/observations", "/api/v1/observations.csv", "/api/v1/statuses", "/api/v1/forecasts", "/api/v1/dcat"} {
		a := anon.get(p)
		if a.code != http.StatusOK {
			t.Errorf("GET %s: %d", p, a.code)
		}
		mustNotContain(t, p, a.body, draft, indDraft, secret, secretGoal, secretInd)
	}
	// Signed-in staff see the drafts on the follow-up pages.
	page := anna.get("/uppfoljning/mal/ansokningar/2025-T1")
	mustContain(t, "goal form", page.body, draft, published)
}

// pageWith gets path and insists that it shows want: a write through
// the follow-up tells the dashboards (Site.Changed), so the next page
// shows it at once; the test's refresh clock never moves.
func pageWith(t *testing.T, c *client, path, want string) string {
	t.Helper()
	a := c.get(path)
	if !strings.Contains(a.body, want) {
		t.Fatalf("%s does not show %q (status %d)", path, want, a.code)
	}
	return a.body
}

// TestAuditTrailPage browses, filters and exports the audit trail, and
// checks that every kind of write leaves its row.
func TestAuditTrailPage(t *testing.T) {
	e := newEnv(t)
	mallory := e.client("127.0.0.1")
	if a := mallory.loginAs("anna", "fel lösenord igen"); a.code != http.StatusUnauthorized || !strings.Contains(a.body, "Fel användarnamn eller lösenord") {
		t.Fatalf("failed login: %d", a.code)
	}
	bo := e.login("bo")
	anna := e.login("anna")
	ip := "/uppfoljning/indikator/andel-digitala/2025-T1"
	bo.post(ip, formOf("met", "", "utkast", "utkast", 0, false))
	rev := e.assessments(false)[0].Revision
	bo.post(ip, formOf("met", "", "bekräftad", "bekrafta", rev, false))
	rev = e.assessments(false)[0].Revision
	bo.post(ip, formOf("met", "", "klar", "bekrafta", rev, true))
	bo.post("/uppfoljning/indikator/andel-digitala/varde", url.Values{"period": {"2025-05"}, "varde": {"60"}, "kommentar": {"ny"}, "bas": {"0"}, "tillbaka": {"2025-T1"}})
	o, _ := e.store.ObservationHistory(context.Background(), tenant, "andel-digitala")
	bo.post("/uppfoljning/indikator/andel-digitala/varde", url.Values{"period": {"2025-05"}, "varde": {"61"}, "kommentar": {"rättad"}, "bas": {strconv.FormatUint(o[0].Version, 10)}, "tillbaka": {"2025-T1"}})
	bo.get("/uppfoljning/uppladdning")
	bo.upload("a.csv", "indikator;period;värde\nintern-kostnad;2025;420\n", "uppladdat", true)
	anna.post("/uppfoljning/rapport/2025-T1/stang", url.Values{"bekraftat": {"1"}})
	anna.post("/uppfoljning/rapport/2025-T1/oppna", url.Values{"motivering": {"rättelse"}})
	anna.get("/uppfoljning/anvandare")
	anna.post("/uppfoljning/anvandare", url.Values{"namn": {"dag"}, "roll": {"editor"}, "agare": {"Kultur, Fritid"}, "losenord": {"dags-lösenord-1"}})
	anna.post("/uppfoljning/anvandare/dag", url.Values{"atgard": {"andra"}, "roll": {"viewer"}, "agare": {""}})
	anna.post("/uppfoljning/anvandare/dag", url.Values{"atgard": {"losenord"}, "losenord": {"ett-annat-lösenord"}})
	anna.post("/uppfoljning/anvandare/dag", url.Values{"atgard": {"ta-bort"}, "bekrafta": {"1"}})
	bo.post("/logga-ut", url.Values{})

	var actions []string
	for _, x := range e.audit() {
		if !slices.Contains(actions, x.Action) {
			actions = append(actions, x.Action)
		}
	}
	for _, want := range []string{"login.failed", "login", "assessment.draft", "assessment.confirm", "assessment.ready",
		"value.enter", "value.correct", "value.upload", "period.close", "period.reopen",
		"user.add", "user.change", "user.password", "user.remove", "logout"} {
		if !slices.Contains(actions, want) {
			t.Errorf("no audit row for %s (have %v)", want, actions)
		}
	}
	for _, x := range e.audit() {
		if strings.HasPrefix(x.Action, "user.") && (x.Actor != "anna" || strings.Contains(x.After+x.Before, "$2a$")) {
			t.Errorf("user entry = %+v (actor, or a hash leaked)", x)
		}
		if x.Action == "login.failed" && (x.SubjectID != "anna" || x.Reason != "wrong password" || x.Remote != "127.0.0.1") {
			t.Errorf("login.failed entry = %+v", x)
		}
	}
	page := anna.get("/uppfoljning/logg?handling=period.reopen")
	if page.code != http.StatusOK {
		t.Fatalf("audit page: %d", page.code)
	}
	mustContain(t, "filtered audit page", page.body, "Period öppnad igen", "rättelse")
	mustNotContain(t, "filtered audit page", page.body, "<td>Bedömning sparad som utkast</td>")
	page = anna.get("/uppfoljning/logg?vem=bo&sok=R%C3%84TTAD")
	mustContain(t, "searched audit page", page.body, "Värde rättat")
	mustNotContain(t, "searched audit page", page.body, "<td>Värden uppladdade</td>")
	if a := anna.get("/uppfoljning/logg?fran=igår"); a.code != http.StatusBadRequest {
		t.Errorf("bad date filter: %d", a.code)
	}
	csvA := anna.get("/uppfoljning/logg.csv?vem=anna")
	if csvA.code != http.StatusOK || !strings.HasPrefix(csvA.hdr.Get("Content-Type"), "text/csv") {
		t.Fatalf("audit CSV: %d %s", csvA.code, csvA.hdr.Get("Content-Type"))
	}
	mustContain(t, "audit CSV", csvA.body, "\ufefftid;kommun;vem;roll;händelse", "period.close", "user.add", "rättelse")
	mustNotContain(t, "audit CSV", csvA.body, "assessment.draft")
	// Pages of 50: 60 more entries make a second page.
	for i := 0; i < 60; i++ {
		e.store.WriteAudit(context.Background(), clickhouse.AuditEntry{Tenant: tenant, Actor: "seed", Action: "value.enter", SubjectID: strconv.Itoa(i)})
	}
	p1 := anna.get("/uppfoljning/logg?vem=seed")
	older := regexpFind(p1.body, `href="([^"]+)" rel="next"`)
	if older == "" {
		t.Fatal("no link to older entries")
	}
	p2 := anna.get(strings.ReplaceAll(older, "&amp;", "&"))
	if n := strings.Count(p2.body, "<td>seed"); n != 10 {
		t.Errorf("second page shows %d entries, want 10", n)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t)
	c := e.client("127.0.0.1")
	for i := 0; i < 5; i++ {
		if a := c.loginAs("bo", "fel"); a.code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, a.code)
		}
	}
	a := c.loginAs("bo", testPassword)
	if a.code != http.StatusTooManyRequests || a.hdr.Get("Retry-After") == "" {
		t.Fatalf("sixth attempt: %d, Retry-After %q", a.code, a.hdr.Get("Retry-After"))
	}
	mustContain(t, "rate-limited page", a.body, "För många inloggningsförsök")
	// A sign-in form posted without its token is refused.
	fresh := e.client("127.0.0.1")
	if a := fresh.do("POST", "/logga-in", strings.NewReader("namn=bo&losenord="+url.QueryEscape(testPassword)), "application/x-www-form-urlencoded"); a.code != http.StatusForbidden {
		t.Errorf("login without token: %d", a.code)
	}
	// next never leads off the site.
	d := e.client("127.0.0.2")
	tok := csrfRE.FindStringSubmatch(d.get("/logga-in?next=https://evil.example/").body)[1]
	a = d.do("POST", "/logga-in", strings.NewReader(url.Values{"csrf": {tok}, "namn": {"cy"}, "losenord": {testPassword}, "next": {"//evil.example"}}.Encode()), "application/x-www-form-urlencoded")
	if a.code != http.StatusSeeOther || a.hdr.Get("Location") != "/" {
		t.Errorf("login with a foreign next: %d %q", a.code, a.hdr.Get("Location"))
	}
	// Sign-out ends the session.
	if a := d.get("/uppfoljning/rapport"); a.code != http.StatusOK {
		t.Fatalf("after login: %d", a.code)
	}
	if a := d.post("/logga-ut", url.Values{}); a.code != http.StatusSeeOther {
		t.Fatalf("logout: %d", a.code)
	}
	if a := d.get("/uppfoljning/rapport"); a.code != http.StatusSeeOther {
		t.Errorf("after logout: %d", a.code)
	}
}

// TestPeriodReport checks the work list, the printable report and the CSV.
func TestPeriodReport(t *testing.T) {
	e := newEnv(t)
	bo := e.login("bo")
	anna := e.login("anna")
	bo.post("/uppfoljning/indikator/andel-digitala/2025-T1", formOf("partly", "met", "=SUMMA(A1) analys", "bekrafta", 0, true))
	anna.post("/uppfoljning/mal/ansokningar/2025-T1", formOf("partly", "partly", "Målkommentar", "utkast", 0, false))

	list := bo.get("/uppfoljning/rapport")
	mustContain(t, "period list", list.body, "T1 2025", "T2 2025", "Helår 2024", "Aktuell rapport", "1 av 5")
	mustNotContain(t, "period list", list.body, "T3 2025", "Helår 2025</a>", "2026")
	rep := bo.get("/uppfoljning/rapport/2025-T1")
	mustContain(t, "report", rep.body, "E-tjänster för invånare", "Intern effektivitet", secretInd, "66 % (T1 2025)", "70 %",
		"Klarmarkerad", "Utkast", "Saknas", "Kommunstyrelsen", "Kultur")
	if strings.Contains(rep.body, "/stang") {
		t.Error("an editor sees the close form")
	}
	if r := anna.get("/uppfoljning/rapport/2025-T1"); !strings.Contains(r.body, "/uppfoljning/rapport/2025-T1/stang") {
		t.Error("the admin does not see the close form")
	}
	pr := bo.get("/uppfoljning/rapport/2025-T1/utskrift")
	mustContain(t, "print", pr.body, "Uppföljningsrapport T1 2025", "fu-cover", "=SUMMA(A1) analys", "Målkommentar", "Preliminär", "Indikatorer för målet")
	if csp := pr.hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
	if cc := pr.hdr.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
	c := bo.get("/uppfoljning/rapport/2025-T1/rapport.csv")
	if !strings.HasPrefix(c.hdr.Get("Content-Type"), "text/csv") || !strings.Contains(c.hdr.Get("Content-Disposition"), "uppfoljning-0999-2025-T1.csv") {
		t.Errorf("CSV headers %v", c.hdr)
	}
	lines := strings.Split(strings.TrimSpace(c.body), "\r\n")
	if len(lines) != 6 {
		t.Fatalf("CSV has %d lines:\n%s", len(lines), c.body)
	}
	mustContain(t, "CSV", c.body, "e-tjanster;ansokningar;indicator;andel-digitala;Andel ansökningar som görs digitalt;IT-avdelningen;percent;66;2025-T1;70;ej uppfyllt;delvis uppfyllt;Förväntas uppfyllas;'=SUMMA(A1) analys", "Klarmarkerad;bo")
	if a := bo.get("/uppfoljning/rapport/2025-T3"); a.code != http.StatusNotFound {
		t.Errorf("a period that is no report period: %d", a.code)
	}
	en := bo.get("/uppfoljning/rapport/2025-T1?lang=en")
	mustContain(t, "English report", en.body, "Report T1 2025", "Completion by owner", "Marked ready")
}

func TestUsersAdmin(t *testing.T) {
	e := newEnv(t)
	anna := e.login("anna")
	page := anna.get("/uppfoljning/anvandare")
	mustContain(t, "users page", page.body, "Bo Berg", "IT-avdelningen", "redaktör")
	mustNotContain(t, "users page", page.body, "$2a$")
	for _, c := range []struct {
		form url.Values
		path string
		want string
	}{
		{url.Values{"namn": {"Ny Person"}, "roll": {"viewer"}}, "/uppfoljning/anvandare", "user name"},
		{url.Values{"namn": {"ny"}, "roll": {"chef"}}, "/uppfoljning/anvandare", "role"},
		{url.Values{"namn": {"ny"}, "roll": {"viewer"}, "losenord": {"kort"}}, "/uppfoljning/anvandare", "too short"},
		{url.Values{"namn": {"bo"}, "roll": {"viewer"}}, "/uppfoljning/anvandare", "already exists"},
		{url.Values{"atgard": {"andra"}, "roll": {"editor"}}, "/uppfoljning/anvandare/anna", "egen administratörsroll"},
		{url.Values{"atgard": {"ta-bort"}, "bekrafta": {"1"}}, "/uppfoljning/anvandare/anna", "dig själv"},
		{url.Values{"atgard": {"ta-bort"}}, "/uppfoljning/anvandare/bo", "bekräfta"},
	} {
		if a := anna.post(c.path, c.form); a.code != http.StatusBadRequest || !strings.Contains(a.body, c.want) {
			t.Errorf("%v: %d, want 400 with %q", c.form, a.code, c.want)
		}
	}
	if a := anna.post("/uppfoljning/anvandare", url.Values{"namn": {"dag"}, "visningsnamn": {"Dag Dahl"}, "roll": {"editor"}, "agare": {"Kultur, Fritid"}, "losenord": {"dags-lösenord-1"}}); a.code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", a.code, a.body)
	}
	uf, err := auth.LoadUsers(e.users)
	if err != nil {
		t.Fatal(err)
	}
	if d := uf.User("dag"); d == nil || d.Role != auth.Editor || !slices.Equal(d.Owners, []string{"Kultur", "Fritid"}) || d.PasswordHash == "" {
		t.Fatalf("dag = %+v", d)
	}
	dag := e.client("127.0.0.1")
	if a := dag.loginAs("dag", "dags-lösenord-1"); a.code != http.StatusSeeOther {
		t.Fatalf("new user's login: %d", a.code)
	}
	// Removing a user ends their session at once.
	if a := anna.post("/uppfoljning/anvandare/dag", url.Values{"atgard": {"ta-bort"}, "bekrafta": {"1"}}); a.code != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", a.code, a.body)
	}
	if a := dag.get("/uppfoljning/rapport"); a.code != http.StatusSeeOther {
		t.Errorf("removed user still signed in: %d", a.code)
	}
	data, _ := os.ReadFile(e.users)
	if strings.Contains(string(data), "dag") {
		t.Error("dag is still in the users file")
	}
}
