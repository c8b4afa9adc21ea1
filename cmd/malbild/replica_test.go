package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/config"
	"github.com/malbild/malbild/internal/chtest"
)

// stepClock is a clock the test moves by hand.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) Step(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// replica is one `malbild serve` process of a replicated installation:
// its own data directory, store connection and clock, the shared
// ClickHouse, users file and strategy.
type replica struct {
	name  string
	base  string
	clock *stepClock
	logs  *syncBuffer
}

// The ClickHouse of the test is the store each serve gets; the config
// names none (serve uses the store it is given).
const replicaConfig = `listen: 127.0.0.1:0
data_dir: %[1]s
spool_dir: %[1]s/spool
state_dir: %[1]s/state
strategies: [%[2]s]
run_collectors: false
auth:
  users_file: %[3]s
  cookie_secure: false
collectors:
  - name: blocker
    kind: test_blocking
    schedule: 1s
`

// startReplicas starts n serve processes over one ClickHouse database.
// They run no collectors (run_collectors: false): a collector that ran
// would announce itself on blockingRuns.
func startReplicas(t *testing.T, n int) []*replica {
	t.Helper()
	dir := t.TempDir()
	users := filepath.Join(dir, "users.yaml")
	uf := auth.NewUsersFile(users)
	hash, err := auth.HashPassword("rätt-lösenord-1", 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := uf.Add(auth.User{Name: "anna", Role: auth.Admin, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	if err := uf.Save(); err != nil {
		t.Fatal(err)
	}
	dsn := chtest.DSN(t)
	strat, _ := filepath.Abs("../../examples/strategies/varmdo.yaml")
	start := time.Now()
	var out []*replica
	for i := range n {
		r := &replica{name: string(rune('A' + i)), clock: &stepClock{t: start}, logs: &syncBuffer{}}
		cfgFile := filepath.Join(dir, "malbild-"+r.name+".yaml")
		body := fmt.Sprintf(replicaConfig, filepath.Join(dir, "data-"+r.name), strat, users)
		if err := os.WriteFile(cfgFile, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(cfgFile)
		if err != nil {
			t.Fatal(err)
		}
		strategies, err := loadStrategies(cfg.Strategies)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		store, err := clickhouse.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		ready := make(chan string, 1)
		done := make(chan struct{})
		var served error
		go func() {
			defer close(done)
			served = serve(ctx, serveOptions{cfg: cfg, strategies: strategies, store: store,
				log: slog.New(slog.NewTextHandler(r.logs, nil)), clock: r.clock.Now,
				ready: func(addr string) { ready <- addr }})
		}()
		t.Cleanup(func() {
			cancel()
			select {
			case <-done:
				if served != nil {
					t.Errorf("serve %s: %v", r.name, served)
				}
			case <-time.After(60 * time.Second):
				t.Errorf("serve %s did not return within 60s of its context ending", r.name)
			}
			store.Close()
		})
		select {
		case addr := <-ready:
			r.base = "http://" + addr
		case <-done:
			t.Fatalf("serve %s returned before serving\n%s", r.name, r.logs)
		}
		out = append(out, r)
	}
	return out
}

// browser is one browser behind the load balancer: its cookies go to
// every replica (cookies do not tell ports apart).
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method string, r *replica, path string, form url.Values) (int, string, http.Header) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, r.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), resp.Header
}

func (b *browser) get(r *replica, path string) (int, string) {
	b.t.Helper()
	code, body, _ := b.do(http.MethodGet, r, path, nil)
	return code, body
}

func (b *browser) post(r *replica, path string, form url.Values) (int, string) {
	b.t.Helper()
	code, body, _ := b.do(http.MethodPost, r, path, form)
	return code, body
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOn returns the CSRF token of the forms of path on r.
func (b *browser) csrfOn(r *replica, path string) string {
	b.t.Helper()
	code, body := b.get(r, path)
	m := csrfRE.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		b.t.Fatalf("GET %s on %s: %d, no CSRF token\n%.400s", path, r.name, code, body)
	}
	return m[1]
}

// login signs in on r and returns the status of the answer.
func (b *browser) login(r *replica, name, password string) int {
	b.t.Helper()
	tok := b.csrfOn(r, "/logga-in")
	code, _ := b.post(r, "/logga-in", url.Values{"csrf": {tok}, "namn": {name}, "losenord": {password}, "next": {"/uppfoljning"}})
	return code
}

// cookie returns the value of the browser's cookie name ("" if none).
func (b *browser) cookie(r *replica, name string) string {
	u, _ := url.Parse(r.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

const replicaValuePath = "/uppfoljning/indikator/andel-arenden-folj-bara/varde"

// TestReplicaSessions: two serve processes over one ClickHouse act as
// one. A sign-in on A is valid on B, a follow-up write on B with A's
// session and CSRF token is accepted, and a sign-out on A ends the
// session on B.
func TestReplicaSessions(t *testing.T) {
	rs := startReplicas(t, 2)
	a, b := rs[0], rs[1]
	br := newBrowser(t)
	if code := br.login(a, "anna", "rätt-lösenord-1"); code != http.StatusSeeOther {
		t.Fatalf("sign-in on A: %d", code)
	}
	session := br.cookie(a, "malbild_session")
	if session == "" {
		t.Fatal("no session cookie after the sign-in on A")
	}
	if code, body := br.get(b, "/uppfoljning/rapport"); code != http.StatusOK {
		t.Fatalf("the follow-up on B with A's session: %d\n%.300s", code, body)
	}
	// The CSRF token of A's forms is good on B.
	tok := br.csrfOn(a, "/uppfoljning/rapport")
	code, body, h := br.do(http.MethodPost, b, replicaValuePath, url.Values{"csrf": {tok},
		"period": {"2013-06"}, "varde": {"37,5"}, "kommentar": {"Skrivet på B"}, "bas": {"0"}})
	if code != http.StatusSeeOther || strings.Contains(h.Get("Location"), "logga-in") {
		t.Fatalf("a write on B with A's session and CSRF token: %d to %q\n%.600s", code, h.Get("Location"), body)
	}

	// Signing out on A ends the session on B too, also for somebody who
	// kept the cookie the browser dropped.
	if code, _ := br.post(a, "/logga-ut", url.Values{"csrf": {tok}}); code != http.StatusSeeOther {
		t.Fatalf("sign-out on A: %d", code)
	}
	thief := newBrowser(t)
	u, _ := url.Parse(b.base)
	thief.c.Jar.SetCookies(u, []*http.Cookie{{Name: "malbild_session", Value: session, Path: "/"}})
	if code, body := thief.get(b, "/uppfoljning/rapport"); code == http.StatusOK {
		t.Fatalf("B still accepts the session signed out on A: %d\n%.300s", code, body)
	}
	code, body, h = thief.do(http.MethodPost, b, replicaValuePath, url.Values{"csrf": {tok},
		"period": {"2013-07"}, "varde": {"40"}, "kommentar": {"Efter utloggning"}, "bas": {"0"}})
	if code == http.StatusOK || (code == http.StatusSeeOther && !strings.Contains(h.Get("Location"), "logga-in")) {
		t.Fatalf("B took a write with the session signed out on A: %d to %q\n%.300s", code, h.Get("Location"), body)
	}
	if code, _ := thief.get(a, "/uppfoljning/rapport"); code == http.StatusOK {
		t.Fatal("A still accepts its own signed-out session")
	}
	// Web-only replicas: neither runs the collectors (the config has one).
	for _, r := range rs {
		if !strings.Contains(r.logs.String(), "collectors not run by this process") {
			t.Errorf("replica %s does not say it leaves the collectors out:\n%s", r.name, r.logs)
		}
	}
}

// TestReplicaLoginLimit: failed sign-ins on A count on B. Five failures
// for one name from one address (the limit) are refused on either
// replica from then on, even with the right password.
func TestReplicaLoginLimit(t *testing.T) {
	rs := startReplicas(t, 2)
	a, b := rs[0], rs[1]
	br := newBrowser(t)
	for i, r := range []*replica{a, a, a, b, b} {
		if code := br.login(r, "anna", "fel"); code != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d on %s: %d, want 401", i+1, r.name, code)
		}
	}
	for _, r := range []*replica{b, a} {
		if code := br.login(r, "anna", "rätt-lösenord-1"); code != http.StatusTooManyRequests {
			t.Errorf("sign-in on %s after five failures on A and B: %d, want 429", r.name, code)
		}
	}
	// The window passes on B's clock: B lets the right password in.
	b.clock.Step(time.Minute + time.Second)
	if code := br.login(b, "anna", "rätt-lösenord-1"); code != http.StatusSeeOther {
		t.Errorf("sign-in on B after the window: %d", code)
	}
}

// TestReplicaPageCache: a follow-up write on one replica shows on the
// other's pages at its next refresh tick, when it finds the store's data
// version changed; until then it serves its cached page.
func TestReplicaPageCache(t *testing.T) {
	rs := startReplicas(t, 2)
	a, b := rs[0], rs[1]
	const page = "/indikator/andel-arenden-folj-bara"
	anon := newBrowser(t)
	for _, r := range rs {
		if code, body := anon.get(r, page); code != http.StatusOK || strings.Contains(body, "37,5") || strings.Contains(body, "41,5") {
			t.Fatalf("%s on %s before the writes: %d, a value shown already", page, r.name, code)
		}
	}
	br := newBrowser(t)
	if code := br.login(a, "anna", "rätt-lösenord-1"); code != http.StatusSeeOther {
		t.Fatalf("sign-in on A: %d", code)
	}
	write := func(r *replica, period, value string) {
		t.Helper()
		code, body, h := br.do(http.MethodPost, r, replicaValuePath, url.Values{"csrf": {br.csrfOn(r, "/uppfoljning/rapport")},
			"period": {period}, "varde": {value}, "kommentar": {"Skrivet på " + r.name}, "bas": {"0"}})
		if code != http.StatusSeeOther || strings.Contains(h.Get("Location"), "logga-in") {
			t.Fatalf("write on %s: %d to %q\n%.600s", r.name, code, h.Get("Location"), body)
		}
	}
	shows := func(r *replica, value string) bool {
		t.Helper()
		code, body := anon.get(r, page)
		if code != http.StatusOK {
			t.Fatalf("%s on %s: %d", page, r.name, code)
		}
		return strings.Contains(body, value)
	}
	write(a, "2013-06", "37,5")
	if !shows(a, "37,5") {
		t.Fatal("A does not show its own write at once")
	}
	if shows(b, "37,5") {
		t.Fatal("B shows the write before its refresh tick: the test proves nothing about its cache")
	}
	b.clock.Step(5 * time.Second) // the default refresh interval
	if !shows(b, "37,5") {
		t.Fatal("B does not show A's write after its refresh tick")
	}

	// And the other way round.
	write(b, "2014-06", "41,5")
	if shows(a, "41,5") {
		t.Fatal("A shows B's write before its refresh tick")
	}
	a.clock.Step(5 * time.Second)
	if !shows(a, "41,5") {
		t.Fatal("A does not show B's write after its refresh tick")
	}
}

// TestReplicaCollectorRole: `malbild collect` without --once is the
// collector role: it runs the collectors on their schedules and serves
// their metrics on metrics.listen.
func TestReplicaCollectorRole(t *testing.T) {
	dsn, err := url.Parse(chtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := dsn.User.Password()
	dsn.User = url.User(dsn.User.Username())
	t.Setenv("MALBILD_CLICKHOUSE_PASSWORD", pw)
	dir := t.TempDir()
	strat, _ := filepath.Abs("../../examples/strategies/varmdo.yaml")
	cfgFile := filepath.Join(dir, "malbild.yaml")
	body := fmt.Sprintf("clickhouse:\n  url: %s\ndata_dir: %s\nstrategies: [%s]\nmetrics:\n  listen: 127.0.0.1:0\n"+
		"collectors:\n  - name: role-blocker\n    kind: test_blocking\n    schedule: 1h\n", dsn, dir, strat)
	if err := os.WriteFile(cfgFile, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"collect", "--config", cfgFile, "--log-format", "text"}, strings.NewReader(""), io.Discard, logs)
	}()
	defer func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("collect exited %d after its context ended\n%s", code, logs)
			}
		case <-time.After(60 * time.Second):
			t.Error("collect did not stop within 60s of its context ending")
		}
	}()
	var r blockingRun
	select {
	case r = <-blockingRuns:
	case code := <-done:
		t.Fatalf("collect exited %d before running its collector\n%s", code, logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("no collector run within 60s\n%s", logs)
	}
	if r.name != "role-blocker" {
		t.Fatalf("ran %s", r.name)
	}
	m := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/metrics)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("collect does not say where /metrics is:\n%s", logs)
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "malbild_collector_spool_batches") {
		t.Errorf("GET %s: %s\n%.500s", m[1], resp.Status, b)
	}
}
