package followup

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/dashboards"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// consistencyNow is the clock of the consistency test: in T2 and Q2 2026,
// so T1 and Q1 2026 are the reports due.
var consistencyNow = time.Date(2026, 5, 20, 10, 0, 0, 0, strategy.Stockholm)

// strategyEnv is the dashboards with the follow-up mounted, as
// cmd/malbild's mountFollowup wires them, over one strategy.
func strategyEnv(t *testing.T, st *strategy.Strategy, before func(*clickhouse.Store)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, dsn: chtest.DSN(t), st: st, journal: t.TempDir()}
	var err error
	if e.store, err = clickhouse.Open(ctx, e.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	if _, err := e.store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(e.store)
	}
	e.users = filepath.Join(t.TempDir(), "users.yaml")
	uf := auth.NewUsersFile(e.users)
	h, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err := uf.Add(auth.User{Name: "anna", DisplayName: "Anna Admin", Role: auth.Admin, PasswordHash: string(h)}); err != nil {
		t.Fatal(err)
	}
	if err := uf.Save(); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return consistencyNow }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if e.auth, err = auth.New(auth.Options{UsersFile: e.users, Now: now}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	e.dash, err = dashboards.New(dashboards.Options{Store: e.store, Strategies: func() []*strategy.Strategy { return []*strategy.Strategy{st} },
		Logger: log, Registerer: reg, Gatherer: reg, Now: now, Authorizer: e.auth.Authorizer, RefreshInterval: time.Hour, Clock: now})
	if err != nil {
		t.Fatal(err)
	}
	if e.svc, err = New(Options{Store: e.store, Auth: e.auth, Site: e.dash, Now: now, Logger: log, AuditJournal: e.journal}); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.auth.RedirectUnauthorized(e.dash.Handler(), "/logga-in"))
	t.Cleanup(e.srv.Close)
	return e
}

// TestOneValueOnEveryPage: for every indicator of every example strategy
// the pages, the period report and the API show the same latest value:
// collected (under the indicator's id), entered by hand under the series
// name by an earlier version (moved by MoveSeriesValues), and after a
// manual value is saved through the form.
func TestOneValueOnEveryPage(t *testing.T) {
	files, err := filepath.Glob("../examples/strategies/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example strategies: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			st, err := strategy.Parse(f, b)
			if err != nil {
				t.Fatal(err)
			}
			checkOneValue(t, st)
		})
	}
}

func checkOneValue(t *testing.T, st *strategy.Strategy) {
	ctx := context.Background()
	code := st.Municipality.Code
	// The first report period of 2026: closed at consistencyNow.
	per := strategy.Period{Kind: strategy.Tertial, Year: 2026, N: 1}
	if st.Rhythm == strategy.RhythmQuarter {
		per = strategy.Period{Kind: strategy.Quarter, Year: 2026, N: 1}
	}
	rec := consistencyNow.Add(-24 * time.Hour)
	want := map[string]float64{}
	var obs []strategy.Observation
	for i, ind := range st.Indicators() {
		v := float64(100+i) / 10 // 10, 10,1, 10,2, …: one figure per indicator
		want[ind.ID] = v
		obs = append(obs, strategy.Observation{Tenant: code, Indicator: ind.ID, Period: per, Value: v, Source: "test", Version: 1000, Recorded: rec})
	}
	// A manual value an earlier version stored under the series name: newer
	// than the collected one, so it is the value after the move.
	for _, m := range clickhouse.SeriesMoves(st) {
		v := 90 + float64(len(obs)%50)/10
		obs = append(obs, strategy.Observation{Tenant: code, Indicator: m.Series, Period: per, Value: v, Source: SourceManual,
			Author: "gamla", Version: 2000, Recorded: rec})
		for _, id := range m.Indicators {
			want[id] = v
		}
	}
	e := strategyEnv(t, st, func(s *clickhouse.Store) {
		if err := s.WriteObservations(ctx, obs); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MoveSeriesValues(ctx, code, clickhouse.SeriesMoves(st)); err != nil {
			t.Fatal(err)
		}
	})
	c := e.login("anna")
	checkPages(t, c, st, per, want)
	if t.Failed() {
		return
	}
	// A manual correction through the form overrides the value.
	for i, ind := range st.Indicators() {
		base := uint64(1000)
		if want[ind.ID] >= 90 {
			base = 2000
		}
		v := 20 + float64(i)/10
		a := c.post("/uppfoljning/indikator/"+ind.ID+"/varde", url.Values{"period": {per.String()},
			"varde": {progress.FormatNumber(v, "sv")}, "kommentar": {"Rättat"}, "bas": {u64(base)}, "tillbaka": {per.String()}})
		if a.code != 303 {
			t.Fatalf("saving %s: %d %s", ind.ID, a.code, a.body)
		}
		want[ind.ID] = v
	}
	checkPages(t, c, st, per, want)
}

