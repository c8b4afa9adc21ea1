package reload

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
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
	reg := prometheus.NewRegistry()
	w := New(reg, func() []string { return []string{f} }, load, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.Interval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)

	waitFor := func(cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatal("timed out")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(30 * time.Millisecond)
	os.WriteFile(f, []byte("broken"), 0o600)
	waitFor(func() bool { return loads.Load() == 1 })
	if v := testutil.ToFloat64(w.success); v != 0 {
		t.Fatalf("last_reload_successful = %v after a broken file", v)
	}
	if good.Load() != 0 {
		t.Fatal("broken file was accepted")
	}
	os.WriteFile(f, []byte("v2, longer"), 0o600)
	waitFor(func() bool { return good.Load() == 1 })
	waitFor(func() bool { return testutil.ToFloat64(w.success) == 1 })
}
