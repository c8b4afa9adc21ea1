package followup

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

// TestStaffLabels: an indicator's page names dimensions and sources in
// words (no "department=…", no "measure:…"), in Swedish and English, and
// what came from outside is escaped.
func TestStaffLabels(t *testing.T) {
	e := newEnv(t)
	rec := time.Date(2025, 5, 20, 8, 0, 0, 0, strategy.Stockholm)
	mar := strategy.Period{Kind: strategy.Month, Year: 2025, N: 3}
	apr := strategy.Period{Kind: strategy.Month, Year: 2025, N: 4}
	may := strategy.Period{Kind: strategy.Month, Year: 2025, N: 5}
	ob := func(p strategy.Period, d strategy.Dimension, v float64, src, author string) strategy.Observation {
		return strategy.Observation{Tenant: tenant, Indicator: "andel-digitala", Period: p, Dimension: d, Value: v, Source: src, Author: author,
			Comment: "k", Recorded: rec}
	}
	obs := []strategy.Observation{
		ob(mar, strategy.Dimension{}, 61, "measure:eservices_active", ""),
		ob(mar, strategy.Dimension{Kind: "department", Value: "Socialförvaltningen"}, 62, "manual", "bo"),
		ob(apr, strategy.Dimension{Kind: "case_type", Value: "Bygglov"}, 63, "upload", "bo"),
		ob(apr, strategy.Dimension{Kind: "<b>region</b>", Value: "<script>alert(1)</script>"}, 64, "series_csv", ""),
		ob(may, strategy.Dimension{}, 65, "<i>egen</i>", ""),
	}
	if err := e.store.WriteObservations(context.Background(), obs); err != nil {
		t.Fatal(err)
	}
	bo := e.login("bo")
	page := bo.get("/uppfoljning/indikator/andel-digitala/2025-T1")
	if page.code != http.StatusOK {
		t.Fatalf("page: %d", page.code)
	}
	mustContain(t, "indicator page", page.body, "Insamlad: e-tjänstkatalog", "Manuellt värde", "Uppladdad fil", "Insamlad: seriefil (CSV)",
		"Förvaltning: Socialförvaltningen", "Ärendetyp: Bygglov", "Totalt", "Annan källa: &lt;i&gt;egen&lt;/i&gt;",
		"&lt;b&gt;region&lt;/b&gt;: &lt;script&gt;alert(1)&lt;/script&gt;")
	mustNotContain(t, "indicator page", page.body, "department=Social", "case_type=", "measure:eservices_active", "<script>alert", "<i>egen", "<b>region")
	en := bo.get("/uppfoljning/indikator/andel-digitala/2025-T1?lang=en")
	mustContain(t, "English indicator page", en.body, "Collected: e-service catalogue", "Entered by hand", "Uploaded file",
		"Department: Socialförvaltningen", "Case type: Bygglov")
}

