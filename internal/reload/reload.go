// Package reload re-reads configuration when asked (SIGHUP) or when a
// watched file changes on disk. A failed load keeps the previous version in
// force; the outcome is logged and exported as
// malbild_config_last_reload_successful, which is 1 only when everything
// on disk is in force. Settings that only a restart can change are logged
// by name and exported as malbild_config_reload_pending_restart{setting}.
package reload

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Watcher calls Load on SIGHUP and when any file from Files changes.
type Watcher struct {
	// Files lists the files to watch; called after every load, since the
	// set may change with the config.
	Files func() []string
	// Load reads everything again and swaps it in only if all of it is
	// valid; an error keeps the previous version. Load returns a
	// *PendingRestart when it applied everything but settings that only a
	// restart can change.
	Load func() error
	// Also are further watches with loads of their own: when only their
	// files change, only their Load runs (an edited users file reloads the
	// users, nothing else). SIGHUP runs Load and then each of them.
	Also     []Watch
	Interval time.Duration // how often files are checked (default 2s)
	Logger   *slog.Logger
	// Hangup delivers the reload requests; nil subscribes to the
	// process's SIGHUP.
	Hangup <-chan os.Signal
	// Trigger, when set, asks for a reload as SIGHUP does.
	Trigger <-chan struct{}
	// Loaded, when set, is called after every load with the name of its
	// watch ("config" for Load) and its outcome.
	Loaded func(name string, err error)

	success   prometheus.Gauge
	timestamp prometheus.Gauge
	pending   *prometheus.GaugeVec

	failed map[string]bool // watches whose last load failed
	waits  []string        // settings waiting for a restart
}

// Watch is a set of files with the load that applies them.
type Watch struct {
	Name  string
	Files func() []string
	Load  func() error
}

// PendingRestart is what Load returns when everything was applied except
// Settings (e.g. "listen", "clickhouse.url"), which take effect only at the
// next restart: the reload is reported as incomplete, not as a success.
type PendingRestart struct{ Settings []string }

func (e *PendingRestart) Error() string {
	return "applied, except settings that take effect only after a restart: " + strings.Join(e.Settings, ", ")
}

// New returns a Watcher with its metrics registered on reg.
func New(reg prometheus.Registerer, files func() []string, load func() error, logger *slog.Logger) *Watcher {
	w := &Watcher{Files: files, Load: load, Logger: logger, Interval: 2 * time.Second,
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "malbild_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful: all of the configuration on disk is in force.",
		}),
		timestamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "malbild_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "malbild_config_reload_pending_restart",
			Help: "1 for each changed setting that takes effect only after a restart.",
		}, []string{"setting"}),
		failed: map[string]bool{},
	}
	if reg != nil {
		reg.MustRegister(w.success, w.timestamp, w.pending)
	}
	w.success.Set(1)
	w.timestamp.SetToCurrentTime()
	return w
}

// watches are the main watch and the others.
func (w *Watcher) watches() []Watch {
	return append([]Watch{{Name: "config", Files: w.Files, Load: w.Load}}, w.Also...)
}

// Run watches until ctx is done.
func (w *Watcher) Run(ctx context.Context) {
	hup := w.Hangup
	if hup == nil {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGHUP)
		defer signal.Stop(c)
		hup = c
	}
	interval := w.Interval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	seen := w.stamps()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			w.Logger.Info("SIGHUP: reloading configuration")
			w.reloadAll()
			seen = w.stamps()
		case <-w.Trigger:
			w.reloadAll()
			seen = w.stamps()
		case <-t.C:
			seen = w.check(seen)
		}
	}
}

// stamps returns the files' stamps per watch.
func (w *Watcher) stamps() []map[string]stamp {
	ws := w.watches()
	out := make([]map[string]stamp, len(ws))
	for i, x := range ws {
		out[i] = stamps(x.Files())
	}
	return out
}

// check reloads the watches whose files changed since seen and returns
// the stamps to compare with next time.
func (w *Watcher) check(seen []map[string]stamp) []map[string]stamp {
	ws := w.watches()
	changed := false
	for i, x := range ws {
		if i < len(seen) && equal(seen[i], stamps(x.Files())) {
			continue
		}
		changed = true
		w.Logger.Info("files changed on disk: reloading", "what", x.Name)
		w.reload(x)
	}
	if !changed {
		return seen
	}
	return w.stamps()
}

// reloadAll runs every watch's load.
func (w *Watcher) reloadAll() {
	for _, x := range w.watches() {
		w.reload(x)
	}
}

// reload runs one watch's load, logs the outcome and updates the metrics.
func (w *Watcher) reload(x Watch) {
	err := x.Load()
	var pr *PendingRestart
	partial := errors.As(err, &pr)
	switch {
	case partial:
		w.failed[x.Name] = false
		w.waits = pr.Settings
		w.Logger.Warn("configuration reloaded, except settings that take effect only after a restart",
			"what", x.Name, "settings", strings.Join(pr.Settings, ", "))
	case err != nil:
		w.failed[x.Name] = true
		w.Logger.Error("reload failed; keeping the previous configuration", "what", x.Name, "error", err)
	default:
		w.failed[x.Name] = false
		if x.Name == "config" {
			w.waits = nil
		}
		w.Logger.Info("configuration reloaded", "what", x.Name)
	}
	w.pending.Reset()
	for _, s := range w.waits {
		w.pending.WithLabelValues(s).Set(1)
	}
	ok := len(w.waits) == 0
	for _, f := range w.failed {
		ok = ok && !f
	}
	if ok {
		w.success.Set(1)
		w.timestamp.SetToCurrentTime()
	} else {
		w.success.Set(0)
	}
	if w.Loaded != nil {
		w.Loaded(x.Name, err)
	}
}

type stamp struct {
	mod  time.Time
	size int64
	err  bool
}

func stamps(files []string) map[string]stamp {
	m := make(map[string]stamp, len(files))
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			m[f] = stamp{err: true}
			continue
		}
		m[f] = stamp{mod: fi.ModTime(), size: fi.Size()}
	}
	return m
}

func equal(a, b map[string]stamp) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !v.mod.Equal(w.mod) || v.size != w.size || v.err != w.err {
			return false
		}
	}
	return true
}
