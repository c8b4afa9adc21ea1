package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	malcollectors "github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/config"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/internal/durable"
	"github.com/malbild/malbild/internal/reload"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// blockingRuns announces each run of a test_blocking collector: it then
// blocks until its context ends.
var blockingRuns = make(chan blockingRun, 16)

type blockingRun struct {
	name string
	ctx  context.Context
}

func init() {
	malcollectors.Register("test_blocking", func(inst malcollectors.Instance) (malcollectors.Collector, error) {
		return blockingCollector(inst.Name), nil
	})
}

type blockingCollector string

func (c blockingCollector) Collect(ctx context.Context, _ malcollectors.Request, _ malcollectors.Sink) error {
	blockingRuns <- blockingRun{name: string(c), ctx: ctx}
	<-ctx.Done()
	return ctx.Err()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// reloadEnv is `malbild serve` on a throwaway ClickHouse with a config
// file the test rewrites.
type reloadEnv struct {
	t        *testing.T
	dir, cfg string
	users    string
	base     string
	logs     *syncBuffer
	trigger  chan struct{}
	reloaded chan error // outcomes of config reloads
	usersRe  chan error // outcomes of users-file reloads
}

const reloadConfig = `listen: %s
base_url: %s
data_dir: data
spool_dir: spool
strategies: [%s]
accessibility:
  email: %s
auth:
  users_file: users.yaml
  cookie_secure: false
  all_editors: %v
%s
collectors:
  - name: blocker
    kind: test_blocking
    schedule: 1s
  - name: other
    kind: test_blocking
    schedule: %s
`

func (e *reloadEnv) writeConfig(listen, baseURL, email string, allEditors bool, trusted, otherSchedule string) {
	e.t.Helper()
	strat, _ := filepath.Abs("../../examples/strategies/varmdo.yaml")
	body := fmt.Sprintf(reloadConfig, listen, baseURL, strat, email, allEditors, trusted, otherSchedule)
	// Written whole (temporary file and rename), as an editor or a
	// deployment tool does: the config watcher must never see half a file.
	if err := durable.WriteFile(filepath.Dir(e.cfg), filepath.Base(e.cfg), []byte(body)); err != nil {
		e.t.Fatal(err)
	}
}

func startReloadEnv(t *testing.T) *reloadEnv {
	e := &reloadEnv{t: t, dir: t.TempDir(), logs: &syncBuffer{}, trigger: make(chan struct{}),
		reloaded: make(chan error, 8), usersRe: make(chan error, 8)}
	e.cfg, e.users = filepath.Join(e.dir, "malbild.yaml"), filepath.Join(e.dir, "users.yaml")
	uf := auth.NewUsersFile(e.users)
	if err := uf.Add(auth.User{Name: "admin", Role: auth.Admin}); err != nil {
		t.Fatal(err)
	}
	if err := uf.Save(); err != nil {
		t.Fatal(err)
	}
	e.writeConfig("127.0.0.1:0", "https://mal.varmdo.se", "tillganglighet@varmdo.se", false,
		"  trusted_header:\n    header: X-Remote-User\n    proxies: [127.0.0.2]\n    role: viewer", "1s")
	cfg, err := config.Load(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	strategies, err := loadStrategies(cfg.Strategies)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	store, err := clickhouse.Open(ctx, chtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	go func() {
		done <- serve(ctx, serveOptions{cfg: cfg, reload: func() (*config.Config, error) { return config.Load(e.cfg) },
			strategies: strategies, store: store, log: log,
			ready:     func(addr string) { ready <- addr },
			reloadNow: e.trigger,
			reloaded: func(what string, err error) {
				if what == "users" {
					e.usersRe <- err
				} else {
					e.reloaded <- err
				}
			}})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("serve did not return within 60s of its context ending")
		}
		store.Close()
	})
	select {
	case addr := <-ready:
		e.base = "http://" + addr
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, e.logs)
	}
	return e
}

// reload asks for a reload and returns the config reload's outcome.
func (e *reloadEnv) reload() error {
	e.t.Helper()
	e.trigger <- struct{}{}
	return waitFor(e.t, e.reloaded, "config reload")
}

func waitFor[T any](t *testing.T, c chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(60 * time.Second):
		t.Fatalf("no %s within 60s", what)
		var zero T
		return zero
	}
}

