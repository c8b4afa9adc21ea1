package browsertest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The pages of the test site: one clean, one with each kind of problem the
// helpers must catch.
const (
	cleanPage = `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Ren</title></head>
<body><main id="main"><h1>Ren sida</h1><p>Inget fel här.</p></main><script src="/ok.js"></script></body></html>`
	brokenPage = `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Trasig</title></head>
<body><main><h1>Trasig sida</h1><img src="/pixel.png"></main>
<script>document.title = "inline ran";</script>
<script src="/throws.js"></script>
<script src="/alerts.js"></script></body></html>`
)

func testSite(t *testing.T) *httptest.Server {
	t.Helper()
	files := map[string]struct{ typ, body string }{
		"/":          {"text/html; charset=utf-8", cleanPage},
		"/trasig":    {"text/html; charset=utf-8", brokenPage},
		"/ok.js":     {"text/javascript", `document.body.dataset.ok = "1";`},
		"/throws.js": {"text/javascript", `throw new Error("planted failure");`},
		"/alerts.js": {"text/javascript", `alert("planted");`},
		"/pixel.png": {"image/png", ""},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.Header().Set("Content-Type", f.typ)
		fmt.Fprint(w, f.body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// errorsTB keeps the errors a helper reports instead of failing the test.
type errorsTB struct {
	testing.TB
	errs []string
}

func (e *errorsTB) Errorf(format string, args ...any) {
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}

func TestBrowser(t *testing.T) {
	srv := testSite(t)
	ctx := Start(t)

	Navigate(t, ctx, srv.URL+"/")
	if ok := Eval[string](t, ctx, `document.body.dataset.ok || ""`); ok != "1" {
		t.Fatalf("the clean page's script did not run: %q", ok)
	}
	if ps := Problems(t, ctx); len(ps) != 0 {
		t.Errorf("problems on the clean page: %q", ps)
	}
	if vs := Axe(t, ctx); len(vs) != 0 {
		t.Errorf("axe violations on the clean page: %v", vs)
	}
	rec := &errorsTB{TB: t}
	CheckPage(rec, ctx, "clean")
	CheckAxe(rec, ctx, "clean")
	if len(rec.errs) != 0 {
		t.Errorf("checks of the clean page reported %q", rec.errs)
	}
	file := Screenshot(t, ctx, "clean")
	if png, err := os.ReadFile(file); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot %s is not a PNG (%v)", file, err)
	}

	Navigate(t, ctx, srv.URL+"/trasig")
	if title := Eval[string](t, ctx, `document.title`); title != "Trasig" {
		t.Errorf("the inline script ran despite the policy: title %q", title)
	}
	ps := strings.Join(Problems(t, ctx), "\n")
	for _, want := range []string{"Content-Security-Policy violation: script-src-elem inline", "script error: Uncaught Error: planted failure", "injected script ran: alert(planted)"} {
		if !strings.Contains(ps, want) {
			t.Errorf("problems on the broken page lack %q:\n%s", want, ps)
		}
	}
	vs := Axe(t, ctx)
	if len(vs) != 1 || vs[0].ID != "image-alt" || len(vs[0].Nodes) != 1 || !strings.Contains(vs[0].Nodes[0].HTML, "pixel.png") {
		t.Errorf("axe on the broken page = %v, want image-alt on the image", vs)
	}
	rec = &errorsTB{TB: t}
	CheckPage(rec, ctx, "broken")
	CheckAxe(rec, ctx, "broken")
	if len(rec.errs) != 4 || !strings.HasPrefix(rec.errs[0], "broken: ") || !strings.Contains(rec.errs[3], "broken: axe image-alt: ") {
		t.Errorf("checks of the broken page reported %q, want three problems and one axe violation", rec.errs)
	}

	// A new document starts with no problems recorded.
	Navigate(t, ctx, srv.URL+"/")
	if ps := Problems(t, ctx); len(ps) != 0 {
		t.Errorf("problems after going back to the clean page: %q", ps)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte("module github.com/malbild/malbild\n")) {
		t.Errorf("module root %s: go.mod starts %.40q (%v)", root, mod, err)
	}
	if wd, _ := os.Getwd(); wd != filepath.Join(root, "internal", "browsertest") {
		t.Errorf("module root %s is not two levels above %s", root, wd)
	}
}