// checkPages finds want[id], the latest value of each indicator, on every
// page that shows it.
func checkPages(t *testing.T, c *client, st *strategy.Strategy, per strategy.Period, want map[string]float64) {
	t.Helper()
	get := func(path string) string {
		t.Helper()
		a := c.get(path)
		if a.code != 200 {
			t.Fatalf("%s: %d %s", path, a.code, a.body)
		}
		return a.body
	}
	// /ledning opens on the latest period with confirmed assessments; the
	// latest value is the one of the period in progress.
	open := strategy.Period{Kind: per.Kind, Year: per.Year, N: per.N + 1}
	public, leadership, followup := get("/"), get("/ledning?period="+open.String()), get("/uppfoljning")
	report := get("/uppfoljning/rapport/" + per.String())
	checkStatuses(t, c, st, public, leadership, get)
	for _, ind := range st.Indicators() {
		g := st.GoalOf(ind)
		if g != nil && g.Dropped != nil {
			continue
		}
		id := ind.ID
		w := progress.FormatValue(want[id], ind.Unit, "sv")
		seen := func(page string, got []string) {
			t.Helper()
			if len(got) == 0 {
				t.Errorf("%s: %s shows no value, want %s", id, page, w)
			}
			for _, v := range got {
				if v != w {
					t.Errorf("%s: %s shows %q, want %q", id, page, v, w)
				}
			}
		}
		if ind.Public && g != nil && g.Public {
			seen("/", matches(public, `(?s)<section class="indicator" aria-labelledby="ind-`+regexp.QuoteMeta(id)+`">.*?</section>`, `<p class="figure">([^<]*?) <small>`))
		}
		seen("/ledning", matches(leadership, `<tr[^>]*><th scope="row"[^>]*><a href="/indikator/`+regexp.QuoteMeta(id)+`">.*?</th><td[^>]*>.*?</td><td class="num"[^>]*>([^<]*)</td>`))
		seen("/indikator/"+id, matches(get("/indikator/"+id), `<p class="figure">([^<]*?) <small>`)[:1])
		seen("/uppfoljning", matches(followup, `<tr[^>]*><th scope="row"[^>]*><a href="/indikator/`+regexp.QuoteMeta(id)+`">[^\n]*`, `utfall ([^·<]*?) ·`))
		seen("the report "+per.String(), matches(report, `(?s)<tr class="fu-ind" id="rad-`+regexp.QuoteMeta(id)+`">.*?</tr>`, `<td class="num">([^<(]*?) \(`))
		var api struct {
			Observations []struct {
				Period    string  `json:"period"`
				Value     float64 `json:"value"`
				Dimension any     `json:"dimension"`
			} `json:"observations"`
		}
		if err := json.Unmarshal([]byte(get("/api/v1/observations?indicator="+id)), &api); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range api.Observations {
			if o.Period == per.String() && o.Dimension == nil {
				got = append(got, progress.FormatValue(o.Value, ind.Unit, "sv"))
			}
		}
		seen("/api/v1/observations", got)
		got = nil
		recs, err := csv.NewReader(strings.NewReader(get("/api/v1/observations.csv?indicator=" + id))).ReadAll()
		if err != nil || len(recs) == 0 {
			t.Fatalf("observations.csv of %s: %v", id, err)
		}
		for _, f := range recs[1:] {
			if f[3] == per.String() && f[4] == "" {
				v, err := strconv.ParseFloat(f[6], 64)
				if err != nil {
					t.Fatalf("observations.csv: %q: %v", f, err)
				}
				got = append(got, progress.FormatValue(v, ind.Unit, "sv"))
			}
		}
		seen("/api/v1/observations.csv", got)
	}
}

