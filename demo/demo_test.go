package demo

import (
	"bytes"
	"encoding/csv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/internal/pnr"
	"github.com/malbild/malbild/strategy"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// testNow is the end of the generated history in tests: fixed, and in the
// past so collectors accept every date.
var testNow = time.Date(2026, 1, 15, 12, 0, 0, 0, strategy.Stockholm)

func loadStrategy(t testing.TB, name string) *strategy.Strategy {
	t.Helper()
	s, err := strategy.Load(filepath.Join("..", "examples", "strategies", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stillRunning is s as if it had no end: these tests were written for
// Värmdö's data up to testNow, which the demo generates only for a
// strategy that runs until then (Värmdö's ended 2015-04-30).
func stillRunning(s *strategy.Strategy) *strategy.Strategy {
	c := *s
	c.End = time.Time{}
	return &c
}

func generate(t testing.TB, s *strategy.Strategy, opts Options) *Plan {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = testNow
	}
	p, err := Generate(t.TempDir(), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// readTree returns every file under dir by its relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGenerateIsDeterministic(t *testing.T) {
	s := stillRunning(loadStrategy(t, "varmdo"))
	a := generate(t, s, Options{Seed: 7})
	b := generate(t, s, Options{Seed: 7})
	ta, tb := readTree(t, a.Dir), readTree(t, b.Dir)
	if len(ta) < 200 {
		t.Fatalf("only %d files generated", len(ta))
	}
	if !reflect.DeepEqual(slices.Sorted(mapKeys(ta)), slices.Sorted(mapKeys(tb))) {
		t.Fatalf("the two runs wrote different files")
	}
	for name, data := range ta {
		if !bytes.Equal(data, tb[name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	if !reflect.DeepEqual(a.Assessments, b.Assessments) {
		t.Error("assessments differ between two runs with the same seed")
	}
	if a.Rows != b.Rows || !reflect.DeepEqual(a.Maintenance, b.Maintenance) || !reflect.DeepEqual(a.Prometheus.Weekly, b.Prometheus.Weekly) {
		t.Errorf("rows or maintenance differ: %+v vs %+v", a.Rows, b.Rows)
	}
	for i := range a.Indicators {
		if a.Indicators[i].Scenario != b.Indicators[i].Scenario {
			t.Errorf("%s: scenario %s vs %s", a.Indicators[i].Indicator, a.Indicators[i].Scenario, b.Indicators[i].Scenario)
		}
	}

	c := generate(t, s, Options{Seed: 8})
	tc := readTree(t, c.Dir)
	name := filepath.Join("arenden", "arenden-2014-03.csv")
	if bytes.Equal(ta[name], tc[name]) {
		t.Errorf("%s is the same with another seed", name)
	}
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestScenariosAreMixed(t *testing.T) {
	for _, name := range []string{"varmdo", "molndal", "norrtalje"} {
		s := loadStrategy(t, name)
		for seed := int64(1); seed <= 5; seed++ {
			got := map[Scenario]int{}
			for _, sc := range assignScenarios(s, seed) {
				got[sc]++
			}
			for _, want := range []Scenario{OnTrack, OffTrack, TargetMet, AtRisk} {
				if got[want] == 0 {
					t.Errorf("%s seed %d: no indicator %s (%v)", name, seed, want, got)
				}
			}
		}
	}
}

// readCSV decodes a generated file and returns its records.
func readCSV(t *testing.T, path string, cp1252 bool, comma rune) [][]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(raw, []byte("\r\n")) || bytes.Count(raw, []byte("\n")) != bytes.Count(raw, []byte("\r\n")) {
		t.Fatalf("%s: lines do not all end in CRLF", path)
	}
	var r io.Reader = bytes.NewReader(raw)
	if cp1252 {
		if utf8.Valid(raw) {
			t.Fatalf("%s is valid UTF-8; want Windows-1252 with Swedish letters", path)
		}
		r = charmap.Windows1252.NewDecoder().Reader(r)
	} else {
		if !utf8.Valid(raw) {
			t.Fatalf("%s is not valid UTF-8", path)
		}
	}
	cr := csv.NewReader(r)
	cr.Comma = comma
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) > 0 {
		recs[0][0] = strings.TrimPrefix(recs[0][0], "\ufeff")
	}
	return recs
}

var digitRun = regexp.MustCompile(`[0-9][0-9+-]*[0-9]`)

var diarienummer = regexp.MustCompile(`^[A-Z]{2,3} (\d{4})/\d{4,5}$`)

func TestCaseExports(t *testing.T) {
	s := stillRunning(loadStrategy(t, "varmdo"))
	p := generate(t, s, Options{})
	if p.From.Format(time.DateOnly) != "2009-12-01" {
		t.Errorf("data starts %s, want the month of the earliest baseline (2009-12-01)", p.From.Format(time.DateOnly))
	}
	if n := len(p.Files.Cases); n != 200 { // June 2009 (half a year before the data) to January 2026
		t.Errorf("%d monthly case files, want 200", n)
	}
	wantHeader := []string{"Diarienummer", "Ärendetyp", "Ärendeslag", "Enhet", "Kanal", "Inkom", "Beslutad"}
	ids := map[string]bool{}
	typeCount := map[string]int{}
	typeCountByYear := map[int]map[string]int{}
	monthCount := map[time.Month][]int{}
	kinds, channels := map[string]bool{}, map[string]bool{}
	rows := 0
	for _, f := range p.Files.Cases {
		m := regexp.MustCompile(`arenden-(\d{4})-(\d{2})\.csv$`).FindStringSubmatch(f)
		if m == nil {
			t.Fatalf("file name %s", f)
		}
		recs := readCSV(t, f, true, ';')
		if !reflect.DeepEqual(recs[0], wantHeader) {
			t.Fatalf("%s: header %q", f, recs[0])
		}
		month, err := time.ParseInLocation("2006-01", m[1]+"-"+m[2], strategy.Stockholm)
		if err != nil {
			t.Fatal(err)
		}
		if month.After(p.From) && month.AddDate(0, 1, 0).Before(p.Now) {
			monthCount[month.Month()] = append(monthCount[month.Month()], len(recs)-1)
		}
		for i, r := range recs[1:] {
			if len(r) != 7 {
				t.Fatalf("%s:%d: %d fields", f, i+2, len(r))
			}
			rows++
			dm := diarienummer.FindStringSubmatch(r[0])
			if dm == nil {
				t.Fatalf("%s:%d: diarienummer %q", f, i+2, r[0])
			}
			if ids[r[0]] {
				t.Fatalf("%s:%d: %s twice", f, i+2, r[0])
			}
			ids[r[0]] = true
			recv, err := time.ParseInLocation("2006-01-02 15:04", r[5], strategy.Stockholm)
			if err != nil {
				t.Fatalf("%s:%d: Inkom %q: %v", f, i+2, r[5], err)
			}
			if recv.Format("2006-01") != m[1]+"-"+m[2] || dm[1] != m[1] || recv.After(p.Now) {
				t.Fatalf("%s:%d: received %s, id %s", f, i+2, r[5], r[0])
			}
			if r[6] != "" {
				dec, err := time.ParseInLocation(time.DateOnly, r[6], strategy.Stockholm)
				if err != nil {
					t.Fatalf("%s:%d: Beslutad %q: %v", f, i+2, r[6], err)
				}
				if dec.Format(time.DateOnly) < recv.Format(time.DateOnly) || dec.After(p.Now) {
					t.Fatalf("%s:%d: decided %s, received %s", f, i+2, r[6], r[5])
				}
				if wd := dec.Weekday(); wd == time.Saturday || wd == time.Sunday {
					t.Fatalf("%s:%d: decided on a %s", f, i+2, wd)
				}
			}
			typeCount[r[1]]++
			if typeCountByYear[recv.Year()] == nil {
				typeCountByYear[recv.Year()] = map[string]int{}
			}
			typeCountByYear[recv.Year()][r[1]]++
			kinds[r[2]] = true
			channels[r[4]] = true
		}
	}
	if rows != p.Rows.Cases {
		t.Errorf("%d rows in the files, plan says %d", rows, p.Rows.Cases)
	}
	if rows < 280000 || rows > 320000 {
		t.Errorf("%d cases from 2009 to 2026 at scale 1; want about 300 000", rows)
	}
	if len(typeCount) < 25 {
		t.Errorf("%d case types, want at least 25", len(typeCount))
	}
	for _, k := range []string{"Ansökan", "Anmälan", "Begäran"} {
		if !kinds[k] {
			t.Errorf("no Ärendeslag %s", k)
		}
	}
	for _, c := range []string{"E-tjänst", "Post", "E-post", "Telefon", "Besök"} {
		if !channels[c] {
			t.Errorf("no channel %s", c)
		}
	}

	// Zipf-like: the most common type is far more common than the 20th,
	// and the 20 most common are the same every year.
	top := topTypes(typeCount, 20)
	if ratio := float64(typeCount[top[0]]) / float64(typeCount[top[19]]); ratio < 5 {
		t.Errorf("most common / 20th most common = %.1f, want a Zipf-like spread", ratio)
	}
	for y := 2010; y <= 2025; y++ {
		if got := topTypes(typeCountByYear[y], 20); !reflect.DeepEqual(sortedCopy(got), sortedCopy(top)) {
			t.Errorf("%d: the 20 most common types differ from the overall 20", y)
		}
	}

	// About 1 500 cases a month, fewer in July.
	total, n := 0, 0
	for m, cs := range monthCount {
		if m == time.July {
			continue
		}
		for _, c := range cs {
			total += c
			n++
		}
	}
	mean := float64(total) / float64(n)
	if mean < 1350 || mean > 1700 {
		t.Errorf("%.0f cases in an average month, want about 1 500", mean)
	}
	july := 0
	for _, c := range monthCount[time.July] {
		july += c
	}
	if jm := float64(july) / float64(len(monthCount[time.July])); jm > 0.75*mean {
		t.Errorf("July has %.0f cases against %.0f in other months: no summer dip", jm, mean)
	}
}

func topTypes(count map[string]int, n int) []string {
	names := slices.Collect(mapKeys(count))
	slices.SortFunc(names, func(a, b string) int {
		if count[a] != count[b] {
			return count[b] - count[a]
		}
		return strings.Compare(a, b)
	})
	return names[:min(n, len(names))]
}

func sortedCopy(xs []string) []string {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s
}

// personnummer reports whether s contains a run of digits that is a
// plausible Swedish personnummer or samordningsnummer: 10 or 12 digits
// (YYMMDDNNNC or YYYYMMDDNNNC, optionally '-' or '+' before the last
// four), a real month and day (day + 60 for samordningsnummer) and a valid
// Luhn check digit. Written independently of the collectors' guard.
func personnummer(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	if n < 10 {
		return false
	}
	runs := digitRun.FindAllString(s, -1)
	for _, run := range runs {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, run)
		if n := len(digits); n != 10 && n != 12 {
			continue
		}
		if seps := len(run) - len(digits); seps > 1 || seps == 1 && !strings.ContainsAny(run[len(run)-5:len(run)-4], "+-") {
			continue
		}
		d := digits[len(digits)-10:]
		month := int(d[2]-'0')*10 + int(d[3]-'0')
		day := int(d[4]-'0')*10 + int(d[5]-'0')
		if day > 60 {
			day -= 60
		}
		if month < 1 || month > 12 || day < 1 || day > 31 {
			continue
		}
		sum := 0
		for i := 0; i < 10; i++ {
			x := int(d[i] - '0')
			if i%2 == 0 {
				x *= 2
				if x > 9 {
					x -= 9
				}
			}
			sum += x
		}
		if sum%10 == 0 {
			return true
		}
	}
	return false
}

func TestPersonnummerCheck(t *testing.T) {
	for s, want := range map[string]bool{
		"19121212-1212": true, "121212-1212": true, "1212121212": true, "121272-1219": true, // samordningsnummer
		"121212-1213": false, "BN 2024/0153": false, "2024-03-05 14:02": false, "R-2024-00017": false,
		"ET-0017": false, "SN 2024/10153": false,
	} {
		if got := personnummer(s); got != want {
			t.Errorf("personnummer(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestNoPersonalNumbers(t *testing.T) {
	// Mölndal reads no cases: far fewer fields.
	for name, least := range map[string]int{"varmdo": 500_000, "molndal": 50_000} {
		p := generate(t, loadStrategy(t, name), Options{})
		var files []string
		files = append(files, p.Files.Cases...)
		files = append(files, p.Files.EServices...)
		files = append(files, p.Files.Surveys...)
		if p.Files.Series != "" {
			files = append(files, p.Files.Series)
		}
		fields := 0
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !utf8.Valid(raw) {
				if raw, err = charmap.Windows1252.NewDecoder().Bytes(raw); err != nil {
					t.Fatal(err)
				}
			}
			for i, line := range strings.Split(string(raw), "\r\n") {
				for _, field := range strings.FieldsFunc(line, func(r rune) bool { return r == ';' || r == ',' }) {
					fields++
					if personnummer(field) {
						t.Fatalf("%s:%d: %q looks like a personnummer", f, i+1, field)
					}
					if kind, ok := pnr.Find(field); ok {
						t.Fatalf("%s:%d: %q looks like a %s to the collectors", f, i+1, field, kind)
					}
				}
			}
		}
		if fields < least {
			t.Errorf("%s: only %d fields checked", name, fields)
		}
	}
}

func TestCatalogueSurveyAndSeriesFiles(t *testing.T) {
	s := stillRunning(loadStrategy(t, "varmdo"))
	p := generate(t, s, Options{})

	// Catalogue: quarterly, UTF-8 with BOM, growing.
	if len(p.Files.EServices) != p.Rows.Snapshots || len(p.Files.EServices) < 60 {
		t.Fatalf("%d snapshots", len(p.Files.EServices))
	}
	activeAt := func(f string) (active, integrated, eid int) {
		raw, _ := os.ReadFile(f)
		if !bytes.HasPrefix(raw, []byte("\ufeff")) {
			t.Fatalf("%s has no BOM", f)
		}
		recs := readCSV(t, f, false, ';')
		if !reflect.DeepEqual(recs[0], []string{"Id", "Namn", "Kategori", "Förvaltning", "Adress", "Integrerad", "E-legitimation", "Status"}) {
			t.Fatalf("%s: header %q", f, recs[0])
		}
		seen := map[string]bool{}
		for _, r := range recs[1:] {
			switch {
			case len(r) != 8, seen[r[0]], !strings.HasPrefix(r[4], "https://"),
				r[5] != "Ja" && r[5] != "Nej", r[6] != "Ja" && r[6] != "Nej", r[7] != "Aktiv" && r[7] != "Avvecklad":
				t.Fatalf("%s: bad row %q", f, r)
			}
			seen[r[0]] = true
			if r[7] == "Aktiv" {
				active++
				if r[5] == "Ja" {
					integrated++
				}
				if r[6] == "Ja" {
					eid++
				}
			}
		}
		return
	}
	first := p.Files.EServices[0]
	last := p.Files.EServices[len(p.Files.EServices)-1]
	if !strings.HasSuffix(first, "eservices-2009-12-31.csv") || !strings.HasSuffix(last, "eservices-2025-12-31.csv") {
		t.Errorf("snapshots from %s to %s", filepath.Base(first), filepath.Base(last))
	}
	a0, i0, _ := activeAt(first)
	a1, i1, e1 := activeAt(last)
	ip, _ := p.Indicator("antal-e-tjanster")
	if want := int(ip.Expected(time.Date(2025, 12, 31, 0, 0, 0, 0, strategy.Stockholm)) + 0.5); a1 != want {
		t.Errorf("%d active services at the end, the plan expects %d", a1, want)
	}
	if a0 != 8 || a1 <= a0 || float64(i1)/float64(a1) <= float64(i0)/float64(a0) || e1 == 0 {
		t.Errorf("catalogue from %d (%d integrated) to %d (%d integrated, %d e-ID): not growing", a0, i0, a1, i1, e1)
	}

	// Survey: yearly, comma-separated, scores 1–5, unique response ids.
	ids := map[string]bool{}
	for _, f := range p.Files.Surveys {
		recs := readCSV(t, f, false, ',')
		if !reflect.DeepEqual(recs[0], []string{"Enkät", "Svars-id", "System", "Grupp", "Betyg", "Datum"}) {
			t.Fatalf("%s: header %q", f, recs[0])
		}
		year := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "enkat-"), ".csv")
		for _, r := range recs[1:] {
			if r[0] != "Systemenkät "+year || ids[r[1]] || len(r[4]) != 1 || r[4] < "1" || r[4] > "5" || !strings.HasPrefix(r[5], year+"-10-") {
				t.Fatalf("%s: bad row %q", f, r)
			}
			ids[r[1]] = true
		}
	}
	if len(p.Files.Surveys) != 16 || len(ids) != p.Rows.Responses {
		t.Errorf("%d surveys with %d responses (plan: %d)", len(p.Files.Surveys), len(ids), p.Rows.Responses)
	}

	// Series: the strategy's series indicators, decimal comma.
	recs := readCSV(t, p.Files.Series, false, ';')
	if !reflect.DeepEqual(recs[0], []string{"indikator", "period", "värde", "dimension", "kommentar"}) {
		t.Fatalf("series header %q", recs[0])
	}
	got := map[string]int{}
	for _, r := range recs[1:] {
		if _, err := strategy.ParsePeriod(r[1]); err != nil {
			t.Fatalf("series row %q: %v", r, err)
		}
		if !regexp.MustCompile(`^\d+,\d$`).MatchString(r[2]) {
			t.Fatalf("series row %q: value without decimal comma", r)
		}
		if r[3] == "" {
			got[r[0]]++
		}
	}
	// With them, the maturity dimension e-förvaltning's self-assessment.
	for _, id := range []string{"andel-arenden-folj-bara", "andel-inkop-elektroniskt", "andel-samrad-via-natet", "sjalvskattning-e-forvaltning"} {
		if got[id] != 17 { // yearly: 2009–2025
			t.Errorf("series %s has %d yearly totals, want 17", id, got[id])
		}
	}
	if len(got) != 4 || len(recs)-1 != p.Rows.Series {
		t.Errorf("series file: %v, %d rows (plan %d)", got, len(recs)-1, p.Rows.Series)
	}
}