// get fetches path from the local address from (127.0.0.x) with the
// trusted header set to user (if any).
func (e *reloadEnv) get(from, path, user string) (int, string) {
	e.t.Helper()
	c := &http.Client{
		Transport:     &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, _ := http.NewRequest(http.MethodGet, e.base+path, nil)
	if user != "" {
		req.Header.Set("X-Remote-User", user)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeReload is the reload the Prometheus way, end to end: each part
// applies what changed, the collectors' runs in progress go on, and what
// needs a restart is reported as such.
func TestServeReload(t *testing.T) {
	e := startReloadEnv(t)
	runs := map[string]blockingRun{}
	for range 2 {
		r := waitFor(t, blockingRuns, "collector run")
		runs[r.name] = r
	}
	if code, _ := e.get("127.0.0.2", "/uppfoljning/anvandare", "admin"); code != http.StatusOK {
		t.Fatalf("admin through the trusted proxy before the reload: %d", code)
	}

	// A users-file edit (as `malbild user add` makes it) reloads the
	// users only: the collectors' runs go on.
	uf, err := auth.LoadUsers(e.users)
	if err != nil {
		t.Fatal(err)
	}
	if err := uf.Add(auth.User{Name: "bea", Role: auth.Editor}); err != nil {
		t.Fatal(err)
	}
	if err := uf.Save(); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, e.usersRe, "users reload"); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.get("127.0.0.2", "/uppfoljning", "bea"); code != http.StatusOK {
		t.Errorf("the added user through the proxy: %d", code)
	}
	for name, r := range runs {
		if r.ctx.Err() != nil {
			t.Errorf("a users-file edit cancelled the run of %s", name)
		}
	}

	// Remove the trusted header, change base_url, the accessibility
	// contact and all_editors, and the schedule of one collector.
	e.writeConfig("127.0.0.1:0", "https://mal.example.se", "ny-kontakt@varmdo.se", true, "", "2s")
	if err := e.reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if code, _ := e.get("127.0.0.2", "/uppfoljning/anvandare", "admin"); code == http.StatusOK {
		t.Error("the trusted header still counts after it was removed from the config")
	}
	if _, body := e.get("127.0.0.1", "/tillganglighet", ""); !strings.Contains(body, "ny-kontakt@varmdo.se") {
		t.Error("the accessibility contact was not applied")
	}
	if _, body := e.get("127.0.0.1", "/api/v1/dcat", ""); !strings.Contains(body, "https://mal.example.se/") {
		t.Error("base_url was not applied")
	}
	if runs["blocker"].ctx.Err() != nil {
		t.Error("a reload that did not change the blocker cancelled its run")
	}
	restarted := waitFor(t, blockingRuns, "restarted collector")
	if restarted.name != "other" || runs["other"].ctx.Err() == nil {
		t.Errorf("changing other's schedule: restarted %s, old run ended: %v", restarted.name, runs["other"].ctx.Err())
	}
	if _, metrics := e.get("127.0.0.1", "/metrics", ""); !strings.Contains(metrics, "malbild_config_last_reload_successful 1") {
		t.Error("a complete reload is not reported as successful")
	}

	// Adding a proxy is applied too.
	e.writeConfig("127.0.0.1:0", "https://mal.example.se", "ny-kontakt@varmdo.se", true,
		"  trusted_header:\n    header: X-Remote-User\n    proxies: [127.0.0.3]", "2s")
	if err := e.reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if code, _ := e.get("127.0.0.3", "/uppfoljning/anvandare", "admin"); code != http.StatusOK {
		t.Errorf("admin through the added proxy: %d", code)
	}
	if code, _ := e.get("127.0.0.2", "/uppfoljning/anvandare", "admin"); code == http.StatusOK {
		t.Error("the removed proxy still counts")
	}

	// A restart-only setting: the reload says so, in the log and the
	// metrics, instead of claiming success.
	e.writeConfig("127.0.0.1:1", "https://mal.example.se", "ny-kontakt@varmdo.se", true,
		"  trusted_header:\n    header: X-Remote-User\n    proxies: [127.0.0.3]", "2s")
	var pr *reload.PendingRestart
	if err := e.reload(); !errors.As(err, &pr) || strings.Join(pr.Settings, ",") != "listen" {
		t.Fatalf("reload with a new listen address = %v", err)
	}
	_, metrics := e.get("127.0.0.1", "/metrics", "")
	for _, want := range []string{`malbild_config_reload_pending_restart{setting="listen"} 1`, "malbild_config_last_reload_successful 0"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, "take effect only after a restart") || !strings.Contains(logs, "settings=listen") {
		t.Errorf("no log line names the setting:\n%s", logs)
	}
	if runs["blocker"].ctx.Err() != nil {
		t.Error("reloads cancelled the blocker's run")
	}
}