// statusLabel is the words of the first status badge in s.
var statusLabel = `<span class="status [a-z]+"><span class="sym" aria-hidden="true">[^<]*</span> ([^<]*)</span>`

// checkStatuses: each indicator's status, each public goal's state and
// the maturity index are the same on /, /ledning (the period in
// progress), the indicator page and /api/v1/statuses, on the one scale
// (issue 13). The maturity index is compared per scope: / with the
// public API, /ledning with the API as staff see it.
func checkStatuses(t *testing.T, c *client, st *strategy.Strategy, public, leadership string, get func(string) string) {
	t.Helper()
	type apiStatuses struct {
		AssessmentPeriod strategy.Period `json:"assessment_period"`
		Maturity         *struct {
			Scope string   `json:"scope"`
			Index *float64 `json:"index"`
		} `json:"maturity"`
		Goals []struct {
			ID    string `json:"id"`
			State struct {
				Scale     string `json:"scale"`
				Confirmed bool   `json:"confirmed"`
			} `json:"state"`
			Indicators map[string]struct {
				Scale string `json:"scale"`
			} `json:"indicators"`
		} `json:"goals"`
	}
	var staff, anon apiStatuses
	if err := json.Unmarshal([]byte(get("/api/v1/statuses")), &staff); err != nil {
		t.Fatal(err)
	}
	a := c.e.client("127.0.0.1").get("/api/v1/statuses")
	if a.code != 200 {
		t.Fatalf("anonymous /api/v1/statuses: %d", a.code)
	}
	if err := json.Unmarshal([]byte(a.body), &anon); err != nil {
		t.Fatal(err)
	}
	scaleLabel := func(key string) string { return progress.Scale(key).Label("sv") }
	apiInd := map[string]string{}
	for _, g := range staff.Goals {
		for id, s := range g.Indicators {
			apiInd[id] = scaleLabel(s.Scale)
		}
	}
	first := func(got []string) []string {
		if len(got) > 1 {
			return got[:1]
		}
		return got
	}
	same := func(what, id string, got []string, want string) {
		t.Helper()
		if len(got) == 0 {
			t.Errorf("%s: %s shows no status, want %q", id, what, want)
		}
		for _, g := range got {
			// Not assessed says why: "Ej bedömt (inga data)".
			if g != want && !strings.HasPrefix(g, want+" (") {
				t.Errorf("%s: %s shows %q, /api/v1/statuses %q", id, what, g, want)

			}
		}
	}
	for _, ind := range st.Indicators() {
		g := st.GoalOf(ind)
		if g != nil && g.Dropped != nil {
			continue
		}
		id, want := ind.ID, apiInd[ind.ID]
		if ind.Public && g != nil && g.Public {
			same("/", id, first(matches(public, `(?s)<section class="indicator" aria-labelledby="ind-`+regexp.QuoteMeta(id)+`">.*?</section>`, statusLabel)), want)
		}
		same("/indikator/"+id, id, first(matches(get("/indikator/"+id), statusLabel)), want)
		var cur []string
		for _, cell := range matches(leadership, `<tr class="compact[^"]*"[^>]*><th scope="row"[^>]*><span class="meta">[^<]*</span> <a href="/indikator/`+regexp.QuoteMeta(id)+`">.*?</th><td[^>]*>.*?</td><td[^>]*>(.*?)</td>`) {
			cur = append(cur, matches(cell, statusLabel)...)
		}
		same("/ledning", id, cur, want)
	}
	// Public goals: the state beside each goal on / is the public API's.
	for _, ag := range anon.Goals {
		article := `(?s)<article class="goal" aria-labelledby="mal-` + regexp.QuoteMeta(ag.ID) + `">.*?</article>`
		if !regexp.MustCompile(article).MatchString(public) {
			continue // a dropped goal is not on the page
		}
		got := matches(public, article, `<p><strong>[^<]*</strong> `+statusLabel)
		want := scaleLabel(ag.State.Scale)
		switch {
		case ag.State.Confirmed && (len(got) != 1 || got[0] != want):
			t.Errorf("goal %s: / shows %q, the public API %q (confirmed)", ag.ID, got, want)
		case !ag.State.Confirmed && len(got) != 0:
			t.Errorf("goal %s: / shows %q, the public API has no confirmed assessment for %s", ag.ID, got, anon.AssessmentPeriod)
		}
	}
	// The maturity index, per scope.
	figure := func(body string) []string {
		return matches(body, `(?s)<h2 id="mognad">.*?<p class="figure">([^<]*) <small>`)
	}
	for _, sc := range []struct {
		page, scope string
		body        string
		api         apiStatuses
	}{{"/", "public", public, anon}, {"/ledning", "all", leadership, staff}} {
		shown := figure(sc.body)
		if sc.api.Maturity == nil || sc.api.Maturity.Index == nil {
			if len(shown) > 0 {
				t.Errorf("%s shows the maturity index %q, the API (%s) has none", sc.page, shown, sc.scope)
			}
			continue
		}
		if sc.api.Maturity.Scope != sc.scope {
			t.Errorf("%s: the API's maturity scope is %q, want %q", sc.page, sc.api.Maturity.Scope, sc.scope)
		}
		want := progress.FormatNumber(*sc.api.Maturity.Index, "sv")
		if len(shown) != 1 || shown[0] != want {
			t.Errorf("%s shows the maturity index %q, the API (%s) %s", sc.page, shown, sc.scope, want)
		}
	}
}