// TestStaffHundredThousandValues: an indicator with 100 000 values
// (written through the store, as an upload by department and month
// writes them) gets a page of bounded size: the total and the latest
// value first, a summary per period, then one page of values and one
// page of the history, with links through the rest.
func TestStaffHundredThousandValues(t *testing.T) {
	e := newEnv(t)
	writeHundredThousand(e)
	bo := e.login("bo")
	const path = "/uppfoljning/indikator/andel-digitala/2025-T1"
	page := bo.get(path)
	if page.code != http.StatusOK {
		t.Fatalf("page: %d", page.code)
	}
	page.body = strings.ReplaceAll(page.body, "\u00a0", " ") // numbers group with no-break spaces
	rows := strings.Count(page.body, "<tr")
	t.Logf("%d bytes, %d table rows", len(page.body), rows)
	if len(page.body) >= 500_000 {
		t.Errorf("the page is %d bytes, want under 500 000", len(page.body))
	}
	if rows > 200 {
		t.Errorf("the page has %d table rows, want at most 200", rows)
	}
	// The total first: the count and the latest total come before any
	// list.
	count := strings.Index(page.body, "100 000 värden 2024–2025: 20 totalvärden och 99 980 per dimension.")
	latest := strings.Index(page.body, "Senaste totalvärde")
	list := strings.Index(page.body, `id="vardelista"`)
	if count < 0 || latest < 0 || list < 0 || latest > list || count > list {
		t.Errorf("count at %d, latest total at %d, list at %d: want the count and the latest total before the list", count, latest, list)
	}
	mustContain(t, "indicator page", page.body, "Sammanfattning per period", "4 999", "Visar 1–50 av 100 000", "Sida 1 av 2 000",
		"100 000 sparade versioner.", "Förvaltning: Förvaltning 0001")
	// The latest total: May 2025 (value (16*5000)%1000/10 = 0).
	if !regexp.MustCompile(`Senaste totalvärde</dt><dd><strong>0 %</strong> \(maj 2025\)`).MatchString(page.body) {
		t.Errorf("the latest total is not May 2025's")
	}

	// The next and the last page, following the page's own links.
	next := linkAfter(t, page.body, "Nästa")
	p2 := nbsp(bo.get(next))
	mustContain(t, "page 2", p2.body, "Visar 51–100 av 100 000", "Sida 2 av 2 000")
	last := nbsp(bo.get(linkAfter(t, p2.body, "Sista")))
	mustContain(t, "last page", last.body, "Visar 99 951–100 000 av 100 000", "Sida 2 000 av 2 000", "Förvaltning: Förvaltning 4999")
	if len(last.body) >= 500_000 {
		t.Errorf("the last page is %d bytes", len(last.body))
	}
	// A page past the end shows the last one.
	if far := nbsp(bo.get(path + "?sida=999999")); !strings.Contains(far.body, "Sida 2 000 av 2 000") {
		t.Error("a page past the end does not show the last page")
	}
	// One period, from the summary.
	one := nbsp(bo.get(path + "?vperiod=2025-03"))
	mustContain(t, "March", one.body, "Visar bara mars 2025.", "Visar 1–50 av 5 000", "Sida 1 av 100")
	// The history in pages of its own.
	h := nbsp(bo.get(path + "?logg=3"))
	mustContain(t, "history page 3", h.body, "Visar 101–150 av 100 000")
}

// nbsp reads no-break spaces as spaces.
func nbsp(a answer) answer {
	a.body = strings.ReplaceAll(a.body, "\u00a0", " ")
	return a
}

// writeHundredThousand writes 100 000 values of andel-digitala through
// the store, as an upload by department of 20 periods writes them: each
// period a total and 4 999 departments, with bo as the author (so they
// are in the observation log too).
func writeHundredThousand(e *env) {
	e.t.Helper()
	rec := time.Date(2025, 5, 20, 8, 0, 0, 0, strategy.Stockholm)
	var periods []strategy.Period
	for m := 1; m <= 12; m++ {
		periods = append(periods, strategy.Period{Kind: strategy.Month, Year: 2024, N: m})
	}
	for m := 1; m <= 5; m++ {
		periods = append(periods, strategy.Period{Kind: strategy.Month, Year: 2025, N: m})
	}
	periods = append(periods, strategy.Period{Kind: strategy.Year, Year: 2024}, t1, strategy.Period{Kind: strategy.Quarter, Year: 2025, N: 1})
	const perPeriod = 5000 // the total and 4 999 departments
	obs := make([]strategy.Observation, 0, len(periods)*perPeriod)
	for i, p := range periods {
		for d := range perPeriod {
			o := strategy.Observation{Tenant: tenant, Indicator: "andel-digitala", Period: p, Value: float64((i*perPeriod+d)%1000) / 10,
				Source: SourceUpload, Author: "bo", Comment: "Uppladdad: avdelningar.csv", Recorded: rec}
			if d > 0 {
				o.Dimension = strategy.Dimension{Kind: "department", Value: fmt.Sprintf("Förvaltning %04d", d)}
			}
			obs = append(obs, o)
		}
	}
	if len(obs) != 100000 {
		e.t.Fatalf("%d values", len(obs))
	}
	if err := e.store.WriteObservations(context.Background(), obs); err != nil {
		e.t.Fatal(err)
	}
}

