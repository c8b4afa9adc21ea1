// Package browsertest drives Debian's headless Chromium for end-to-end
// tests, through chromedp. It is a normal package that only tests use.
//
// A test starts a browser with Start, loads pages with Navigate, runs
// steps with Do and Run, reads the page with Eval, and checks it with
// CheckPage (Content-Security-Policy violations, script errors, alert
// calls), CheckAxe (axe-core, WCAG 2.1 A and AA) and Screenshot. Every
// helper fails the test, with what it was doing, instead of returning an
// error; nothing here skips a test: a missing Chromium or axe-core fails.
package browsertest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// stepTimeout bounds every single step, so a page that never gets ready
// fails the test instead of hanging it.
const stepTimeout = 30 * time.Second

// recorder runs before any script of every document the browser loads. It
// keeps what CheckPage reports in window.__problems.
const recorder = `
window.__problems = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__problems.push("Content-Security-Policy violation: " + [e.violatedDirective, e.blockedURI, e.sample].filter(Boolean).join(" "));
});
window.addEventListener("error", function (e) { window.__problems.push("script error: " + String(e.message)); });
window.addEventListener("unhandledrejection", function (e) { window.__problems.push("script error (unhandled rejection): " + String(e.reason)); });
window.alert = function (m) { window.__problems.push("injected script ran: alert(" + String(m) + ")"); };
`

// Start starts headless Chromium with a fresh profile and a 1280×900
// window, and returns the chromedp context of its first tab. The browser
// stops when the test ends. Every document the tab loads records
// Content-Security-Policy violations, script errors and alert calls for
// CheckPage.
func Start(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Fatalf("Chromium is not installed at %s (apt-get install chromium): %v", ChromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	// The first run starts the browser; it has no timeout, because a
	// timeout on it would stop the whole browser.
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: recorder})
		return err
	}))
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// Do runs the actions in order, each step within 30 seconds, and fails
// the test with what was being done when one of them fails.
func Do(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Run runs one action within 30 seconds and returns its value; it fails
// the test with what was being done when the action fails.
func Run[T any](t testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// Navigate loads url, then runs the wait actions (such as
// chromedp.WaitVisible), all within 30 seconds.
func Navigate(t testing.TB, ctx context.Context, url string, waits ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	Do(t, ctx, "loading "+url, append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(url)}, waits...)...)
}

// Eval evaluates the JavaScript expression on the loaded page, awaiting
// it when it is a promise, and returns its value as T (chromedp.Void to
// ignore it).
func Eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %.60q: %v", js, err)
	}
	return v
}

// Problems returns what the recorder saw on the loaded page since it was
// loaded: Content-Security-Policy violations, script errors and alert
// calls, one line each.
func Problems(t testing.TB, ctx context.Context) []string {
	t.Helper()
	return Eval[[]string](t, ctx, `window.__problems || ["the problem recorder did not run on this page"]`)
}

// CheckPage reports every problem on the loaded page as a test error
// that starts with page.
func CheckPage(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	for _, p := range Problems(t, ctx) {
		t.Errorf("%s: %s", page, p)
	}
}
