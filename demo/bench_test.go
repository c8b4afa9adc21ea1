package demo

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/malbild/malbild/facts"
)

func TestGenerateCases(t *testing.T) {
	const n = 20000
	var a, b bytes.Buffer
	if err := GenerateCases(&a, n, 3); err != nil {
		t.Fatal(err)
	}
	if err := GenerateCases(&b, n, 3); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("GenerateCases is not deterministic")
	}
	lines := strings.Split(strings.TrimSuffix(decode1252(t, a.Bytes()), "\r\n"), "\r\n")
	if len(lines) != n+1 || lines[0] != caseHeader {
		t.Fatalf("%d lines, header %q", len(lines), lines[0])
	}

	// Cases yields the same cases as facts.
	i := 1
	digital := 0
	for c := range Cases(n, 3) {
		f := strings.Split(lines[i], ";")
		if c.ID != f[0] || c.Type != f[1] || c.Department != f[3] || c.Channel != f[4] || c.Received.Format("2006-01-02 15:04") != f[5] {
			t.Fatalf("case %d: %+v, file %q", i, c, lines[i])
		}
		if dec := f[6]; (dec == "") != c.Decided.IsZero() || dec != "" && c.Decided.Format(time.DateOnly) != dec {
			t.Fatalf("case %d decided %v, file %q", i, c.Decided, dec)
		}
		if c.Application != (f[2] == "Ansökan") || c.Digital != (f[4] == "E-tjänst" || f[4] == "Mina sidor") {
			t.Fatalf("case %d flags %+v", i, c)
		}
		if c.Digital {
			digital++
		}
		i++
	}
	if i != n+1 || digital == 0 {
		t.Fatalf("Cases yielded %d cases, %d digital", i-1, digital)
	}
	// Stopping early stops.
	k := 0
	for range Cases(n, 3) {
		if k++; k == 10 {
			break
		}
	}
}

func decode1252(t *testing.T, b []byte) string {
	t.Helper()
	s, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}

func TestProbeResults(t *testing.T) {
	const n = 50000
	var first []facts.ProbeResult
	services := map[string]bool{}
	ok := 0
	for r := range ProbeResults(n, 5) {
		first = append(first, r)
		services[r.Service] = true
		if r.OK {
			ok++
		}
	}
	if len(first) != n || len(services) != 8 {
		t.Fatalf("%d results over %d services", len(first), len(services))
	}
	if share := float64(ok) / n; share < 0.98 || share > 0.999 {
		t.Errorf("%.3f of the checks succeed", share)
	}
	if !first[8].Time.Equal(first[0].Time.Add(5*time.Minute)) || first[0].Time != first[7].Time {
		t.Errorf("checks are not five minutes apart per service: %v %v %v", first[0].Time, first[7].Time, first[8].Time)
	}
	i := 0
	for r := range ProbeResults(n, 5) {
		if r != first[i] {
			t.Fatalf("result %d differs between runs", i)
		}
		if i++; i == 1000 {
			break
		}
	}
	// Many rows spread over more services, a year each at most.
	count := 0
	names := map[string]bool{}
	for r := range ProbeResults(2_000_000, 5) {
		names[r.Service] = true
		count++
	}
	if count != 2_000_000 || len(names) != 20 {
		t.Errorf("%d results over %d services", count, len(names))
	}
}