// matches returns the first group of every match of re in body, each
// unescaped; with an inner expression, of its matches inside the outer
// ones' whole text.
func matches(body, re string, inner ...string) []string {
	var out []string
	for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(body, -1) {
		if len(inner) > 0 {
			out = append(out, matches(m[0], inner[0])...)
			continue
		}
		out = append(out, html.UnescapeString(strings.TrimSpace(m[1])))
	}
	return out
}

// TestUploadSeriesName: an upload row naming a series stands for every
// indicator the series feeds, and is stored under their ids.
func TestUploadSeriesName(t *testing.T) {
	f := "../examples/strategies/molndal.yaml"
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	st, err := strategy.Parse(f, b)
	if err != nil {
		t.Fatal(err)
	}
	var fed []string
	for _, ind := range st.Indicators() {
		if ind.Series() == "system-med-sso" {
			fed = append(fed, ind.ID)
		}
	}
	if len(fed) != 2 {
		t.Fatalf("molndal.yaml: system-med-sso feeds %v", fed)
	}
	e := strategyEnv(t, st, nil)
	ctx := context.Background()
	who := &auth.Identity{Name: "anna", Role: auth.Admin}
	csv := "indikator;period;värde\nsystem-med-sso;2026-T1;7\n" + fed[0] + ";2025;5\n"
	if _, err := e.svc.Upload(ctx, st, who, "127.0.0.1", "sso.csv", strings.NewReader(csv), "Från e-rådet"); err != nil {
		t.Fatal(err)
	}
	obs, err := e.store.Observations(ctx, clickhouse.ObservationFilter{Tenant: st.Municipality.Code})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range obs {
		got = append(got, fmt.Sprintf("%s %s %g %s", o.Indicator, o.Period, o.Value, o.Source))
	}
	want := []string{fed[0] + " 2025 5 upload", fed[0] + " 2026-T1 7 upload", fed[1] + " 2026-T1 7 upload"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The same value under the series and the indicator is refused.
	dup := "indikator;period;värde\nsystem-med-sso;2026-T1;8\n" + fed[1] + ";2026-T1;9\n"
	_, err = e.svc.Upload(ctx, st, who, "127.0.0.1", "dup.csv", strings.NewReader(dup), "Dubbelt")
	var fe *Error
	if !errors.As(err, &fe) || fe.Status != 400 || !strings.Contains(fe.Problems[0].SV, "två gånger") {
		t.Fatalf("duplicate through the series: %v", err)
	}
}
