// Package chdbtest proves statements on a current ClickHouse release: it
// replays them, in order, on ClickHouse 26.7 linked in as a library (chDB,
// the npm package @chdb/lib-linux-x64-gnu, pinned by
// testdata/package-lock.json and installed by `make test`) and on a
// throwaway Debian 18.16 clickhouse-server, and compares what each
// returns. A statement that fails, returns other column types or other
// rows on the current release than on 18.16 is reported.
//
// The current release runs in a node process (testdata/replay.js), so
// neither the tests nor the binary need cgo.
package chdbtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/malbild/malbild/chserver"
)

// Statement is one statement as the server receives it.
type Statement struct {
	DB     string `json:"db"`               // the database it runs in
	SQL    string `json:"sql"`              // parameters bound
	Select bool   `json:"select,omitempty"` // it returns rows to compare
	// TypesOnly compares the result's column types but not its rows, for
	// statements whose answer names the release (SELECT version()).
	TypesOnly bool `json:"-"`
}

// Result is what one statement gave: an error, or its output
// (TabSeparatedWithNamesAndTypes for a select, empty otherwise).
type Result struct {
	Out string `json:"out"`
	Err string `json:"error,omitempty"`
}

// Dir is the directory of the npm package that holds chDB.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata")
}

// Current replays stmts on the current release (chDB) in one session on
// a fresh data directory, in time zone tz (TimeZone of the 18.16 server,
// so that both print dates alike), and returns the engine's version and one result
// per statement.
func Current(t testing.TB, tz string, stmts []Statement) (string, []Result) {
	t.Helper()
	return StartCurrent(t, tz, stmts)()
}

