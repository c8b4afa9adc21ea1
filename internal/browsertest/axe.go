package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axePath is where `make assets` installs axe-core, from the module root.
var axePath = filepath.Join("dashboards", "web", "node_modules", "axe-core", "axe.min.js")

// axeRun runs axe-core with the rules of WCAG 2.0 and 2.1, levels A and
// AA, and gives the violations.
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]}).then(r => r.violations)`

// Violation is one rule that axe-core found broken, with the elements
// that break it.
type Violation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []Node `json:"nodes"`
}

// Node is one element that breaks a rule.
type Node struct {
	Target []any  `json:"target"` // CSS selectors, nested for shadow DOM and frames
	HTML   string `json:"html"`
}

// String gives the rule, its help text and one line per element.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "axe %s: %s", v.ID, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n  %v %s", n.Target, n.HTML)
	}
	return b.String()
}

// Axe runs axe-core on the loaded page for WCAG 2.1 A and AA and returns
// the violations. A missing axe-core fails the test and says to run
// `make assets`.
func Axe(t testing.TB, ctx context.Context) []Violation {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run `make assets` first (it runs npm ci in dashboards/web and copies echarts into dashboards/assets/vendor)", err)
	}
	if !Eval[bool](t, ctx, `typeof window.axe === "object"`) {
		Eval[chromedp.Void](t, ctx, src)
	}
	raw := Eval[[]byte](t, ctx, axeRun)
	var vs []Violation
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatalf("reading axe results: %v", err)
	}
	return vs
}

// CheckAxe reports every axe-core violation on the loaded page as a test
// error that starts with page.
func CheckAxe(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	for _, v := range Axe(t, ctx) {
		t.Errorf("%s: %s", page, v)
	}
}

// axeSource reads axe-core once per test binary.
var axeSource = sync.OnceValues(func() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, axePath))
	return string(b), err
})

// moduleRoot is the nearest directory at or above the working directory
// that holds go.mod; `go test` runs each package's tests in its own
// directory, so this is the repository root from any package.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("finding the module root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding the module root: no go.mod at or above the working directory")
		}
		dir = parent
	}
}
