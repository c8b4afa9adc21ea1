package reload

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestReloadOnChangeKeepsPreviousOnError(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "s.yaml")
	os.WriteFile(f, []byte("v1"), 0o600)
	var loads, good atomic.Int32
	load := func() error {
		loads.Add(1)
		b, _ := os.ReadFile(f)
		if string(b) == "broken" {
			return errors.New("s.yaml:1: broken")
		}
		good.Add(1)
		return nil
	}
	// The watcher's ticker runs on synctest's fake clock: each check
	// happens when the test steps time, and synctest.Wait returns once
	// the watcher is idle again, so no assertion races a check.
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		w := New(reg, func() []string { return []string{f} }, load, slog.New(slog.NewTextHandler(io.Discard, nil)))
		w.Interval = time.Second
		hup := make(chan os.Signal)
		w.Hangup = hup
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go w.Run(ctx)
		synctest.Wait() // the first stamps are taken

		os.WriteFile(f, []byte("broken"), 0o600)
		time.Sleep(w.Interval)
		synctest.Wait()
		if loads.Load() != 1 {
			t.Fatalf("%d loads after a change, want 1", loads.Load())
		}
		if v := testutil.ToFloat64(w.success); v != 0 {
			t.Fatalf("last_reload_successful = %v after a broken file", v)
		}
		if good.Load() != 0 {
			t.Fatal("broken file was accepted")
		}
		time.Sleep(w.Interval)
		synctest.Wait()
		if loads.Load() != 1 {
			t.Fatalf("%d loads without a change, want 1", loads.Load())
		}
		os.WriteFile(f, []byte("v2, longer"), 0o600)
		time.Sleep(w.Interval)
		synctest.Wait()
		if good.Load() != 1 || testutil.ToFloat64(w.success) != 1 {
			t.Fatalf("after a good file: %d good loads, last_reload_successful = %v", good.Load(), testutil.ToFloat64(w.success))
		}
		hup <- syscall.SIGHUP
		synctest.Wait()
		if loads.Load() != 3 {
			t.Fatalf("%d loads after SIGHUP, want 3", loads.Load())
		}
	})
}