// StartCurrent starts replaying stmts on the current release in a child
// process, so that the test can replay them on 18.16 meanwhile, and
// returns a function that waits for the replay's version and results.
func StartCurrent(t testing.TB, tz string, stmts []Statement) (wait func() (string, []Result)) {
	t.Helper()
	dir := Dir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@chdb", "lib-linux-x64-gnu", "libchdb.so")); err != nil {
		t.Fatalf("chDB is not installed in %s (make test installs it: npm ci there): %v", dir, err)
	}
	in, err := json.Marshal(stmts)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "replay.js", t.TempDir())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TZ="+tz)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node for chDB: %v", err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return func() (string, []Result) {
		t.Helper()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("replaying %d statements on chDB: %v\n%s", len(stmts), err, stderr.String())
		}
		var r struct {
			Version string   `json:"version"`
			Results []Result `json:"results"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("reading chDB's results: %v\n%s", err, stderr.String())
		}
		if len(r.Results) != len(stmts) {
			t.Fatalf("chDB gave %d results for %d statements", len(r.Results), len(stmts))
		}
		return r.Version, r.Results
	}
}

// TimeZone is the time zone server s runs in.
func TimeZone(t testing.TB, s *chserver.Server) string {
	t.Helper()
	r := post(t, s, "default", "SELECT timezone()", false)
	if r.Err != "" {
		t.Fatalf("18.16: %s", r.Err)
	}
	return strings.TrimSpace(r.Out)
}

// Old replays stmts on s, a throwaway 18.16 server of the test's own,
// over HTTP, with background merges stopped as on chDB, and returns its
// version and one result per statement.
func Old(t testing.TB, s *chserver.Server, stmts []Statement) (string, []Result) {
	t.Helper()
	if r := post(t, s, "default", "SYSTEM STOP MERGES", false); r.Err != "" {
		t.Fatalf("stopping merges on 18.16: %s", r.Err)
	}
	v := strings.TrimSpace(post(t, s, "default", "SELECT version()", false).Out)
	out := make([]Result, len(stmts))
	for i, st := range stmts {
		out[i] = post(t, s, st.DB, st.SQL, st.Select)
	}
	return v, out
}

func post(t testing.TB, s *chserver.Server, db, sql string, sel bool) Result {
	t.Helper()
	params := url.Values{"database": {db}}
	if sel {
		params.Set("default_format", "TabSeparatedWithNamesAndTypes")
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+s.HTTPAddr()+"/?"+params.Encode(), strings.NewReader(sql))
	if err != nil {
		t.Fatal(err)
	}
	// The server's user and password, if it has one, are in its DSN.
	if u, err := url.Parse(s.DSN(db)); err == nil && u.User != nil {
		pw, _ := u.User.Password()
		req.SetBasicAuth(u.User.Username(), pw)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("18.16: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("18.16: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Result{Err: strings.TrimSpace(string(b))}
	}
	return Result{Out: string(b)}
}

// Diff says how cur, the current release's result of st, differs from
// old, 18.16's; "" if it does not. A statement that failed on 18.16 too
// is not compared. Column names are not compared (releases name
// unaliased expressions differently and nothing reads them); column
// types are, exactly, since the driver scans by type (a Nullable column
// can hand a NULL to a destination that cannot hold one); rows are
// compared as a multiset, floats to 1e-9 relative, the zero date printed
// either way; a DateTime's time zone parameter is not compared.
func Diff(st Statement, old, cur Result) string {
	switch {
	case old.Err != "":
		return ""
	case cur.Err != "":
		return "fails on the current release: " + firstLine(cur.Err)
	case !st.Select:
		return ""
	}
	ot, orows := parseTSV(old.Out)
	ct, crows := parseTSV(cur.Out)
	if !slices.Equal(ot, ct) {
		return fmt.Sprintf("column types differ:\n  18.16:   %s\n  current: %s", strings.Join(ot, ", "), strings.Join(ct, ", "))
	}
	if st.TypesOnly {
		return ""
	}
	slices.Sort(orows)
	slices.Sort(crows)
	if len(orows) != len(crows) {
		return fmt.Sprintf("%d rows on 18.16, %d on the current release:\n  18.16:   %s\n  current: %s",
			len(orows), len(crows), sample(orows), sample(crows))
	}
	for i := range orows {
		if !sameRow(orows[i], crows[i]) {
			return fmt.Sprintf("rows differ:\n  18.16:   %q\n  current: %q", orows[i], crows[i])
		}
	}
	return ""
}

// parseTSV splits TabSeparatedWithNamesAndTypes into its types and rows.
func parseTSV(s string) (types, rows []string) {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) < 2 {
		return nil, nil
	}
	rows = lines[2:]
	for i, r := range rows {
		rows[i] = zeroDate.Replace(r)
	}
	types = strings.Split(lines[1], "\t")
	for i, typ := range types {
		types[i] = dateTimeZone.ReplaceAllString(typ, "DateTime")
	}
	return types, rows
}

// dateTimeZone: 18.16 names the server's time zone in the type of
// toStartOfDay(…) and the like (DateTime('Etc/UTC')), current releases do
// not; the zone only says how to print the value, which the driver reads
// as the same instant.
var dateTimeZone = regexp.MustCompile(`DateTime\([^)]*\)`)

// zeroDate: 18.16 prints the zero Date and DateTime as 0000-00-00, current
// releases as 1970-01-01; the driver reads both as the Unix epoch.
var zeroDate = strings.NewReplacer("0000-00-00 00:00:00", "1970-01-01 00:00:00", "0000-00-00", "1970-01-01")

func sameRow(a, b string) bool {
	if a == b {
		return true
	}
	ac, bc := strings.Split(a, "\t"), strings.Split(b, "\t")
	if len(ac) != len(bc) {
		return false
	}
	for i := range ac {
		if ac[i] != bc[i] && !sameFloat(ac[i], bc[i]) {
			return false
		}
	}
	return true
}

// sameFloat reports whether a and b are the same number as ClickHouse
// prints it (releases differ in the last digits of a sum, and in "-nan").
func sameFloat(a, b string) bool {
	isNaN := func(s string) bool { return strings.TrimPrefix(s, "-") == "nan" }
	if isNaN(a) || isNaN(b) {
		return isNaN(a) && isNaN(b)
	}
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	return x == y || math.Abs(x-y) <= 1e-9*max(1, math.Abs(x), math.Abs(y))
}

func sample(rows []string) string {
	if len(rows) > 3 {
		return fmt.Sprintf("%q …", rows[:3])
	}
	return fmt.Sprintf("%q", rows)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}
