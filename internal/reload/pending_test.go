package reload

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestPendingRestartIsNotASuccess: a reload that could not apply a
// setting says so by name in the log and the metrics.
func TestPendingRestartIsNotASuccess(t *testing.T) {
	var logs bytes.Buffer
	var result error
	reg := prometheus.NewRegistry()
	w := New(reg, func() []string { return nil }, func() error { return result }, slog.New(slog.NewTextHandler(&logs, nil)))
	result = &PendingRestart{Settings: []string{"listen", "clickhouse.url"}}
	w.reloadAll()
	if v := testutil.ToFloat64(w.success); v != 0 {
		t.Errorf("last_reload_successful = %v with settings waiting for a restart", v)
	}
	if v := testutil.ToFloat64(w.pending.WithLabelValues("listen")); v != 1 {
		t.Errorf("pending_restart{setting=listen} = %v", v)
	}
	if n := testutil.CollectAndCount(w.pending); n != 2 {
		t.Errorf("%d pending settings exported, want 2", n)
	}
	if !strings.Contains(logs.String(), "settings=\"listen, clickhouse.url\"") || strings.Contains(logs.String(), "msg=\"configuration reloaded\"") {
		t.Errorf("log:\n%s", logs.String())
	}
	// Back to the running values: a success again.
	result = nil
	w.reloadAll()
	if v := testutil.ToFloat64(w.success); v != 1 || testutil.CollectAndCount(w.pending) != 0 {
		t.Errorf("after a clean reload: successful = %v, pending = %d", v, testutil.CollectAndCount(w.pending))
	}
}

// TestOwnWatchReloadsOnlyItself: a change to a file of another watch runs
// that watch's load only; SIGHUP-style reloads run them all.
func TestOwnWatchReloadsOnlyItself(t *testing.T) {
	dir := t.TempDir()
	cfg, users := filepath.Join(dir, "malbild.yaml"), filepath.Join(dir, "users.yaml")
	os.WriteFile(cfg, []byte("listen: x"), 0o600)
	os.WriteFile(users, []byte("users: []"), 0o600)
	var cfgLoads, userLoads int
	var userErr error
	w := New(prometheus.NewRegistry(), func() []string { return []string{cfg} }, func() error { cfgLoads++; return nil },
		slog.New(slog.DiscardHandler))
	w.Also = []Watch{{Name: "users", Files: func() []string { return []string{users} }, Load: func() error { userLoads++; return userErr }}}
	var loaded []string
	w.Loaded = func(name string, _ error) { loaded = append(loaded, name) }

	seen := w.stamps()
	if seen = w.check(seen); cfgLoads+userLoads != 0 {
		t.Fatal("a load without a change")
	}
	os.WriteFile(users, []byte("users: [{name: anna}]"), 0o600)
	seen = w.check(seen)
	if cfgLoads != 0 || userLoads != 1 {
		t.Fatalf("after a users-file edit: %d config loads, %d users loads", cfgLoads, userLoads)
	}
	userErr = errors.New("users.yaml:1: broken")
	os.WriteFile(users, []byte("users: [{name: anna}, x]"), 0o600)
	seen = w.check(seen)
	if testutil.ToFloat64(w.success) != 0 {
		t.Error("a broken users file reported as a successful reload")
	}
	os.WriteFile(cfg, []byte("listen: longer"), 0o600)
	w.check(seen)
	if cfgLoads != 1 || userLoads != 2 || testutil.ToFloat64(w.success) != 0 {
		t.Fatalf("after a config edit: %d config loads, %d users loads, successful %v", cfgLoads, userLoads, testutil.ToFloat64(w.success))
	}
	userErr = nil
	w.reloadAll()
	if cfgLoads != 2 || userLoads != 3 || testutil.ToFloat64(w.success) != 1 {
		t.Fatalf("after a full reload: %d config loads, %d users loads", cfgLoads, userLoads)
	}
	if got := strings.Join(loaded, " "); got != "users users config config users" {
		t.Errorf("loads reported: %s", got)
	}
}
