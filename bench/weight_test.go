package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLighthouseScores(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ok := write("ok.json", `{"categories": {"performance": {"score": 0.985}, "accessibility": {"score": 1},
		"best-practices": {"score": 0.96}, "seo": {"score": 0.9}}}`)
	s, err := lighthouseScores(ok)
	if err != nil {
		t.Fatal(err)
	}
	if s != [4]int{99, 100, 96, 90} {
		t.Errorf("scores = %v, want [99 100 96 90]", s)
	}
	// A page Lighthouse could not load has null scores and a runtime error.
	bad := write("bad.json", `{"runtimeError": {"code": "NO_FCP", "message": "The page did not paint any content."},
		"categories": {"performance": {"score": null}, "accessibility": {"score": null}, "best-practices": {"score": null}, "seo": {"score": null}}}`)
	if _, err := lighthouseScores(bad); err == nil || !strings.Contains(err.Error(), "NO_FCP") {
		t.Errorf("a failed run: err = %v, want the runtime error", err)
	}
	missing := write("missing.json", `{"categories": {"performance": {"score": 1}}}`)
	if _, err := lighthouseScores(missing); err == nil || !strings.Contains(err.Error(), "accessibility") {
		t.Errorf("a missing category: err = %v", err)
	}
}

// TestFirstView counts the page and what its <head> loads, brotli and
// plain, and the lazily fetched bundle apart; a script in the body is not
// part of the first view's <head>, nor a stylesheet in a <noscript> (only
// fetched without JavaScript; the test server does not have it).
func TestFirstView(t *testing.T) {
	files := map[string][2]string{ // path → plain, brotli stand-in
		"/":             {`<html><head><link rel="stylesheet" href="/a/style.css"><noscript><link rel="stylesheet" href="/a/noscript.css"></noscript><script src="/a/charts.js" defer data-echarts="/a/echarts.js"></script></head><body><script src="/a/late.js"></script></body></html>`, "PAGE"},
		"/a/style.css":  {"body{}body{}", "CSS"},
		"/a/charts.js":  {"charts();charts();", "JS"},
		"/a/echarts.js": {strings.Repeat("e", 1000), strings.Repeat("b", 100)},
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Accept-Encoding") == "br" {
			w.Header().Set("Content-Encoding", "br")
			io.WriteString(w, f[1])
			return
		}
		io.WriteString(w, f[0])
	}))
	defer ts.Close()
	v, err := firstView(context.Background(), ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len("PAGE") + len("CSS") + len("JS")); v.brotli != want {
		t.Errorf("first view brotli = %d, want %d (%v)", v.brotli, want, v.parts)
	}
	if want := int64(len(files["/"][0]) + len("body{}body{}") + len("charts();charts();")); v.plain != want {
		t.Errorf("first view plain = %d, want %d", v.plain, want)
	}
	if v.lazyBrotli != 100 || v.lazyPlain != 1000 {
		t.Errorf("lazy bundle = %d (%d plain), want 100 (1000)", v.lazyBrotli, v.lazyPlain)
	}
}

// TestReportName gives each page, form factor and run a report file of
// its own, so a -dir run keeps them all.
func TestReportName(t *testing.T) {
	for _, c := range []struct {
		url, ff string
		run     int
		want    string
	}{
		{"http://127.0.0.1:1/", "mobile", 0, "lighthouse-root-mobile-0.json"},
		{"http://127.0.0.1:1/ledning", "desktop", 2, "lighthouse-ledning-desktop-2.json"},
		{"http://127.0.0.1:1/indikator/andel-ansokningar-e-tjanst", "mobile", 1, "lighthouse-indikator_andel-ansokningar-e-tjanst-mobile-1.json"},
	} {
		if got := reportName(c.url, c.ff, c.run); got != c.want {
			t.Errorf("reportName(%q, %q, %d) = %q, want %q", c.url, c.ff, c.run, got, c.want)
		}
	}
}