// BenchmarkStaffIndicatorPage times the follow-up page of an indicator
// with 100 000 values (issue 13: under 1 s and 500 kB), signed in as its
// editor; it reports the page's size. Run it alone:
//
//	go test -run '^$' -bench StaffIndicatorPage -benchtime 20x ./followup/
func BenchmarkStaffIndicatorPage(b *testing.B) {
	e := newEnvCfg(b, envCfg{})
	writeHundredThousand(e)
	bo := e.login("bo")
	const path = "/uppfoljning/indikator/andel-digitala/2025-T1"
	size := 0
	for b.Loop() {
		a := bo.get(path)
		if a.code != http.StatusOK {
			b.Fatalf("page: %d", a.code)
		}
		size = len(a.body)
	}
	b.ReportMetric(float64(size), "bytes/page")
}

// linkAfter is the href of the link whose text starts with text.
func linkAfter(t *testing.T, body, text string) string {
	t.Helper()
	m := regexp.MustCompile(`<a href="([^"]+)"[^>]*>` + regexp.QuoteMeta(text)).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link %q", text)
	}
	u := strings.ReplaceAll(m[1], "&amp;", "&")
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	return u
}

// TestStaffCloseAsksFirst: an admin closes a period that is not fully
// ready only after a step that says what is missing (no primary button
// on the report, a POST without confirmation writes nothing); a fully
// ready period closes with one button.
func TestStaffCloseAsksFirst(t *testing.T) {
	e := newEnv(t)
	anna := e.login("anna")
	bo := e.login("bo")
	if a := bo.post("/uppfoljning/indikator/andel-digitala/2025-T1", formOf("met", "", "Klar", "bekrafta", 0, true)); a.code != http.StatusSeeOther {
		t.Fatal(a.code, a.body)
	}
	rep := anna.get("/uppfoljning/rapport/2025-T1")
	if regexp.MustCompile(`<form method="post" action="[^"]*/stang"`).MatchString(rep.body) {
		t.Error("the report closes a period that is not ready with one button")
	}
	mustContain(t, "report", rep.body, `href="/uppfoljning/rapport/2025-T1/stang" class="fu-button secondary"`,
		"1 av 5 mål och indikatorer är klarmarkerade (20 %)")

	// Without confirmation nothing is written: the browser is sent to the
	// confirmation step.
	a := anna.post("/uppfoljning/rapport/2025-T1/stang", url.Values{})
	if a.code != http.StatusSeeOther || a.hdr.Get("Location") != "/uppfoljning/rapport/2025-T1/stang" {
		t.Fatalf("close without confirmation: %d %q", a.code, a.hdr.Get("Location"))
	}
	if st, _ := e.store.PeriodStates(context.Background(), tenant); len(st) != 0 {
		t.Fatalf("closed without confirmation: %+v", st)
	}
	conf := anna.get("/uppfoljning/rapport/2025-T1/stang")
	if conf.code != http.StatusOK {
		t.Fatalf("confirmation step: %d", conf.code)
	}
	mustContain(t, "confirmation step", conf.body, "Stäng perioden T1 2025?", "4 av 5 mål och indikatorer är inte klarmarkerade (20 % klart).",
		"Mål: Alla ansökningar ska gå att göra digitalt", "Indikator: Antal e-tjänster", "Mål: "+secretGoal, "Saknas",
		`name="bekraftat" value="1"`, `name="csrf"`, "Stäng perioden ändå", `href="/uppfoljning/rapport/2025-T1"`)
	mustNotContain(t, "confirmation step", conf.body, "Indikator: Andel ansökningar som görs digitalt")
	if a := bo.get("/uppfoljning/rapport/2025-T1/stang"); a.code != http.StatusForbidden {
		t.Errorf("an editor sees the confirmation step: %d", a.code)
	}
	if a := anna.post("/uppfoljning/rapport/2025-T1/stang", url.Values{"bekraftat": {"1"}}); a.code != http.StatusSeeOther {
		t.Fatalf("close: %d %s", a.code, a.body)
	}
	if got := strings.Join(e.writes(), " "); got != "assessment.ready period.close" {
		t.Errorf("audit = %s", got)
	}

	// All ready: one button closes.
	if a := anna.post("/uppfoljning/rapport/2025-T2/stang", url.Values{}); a.code != http.StatusSeeOther || !strings.HasSuffix(a.hdr.Get("Location"), "/2025-T2/stang") {
		t.Fatalf("T2 not ready: %d %q", a.code, a.hdr.Get("Location"))
	}
	for _, s := range []string{"indikator/andel-digitala", "indikator/antal-e-tjanster", "indikator/intern-kostnad", "mal/ansokningar", "mal/intern-effektivitet"} {
		if a := anna.post("/uppfoljning/"+s+"/2025-T2", formOf("met", "met", "Klar", "bekrafta", 0, true)); a.code != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", s, a.code, a.body)
		}
	}
	rep = anna.get("/uppfoljning/rapport/2025-T2")
	if !regexp.MustCompile(`<form method="post" action="/uppfoljning/rapport/2025-T2/stang" class="fu-admin card no-print">`).MatchString(rep.body) {
		t.Error("a fully ready period has no close button")
	}
	if a := anna.post("/uppfoljning/rapport/2025-T2/stang", url.Values{}); a.code != http.StatusSeeOther || !strings.Contains(a.hdr.Get("Location"), "sparat=stangd") {
		t.Fatalf("close a ready period: %d %q", a.code, a.hdr.Get("Location"))
	}
}

