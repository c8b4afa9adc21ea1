package main

import (
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
