package collectors

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/malbild/malbild/collectors/swecsv"
)

// fileTestNow is "now" in the file collectors' tests.
var fileTestNow = time.Date(2025, 6, 15, 12, 0, 0, 0, swecsv.Stockholm)

func fixedNow() time.Time { return fileTestNow }

func sthlm(y, m, d, h, mi int) time.Time {
	return time.Date(y, time.Month(m), d, h, mi, 0, 0, swecsv.Stockholm)
}

func openFixture(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// readFixture returns the contents of the file at p.
func readFixture(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantProblems checks that err lists exactly the messages want, one per
// line, in order.
func wantProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want:\n%s", strings.Join(want, "\n"))
	}
	got := strings.Split(err.Error(), "\n")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("errors:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

// fileProgress records progress reports.
type fileProgress struct {
	mu    sync.Mutex
	files []string
	rows  int
}

func (p *fileProgress) File(name string) {
	p.mu.Lock()
	p.files = append(p.files, name)
	p.mu.Unlock()
}

func (p *fileProgress) Rows(n int) {
	p.mu.Lock()
	p.rows += n
	p.mu.Unlock()
}

// writeFile writes data to dir/name with the given modification time.
func writeFile(t *testing.T, dir, name, data string, mtime time.Time) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return p
}

func copyFixture(t *testing.T, src, dir string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, filepath.Base(src), string(data), fileTestNow.Add(-time.Hour))
}

func TestFileOptionsErrors(t *testing.T) {
	for _, c := range []struct{ src, where, msg string }{
		{"name: a\nkind: cases_csv\n", "1", "set exactly one of path, glob and dir"},
		{"name: a\nkind: cases_csv\npath: a.csv\ndir: x\n", "1", "set exactly one of path, glob and dir"},
		{"name: a\nkind: cases_csv\npath: a.csv\npattern: '*.txt'\n", "4", "pattern needs dir"},
		{"name: a\nkind: cases_csv\ndir: x\npattern: '[a'\n", "4", `invalid pattern "[a"`},
		{"name: a\nkind: cases_csv\nglob: 'x/[a'\n", "3", `invalid glob`},
		{"name: a\nkind: cases_csv\ndir: x\nwatch: true\n", "4", "watch needs state_dir"},
		{"name: a\nkind: cases_csv\ndir: x\nstate_dir: s\n", "4", "state_dir is only used with watch: true"},
		{"name: a\nkind: survey_csv\npath: a.csv\nencoding: latin1\n", "4", `unknown encoding "latin1"`},
		{"name: a\nkind: series_csv\npath: a.csv\ndelimiter: '|'\n", "4", `unknown delimiter "|"`},
		{"name: a\nkind: eservices\npath: a.csv\nwatchh: true\n", "4", `unknown key "watchh" (did you mean "watch"?)`},
	} {
		wantOptionsError(t, c.src, c.where, c.msg)
	}
}

func TestFileOptionsResolveAndList(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "in")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"b.CSV", "a.csv", ".hidden.csv", "~$a.csv", "notes.txt"} {
		writeFile(t, sub, n, "x", fileTestNow)
	}
	if err := os.Mkdir(filepath.Join(sub, "dir.csv"), 0o755); err != nil {
		t.Fatal(err)
	}
	inst := instanceFrom(t, filepath.Join(dir, "malbild.yaml"), "name: a\nkind: cases_csv\ndir: in\nwatch: true\nstate_dir: st\n")
	var o CasesOptions
	if err := DecodeOptions(inst, &o); err != nil {
		t.Fatal(err)
	}
	if err := o.check(inst); err != nil {
		t.Fatal(err)
	}
	if o.Dir != sub || o.StateDir != filepath.Join(dir, "st") || o.Pattern != "*.csv" {
		t.Fatalf("options not resolved: %+v", o.FileOptions)
	}
	files, err := o.list()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f.Path))
	}
	if !reflect.DeepEqual(names, []string{"a.csv", "b.CSV"}) {
		t.Fatalf("listed %q", names)
	}
	// A missing path is an error, an empty glob is not.
	if _, err := (&FileOptions{Path: filepath.Join(dir, "nope.csv")}).list(); err == nil {
		t.Fatal("missing path listed")
	}
	if fs, err := (&FileOptions{Glob: filepath.Join(dir, "*.none")}).list(); err != nil || len(fs) != 0 {
		t.Fatalf("empty glob: %v %v", fs, err)
	}
}

func TestHeaderOnlyFileWritesNothing(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "tom.csv", "indikator;period;värde\r\n", fileTestNow)
	c, err := New(instanceFrom(t, filepath.Join(dir, "malbild.yaml"), "name: s\nkind: series_csv\npath: tom.csv\n"))
	if err != nil {
		t.Fatal(err)
	}
	sink := &batchSink{}
	if err := c.Collect(context.Background(), Request{Tenant: "0120"}, sink); err != nil || len(sink.batches) != 0 {
		t.Fatalf("%v, %d batches", err, len(sink.batches))
	}
}

func TestNextVersionIsMonotonic(t *testing.T) {
	a := nextVersion(fileTestNow)
	b := nextVersion(fileTestNow)
	c := nextVersion(fileTestNow.Add(-time.Hour))
	if !(a < b && b < c) {
		t.Fatalf("versions %d %d %d not increasing", a, b, c)
	}
}

// checkFileSample is checkSampleIn for the file kinds, documented in
// docs/collectors-files.md.
func checkFileSample(t *testing.T, kind, embedded string) Collector {
	t.Helper()
	return checkSampleIn(t, "collectors-files.md", kind, embedded)
}