// TestStaffWhoOnce: the bar names the signed-in user and their role
// once, also when the display name already says the role.
func TestStaffWhoOnce(t *testing.T) {
	e := newEnv(t)
	anna := e.login("anna")
	mustContain(t, "bar", anna.get("/uppfoljning/rapport").body, "Inloggad som Anna Admin (administratör)")
	// As examples/users.yaml names its admin (a cheap hash: the page would
	// use the default cost).
	uf, err := auth.LoadUsers(e.users)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err := uf.Add(auth.User{Name: "kansli", DisplayName: "Kommunledningskontoret (administratör)", Role: auth.Admin, PasswordHash: string(h)}); err != nil {
		t.Fatal(err)
	}
	if err := uf.Save(); err != nil {
		t.Fatal(err)
	}
	if err := e.auth.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	k := e.login("kansli")
	for _, c := range []struct{ path, want string }{
		{"/uppfoljning/rapport", "Inloggad som Kommunledningskontoret (administratör)</p>"},
		{"/uppfoljning/rapport?lang=en", "Signed in as Kommunledningskontoret (administratör)</p>"},
	} {
		body := k.get(c.path).body
		mustContain(t, c.path, body, c.want)
		if n := strings.Count(body, "(administratör)"); n != 1 {
			t.Errorf("%s: the role is shown %d times", c.path, n)
		}
	}
}

// TestStaffLargeUpload: the answer to an upload of thousands of values
// says how many each indicator got, links to its page and shows the first
// few, not every row.
func TestStaffLargeUpload(t *testing.T) {
	e := newEnv(t)
	bo := e.login("bo")
	bo.get("/uppfoljning/uppladdning")
	var b strings.Builder
	b.WriteString("indikator;period;värde;dimension\n")
	for d := range 3000 {
		fmt.Fprintf(&b, "andel-digitala;2025-04;%d;department=Förvaltning %04d\n", d%100, d)
	}
	a := nbsp(bo.upload("avdelningar.csv", b.String(), "Från ekonomisystemet", true))
	if a.code != http.StatusOK {
		t.Fatalf("upload: %d %s", a.code, a.body)
	}
	mustContain(t, "upload answer", a.body, "3 000 värden sparades.",
		`<a href="/uppfoljning/indikator/andel-digitala/2025-T1#varden">Andel ansökningar som görs digitalt</a>: 3 000`,
		"Här visas de första 50 av 3 000 värdena", "Förvaltning: Förvaltning 0000")
	mustNotContain(t, "upload answer", a.body, "Förvaltning 0050", "department=")
	if rows := strings.Count(a.body, "<tr"); rows > 60 {
		t.Errorf("the answer has %d table rows", rows)
	}
}

