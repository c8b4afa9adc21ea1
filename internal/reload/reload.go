// Package reload re-reads configuration when asked (SIGHUP) or when a
// watched file changes on disk. A failed load keeps the previous version in
// force; the outcome is logged and exported as
// malbild_config_last_reload_successful.
package reload

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
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
	// valid; an error keeps the previous version.
	Load     func() error
	Interval time.Duration // how often files are checked (default 2s)
	Logger   *slog.Logger
	// Hangup delivers the reload requests; nil subscribes to the
	// process's SIGHUP.
	Hangup <-chan os.Signal

	success   prometheus.Gauge
	timestamp prometheus.Gauge
}

// New returns a Watcher with its metrics registered on reg.
func New(reg prometheus.Registerer, files func() []string, load func() error, logger *slog.Logger) *Watcher {
	w := &Watcher{Files: files, Load: load, Logger: logger, Interval: 2 * time.Second,
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "malbild_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		timestamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "malbild_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
	}
	if reg != nil {
		reg.MustRegister(w.success, w.timestamp)
	}
	w.success.Set(1)
	w.timestamp.SetToCurrentTime()
	return w
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
	seen := stamps(w.Files())
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			w.Logger.Info("SIGHUP: reloading configuration")
			w.reload()
			seen = stamps(w.Files())
		case <-t.C:
			now := stamps(w.Files())
			if !equal(seen, now) {
				w.Logger.Info("configuration files changed on disk: reloading")
				w.reload()
				seen = stamps(w.Files())
			}
		}
	}
}

// Reload loads now and reports whether it worked.
func (w *Watcher) reload() bool {
	if err := w.Load(); err != nil {
		w.success.Set(0)
		w.Logger.Error("reload failed; keeping the previous configuration", "error", err)
		return false
	}
	w.success.Set(1)
	w.timestamp.SetToCurrentTime()
	w.Logger.Info("configuration reloaded")
	return true
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