// TestProbeResultsWithServices checks the like-for-like growth data sets:
// with the number of services and the end fixed, ten times the results
// are the same services over ten times the days, ending at the same
// instant, and the smaller set is the end of the larger one.
func TestProbeResultsWithServices(t *testing.T) {
	type span struct {
		services    map[string]bool
		first, last time.Time
		rows        []facts.ProbeResult // the last 40 000
	}
	end := ProbeEnd()
	read := func(o ProbeOptions) span {
		s := span{services: map[string]bool{}}
		for r := range ProbeResultsWith(o) {
			if s.first.IsZero() {
				s.first = r.Time
			}
			s.services[r.Service] = true
			s.last = r.Time
			if s.rows = append(s.rows, r); len(s.rows) > 40_000 {
				s.rows = s.rows[1:]
			}
		}
		if first, last := ProbeSpan(o); !first.Equal(s.first) || !last.Equal(s.last) {
			t.Errorf("ProbeSpan(%+v) = %v–%v, the results run %v–%v", o, first, last, s.first, s.last)
		}
		return s
	}
	small := read(ProbeOptions{N: 40_000, Seed: 5, Services: 8, End: end})
	large := read(ProbeOptions{N: 400_000, Seed: 5, Services: 8, End: end})
	if len(small.services) != 8 || len(large.services) != 8 {
		t.Fatalf("services: %d at 1×, %d at 10×, want 8 on both", len(small.services), len(large.services))
	}
	for name := range small.services {
		if !large.services[name] {
			t.Errorf("service %q only in the smaller set", name)
		}
	}
	if want := end.Add(-5 * time.Minute); !small.last.Equal(want) || !large.last.Equal(want) {
		t.Errorf("the sets end at %v and %v, want %v", small.last, large.last, want)
	}
	days := func(s span) float64 { return s.last.Sub(s.first).Hours() / 24 }
	if d1, d10 := days(small), days(large); d1 < 17 || d10/d1 < 9.9 || d10/d1 > 10.1 {
		t.Errorf("history of %.1f days at 1×, %.1f at 10× (%.2f×), want ten times", d1, d10, d10/d1)
	}
	if len(small.rows) != len(large.rows) {
		t.Fatalf("%d and %d rows kept", len(small.rows), len(large.rows))
	}
	for i := range small.rows {
		if small.rows[i] != large.rows[i] {
			t.Fatalf("result %d differs between the sets: %+v, %+v", i, small.rows[i], large.rows[i])
		}
	}
	// Without End the history begins in 2010, as ProbeResults'.
	var first []facts.ProbeResult
	for r := range ProbeResults(2_000, 5) {
		first = append(first, r)
	}
	i := 0
	for r := range ProbeResultsWith(ProbeOptions{N: 2_000, Seed: 5, Services: 8}) {
		if r != first[i] {
			t.Fatalf("result %d: ProbeResultsWith without End differs from ProbeResults", i)
		}
		i++
	}
}

// TestProbeServicesFor checks that the full bench's probe results fit
// between 2010 and 2026 with the services ProbeServicesFor gives.
func TestProbeServicesFor(t *testing.T) {
	for _, c := range []struct{ n, want int }{{500_000, 8}, {5_000_000, 8}, {50_000_000, 30}, {100_000_000, 60}} {
		k := ProbeServicesFor(c.n)
		if k != c.want {
			t.Errorf("ProbeServicesFor(%d) = %d, want %d", c.n, k, c.want)
		}
		first, _ := ProbeSpan(ProbeOptions{N: c.n, Services: k, End: ProbeEnd()})
		if first.Before(benchFrom) {
			t.Errorf("%d probe results over %d services ending at %v begin %v, before %v", c.n, k, ProbeEnd(), first, benchFrom)
		}
		if _, last := ProbeSpan(ProbeOptions{N: c.n, Services: k}); !last.Before(benchTo) {
			t.Errorf("%d probe results over %d services from %v end %v, after %v", c.n, k, benchFrom, last, benchTo)
		}
	}
}

// BenchmarkGenerateCases writes a million case rows.
func BenchmarkGenerateCases(b *testing.B) {
	for b.Loop() {
		w := bufio.NewWriter(io.Discard)
		if err := GenerateCases(w, 1_000_000, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(1_000_000, "rows/op")
}

func BenchmarkCases(b *testing.B) {
	for b.Loop() {
		n := 0
		for range Cases(1_000_000, 1) {
			n++
		}
	}
	b.ReportMetric(1_000_000, "rows/op")
}

func BenchmarkProbeResults(b *testing.B) {
	for b.Loop() {
		n := 0
		for range ProbeResults(5_000_000, 1) {
			n++
		}
	}
	b.ReportMetric(5_000_000, "rows/op")
}

// BenchmarkGenerate generates Värmdö from 2009 to 2026 at scale 1.
func BenchmarkGenerate(b *testing.B) {
	s := loadStrategy(b, "varmdo")
	for b.Loop() {
		p, err := Generate(b.TempDir(), s, Options{Now: testNow})
		if err != nil {
			b.Fatal(err)
		}
		p.Close()
	}
}