// pageReads records the filters the values list reads pages with.
type pageReads struct {
	Store
	mu      sync.Mutex
	filters []clickhouse.ObservationFilter
}

func (p *pageReads) ObservationPage(ctx context.Context, f clickhouse.ObservationFilter, offset, limit int) ([]strategy.Observation, error) {
	p.mu.Lock()
	p.filters = append(p.filters, f)
	p.mu.Unlock()
	return p.Store.ObservationPage(ctx, f, offset, limit)
}

// TestStaffValuePageOnePeriodAtATime: a page of the values list reads
// one period at a time (so ClickHouse groups one period's keys, not all
// of the indicator's), also a page that spans two periods, in the
// summary's order.
func TestStaffValuePageOnePeriodAtATime(t *testing.T) {
	reads := &pageReads{}
	e := newEnvCfg(t, envCfg{wrap: func(s Store) Store { reads.Store = s; return reads }})
	rec := time.Date(2025, 5, 20, 8, 0, 0, 0, strategy.Stockholm)
	var obs []strategy.Observation
	for m := 1; m <= 3; m++ { // 30 values a month: the second page starts with February's last 10, then January's 30
		for d := range 30 {
			o := strategy.Observation{Tenant: tenant, Indicator: "andel-digitala", Period: strategy.Period{Kind: strategy.Month, Year: 2025, N: m},
				Value: float64(d), Source: SourceUpload, Author: "bo", Recorded: rec}
			if d > 0 {
				o.Dimension = strategy.Dimension{Kind: "department", Value: fmt.Sprintf("Förvaltning %02d", d)}
			}
			obs = append(obs, o)
		}
	}
	if err := e.store.WriteObservations(context.Background(), obs); err != nil {
		t.Fatal(err)
	}
	bo := e.login("bo")
	reads.filters = nil
	p2 := nbsp(bo.get("/uppfoljning/indikator/andel-digitala/2025-T1?sida=2"))
	mustContain(t, "page 2", p2.body, "Visar 51–92 av 92")
	if len(reads.filters) < 2 {
		t.Fatalf("page 2 read %d times, want once per period it shows: %+v", len(reads.filters), reads.filters)
	}
	for i, f := range reads.filters {
		if f.Kind == "" || f.From.IsZero() || f.To.IsZero() {
			t.Errorf("read %d is not of one period: %+v", i, f)
		}
	}
	// February's last 10 (from Förvaltning 20), then January's 30, the
	// total first.
	list := p2.body[strings.Index(p2.body, `id="vardelista"`):]
	list = list[:strings.Index(list, `id="vardehistorik"`)]
	feb, jan := strings.Count(list, `<th scope="row">februari 2025`), strings.Count(list, `<th scope="row">januari 2025`)
	first, janStart := strings.Index(list, "Förvaltning 20"), strings.Index(list, `<th scope="row">januari 2025`)
	if feb != 10 || jan != 30 || first < 0 || first > janStart || strings.Contains(list[:janStart], "Förvaltning 19") {
		t.Errorf("page 2 lists %d values of February (want 10, from Förvaltning 20) and %d of January (want 30)", feb, jan)
	}
}

