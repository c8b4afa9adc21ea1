package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckAcceptsTheExamples(t *testing.T) {
	files, _ := filepath.Glob("../../examples/strategies/*.yaml")
	if len(files) != 7 {
		t.Fatalf("want the seven example strategies, found %v", files)
	}
	code, out, errs := runCmd(t, append([]string{"check", "../../examples/malbild.yaml", "../../examples/users.yaml"}, files...)...)
	if code != 0 {
		t.Fatalf("check exit %d\n%s%s", code, out, errs)
	}
	for _, f := range append(files, "../../examples/malbild.yaml", "../../examples/users.yaml") {
		if !strings.Contains(out, f+": ok") {
			t.Errorf("no ok line for %s in:\n%s", f, out)
		}
	}
	// The collector samples are valid malbild.yaml files too.
	t.Setenv("MALBILD_CATALOGUE_TOKEN", "Bearer test") // the eservices API sample reads its secret from here
	samples, _ := filepath.Glob("../../examples/collectors/*.yaml")
	code, out, errs = runCmd(t, append([]string{"check"}, samples...)...)
	if code != 0 || len(samples) < 7 {
		t.Fatalf("check of %d collector samples: exit %d\n%s%s", len(samples), code, out, errs)
	}
}

func TestCheckRejectsWithFileLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("municipality:\n  code: \"0120\"\n  name: Värmdö kommun\nid: x\ntitel: oops\n"), 0o644)
	cfg := filepath.Join(dir, "malbild.yaml")
	os.WriteFile(cfg, []byte("listen: 127.0.0.1:1\ncollectors:\n  - name: a\n    kind: cases_csv\n    path: x.csv\n    colums: {}\n"), 0o644)
	code, _, errs := runCmd(t, "check", bad, cfg)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{bad + ":5: unknown key \"titel\"", cfg + ":6: collector \"a\" (cases_csv): unknown key \"colums\""} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, errs := runCmd(t, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if code, out, _ := runCmd(t, "version"); code != 0 || !strings.HasPrefix(out, "malbild ") {
		t.Fatalf("version: exit %d, %q", code, out)
	}
}

// TestDemoEndToEnd runs `malbild demo` as a user would — managed local
// ClickHouse, generated data through the real collectors, dashboards — on
// a free port, and finds the strategy's goals on / and /ledning.
func TestDemoEndToEnd(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json"}, strings.NewReader(""), pw, &errb)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("demo exited %d after cancel\n%s", code, tail(errb.String()))
			}
		case <-time.After(60 * time.Second):
			t.Error("demo did not stop within 60s of its context ending")
		}
	})
	urlRE := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u := urlRE.FindString(sc.Text()); u != "" {
				found <- u
			}
		}
	}()
	var base string
	select {
	case base = <-found:
	case code := <-done:
		t.Fatalf("demo exited %d before serving\n%s", code, tail(errb.String()))
	case <-time.After(8 * time.Minute):
		t.Fatalf("demo did not serve within 8 minutes\n%s", tail(errb.String()))
	}
	s, err := strategy.Load("../../examples/strategies/varmdo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"", "ledning"} {
		body := get(t, base+page)
		if !strings.Contains(body, "Demodata") {
			t.Errorf("/%s has no Demodata banner", page)
		}
		for _, g := range s.Goals() {
			if page == "" && !g.Public {
				continue
			}
			if !strings.Contains(body, htmlEscape(g.Title.SV)) {
				t.Errorf("/%s lacks goal %q", page, g.Title.SV)
			}
		}
	}
	// The collectors' data reached the pages: a built-in measure has a value.
	if body := get(t, base+"api/v1/"); !strings.Contains(body, "indicators") {
		t.Errorf("/api/v1/ index lacks indicators:\n%.300s", body)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%.500s", url, resp.Status, b)
	}
	return string(b)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

// TestDemoStrategyArgument: "malbild demo NAME" names the strategy; more
// than one, or a name beside --strategy, is refused before anything starts
// (it used to be ignored, and the demo ran Värmdö's).
func TestDemoStrategyArgument(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "ils-it-plan", "varmdo"},
		{"demo", "--strategy", "varmdo", "ils-it-plan"},
	} {
		code, _, stderr := runCmd(t, args...)
		if code == 0 || !strings.Contains(stderr, "demo takes one strategy") {
			t.Errorf("%q: exit %d, %s", args, code, stderr)
		}
	}
	code, _, stderr := runCmd(t, "demo", "--data-dir", t.TempDir(), "ingen-sadan")
	if code == 0 || !strings.Contains(stderr, `strategy "ingen-sadan": no such file and no example of that name`) {
		t.Errorf("an unknown strategy argument: exit %d, %s", code, stderr)
	}
}