// TestStaffValueFiguresExact: the figures of an indicator's value section
// (how many values, totals and break-downs, each period's total and
// break-downs, the latest total, how many saved versions) equal a
// computation over the raw rows, after uploads, a re-import of the same
// file, a correction by hand, a retried write and a key written twice in
// one write.
func TestStaffValueFiguresExact(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bo := e.login("bo")
	bo.get("/uppfoljning/uppladdning")
	var b strings.Builder
	b.WriteString("indikator;period;värde;dimension\n")
	for _, per := range []string{"2025-01", "2025-02", "2025-03", "2024-11"} {
		fmt.Fprintf(&b, "andel-digitala;%s;50;\n", per)
		for d := range 25 {
			fmt.Fprintf(&b, "andel-digitala;%s;%d;department=Förvaltning %02d\n", per, d, d)
		}
	}
	file := b.String()
	for range 2 { // the same file twice: a re-import
		if a := bo.upload("avdelningar.csv", file, "Från ekonomisystemet", true); a.code != http.StatusOK {
			t.Fatalf("upload: %d %s", a.code, a.body)
		}
	}
	// A correction by hand of February's total.
	const path = "/uppfoljning/indikator/andel-digitala/2025-T1"
	form := nbsp(bo.get(path + "?varde=2025-02&dim="))
	base := regexp.MustCompile(`name="bas" value="(\d+)"`).FindAllStringSubmatch(form.body, -1)
	if len(base) == 0 {
		t.Fatal("no base version in the value form")
	}
	if a := bo.post("/uppfoljning/indikator/andel-digitala/varde", url.Values{"period": {"2025-02"}, "varde": {"61,5"}, "dimension": {""},
		"kommentar": {"Rättad"}, "bas": {base[len(base)-1][1]}, "tillbaka": {"2025-T1"}}); a.code != http.StatusSeeOther {
		t.Fatalf("correction: %d %s", a.code, a.body)
	}
	// A retried write (the same rows twice, in the log too), a key twice
	// in one write and one dimension value under two kinds.
	rec := time.Date(2025, 5, 20, 8, 0, 0, 0, strategy.Stockholm)
	apr := strategy.Period{Kind: strategy.Month, Year: 2025, N: 4}
	o := func(kind, val string, v float64, ver uint64) strategy.Observation {
		return strategy.Observation{Tenant: tenant, Indicator: "andel-digitala", Period: apr, Dimension: strategy.Dimension{Kind: kind, Value: val},
			Value: v, Source: SourceUpload, Version: ver, Author: "bo", Recorded: rec}
	}
	retried := []strategy.Observation{o("", "", 70, 5), o("department", "Förvaltning 01", 71, 5)}
	for _, obs := range [][]strategy.Observation{retried, retried, {o("case_type", "Förvaltning 01", 1, 6), o("case_type", "Förvaltning 01", 2, 7)}} {
		if err := e.store.WriteObservations(ctx, obs); err != nil {
			t.Fatal(err)
		}
	}

	page := nbsp(bo.get(path))
	if page.code != http.StatusOK {
		t.Fatalf("page: %d", page.code)
	}
	// The raw computation: every stored row, the latest version of each
	// key, from 2024 on (the page shows this year's and last year's).
	type key struct{ kind, start, dk, dv string }
	type row struct {
		value   float64
		version uint64
	}
	latest := map[key]row{}
	for _, line := range strings.Split(strings.TrimSpace(chtest.Query(t, e.dsn, `SELECT period_kind, period_start, dim_kind, dim_value, value, version
FROM observations WHERE tenant = '0999' AND indicator = 'andel-digitala' AND period_start >= '2024-01-01'`)), "\n") {
		c := strings.Split(line, "\t")
		var r row
		fmt.Sscan(c[4], &r.value)
		fmt.Sscan(c[5], &r.version)
		if k := (key{c[0], c[1], c[2], c[3]}); r.version > latest[k].version {
			latest[k] = r
		}
	}
	type per struct {
		p      strategy.Period
		dims   int
		total  *float64
		latest bool
	}
	periods := map[[2]string]*per{}
	values, totals := 0, 0
	for k, r := range latest {
		pk := [2]string{k.kind, k.start}
		if periods[pk] == nil {
			start, _ := time.ParseInLocation(time.DateOnly, k.start, strategy.Stockholm)
			periods[pk] = &per{p: strategy.PeriodOf(strategy.PeriodKind(k.kind), start)}
		}
		values++
		if k.dk == "" && k.dv == "" {
			v := r.value
			periods[pk].total = &v
			totals++
		} else {
			periods[pk].dims++
		}
	}
	logged := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(chtest.Query(t, e.dsn, `SELECT period_kind, period_start, dim_kind, dim_value, version
FROM observation_log WHERE tenant = '0999' AND indicator = 'andel-digitala'`)), "\n") {
		logged[line] = true
	}
	// The environment's two totals, four periods of 26 uploaded, April's
	// three; the log: two uploads, the correction, two of the retried
	// write, two of the key written twice.
	if values != 2+4*26+3 || len(logged) != 2*4*26+1+2+2 {
		t.Fatalf("the test writes %d values and %d versions", values, len(logged))
	}

	mustContain(t, "indicator page", page.body,
		fmt.Sprintf("%s värden 2024–2025: %s totalvärden och %s per dimension.", countText(values, "sv"), countText(totals, "sv"), countText(values-totals, "sv")),
		fmt.Sprintf("%s sparade versioner.", countText(len(logged), "sv")),
		fmt.Sprintf("Visar 1–50 av %s", countText(values, "sv")),
		`Senaste totalvärde</dt><dd><strong>70 %</strong> (april 2025)`)
	sec := page.body[strings.Index(page.body, `id="vardeperioder"`):strings.Index(page.body, `id="vardelista"`)]
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`<th scope="row">([^<]+)</th><td class="num">([^<]+)</td><td>[^<]*</td><td class="num">([^<]+)</td>`).FindAllStringSubmatch(sec, -1) {
		got[m[1]] = m[2] + " " + m[3]
	}
	if len(got) != len(periods) {
		t.Errorf("the summary has %d periods, the raw rows %d: %v", len(got), len(periods), got)
	}
	for _, p := range periods {
		want := "– " + countText(p.dims, "sv")
		if p.total != nil {
			want = formatValue(*p.total, strategy.UnitPercent, "sv") + " " + countText(p.dims, "sv")
		}
		if g := got[p.p.Label("sv")]; g != want {
			t.Errorf("%s: the summary shows %q, the raw rows give %q", p.p.Label("sv"), g, want)
		}
	}
}

// atOnce holds the value section's first reads (the summary, the
// history's groups) and the engine's read of the values until all have
// begun: it passes only if the page runs them at once.
type atOnce struct {
	Store
	armed atomic.Bool
	mu    sync.Mutex
	seen  map[string]bool
	all   chan struct{}
	late  []string
}

func (a *atOnce) meet(name string) {
	if !a.armed.Load() {
		return
	}
	a.mu.Lock()
	if a.seen[name] {
		a.mu.Unlock()
		return
	}
	a.seen[name] = true
	if len(a.seen) == 3 {
		close(a.all)
	}
	a.mu.Unlock()
	select {
	case <-a.all:
	case <-time.After(20 * time.Second): // a failure limit: the others never came
		a.mu.Lock()
		a.late = append(a.late, name)
		a.mu.Unlock()
	}
}

func (a *atOnce) Observations(ctx context.Context, f clickhouse.ObservationFilter) ([]strategy.Observation, error) {
	if !f.Dimensions {
		a.meet("engine")
	}
	return a.Store.Observations(ctx, f)
}

func (a *atOnce) ObservationSummary(ctx context.Context, f clickhouse.ObservationFilter) ([]clickhouse.PeriodSummary, error) {
	a.meet("summary")
	return a.Store.ObservationSummary(ctx, f)
}

func (a *atOnce) ObservationHistoryGroups(ctx context.Context, tenant, indicator string) ([]clickhouse.HistoryGroup, error) {
	a.meet("history")
	return a.Store.ObservationHistoryGroups(ctx, tenant, indicator)
}

// TestStaffValueReadsAtOnce: an indicator's page reads its values, their
// history and the engine's data at once, not one after the other.
func TestStaffValueReadsAtOnce(t *testing.T) {
	a := &atOnce{seen: map[string]bool{}, all: make(chan struct{})}
	e := newEnvCfg(t, envCfg{wrap: func(s Store) Store { a.Store = s; return a }})
	bo := e.login("bo")
	a.armed.Store(true)
	page := bo.get("/uppfoljning/indikator/andel-digitala/2025-T1")
	a.armed.Store(false)
	if page.code != http.StatusOK {
		t.Fatalf("page: %d", page.code)
	}
	if len(a.seen) != 3 || len(a.late) > 0 {
		t.Errorf("reads begun: %v; waited in vain for the others: %v", a.seen, a.late)
	}
}
