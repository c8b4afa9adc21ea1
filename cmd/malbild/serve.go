package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/chserver"
	"github.com/malbild/malbild/clickhouse"
	malcollectors "github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/config"
	"github.com/malbild/malbild/dashboards"
	"github.com/malbild/malbild/internal/reload"
	"github.com/malbild/malbild/strategy"
)

// cmdServe runs the collectors on their schedules and serves the dashboards.
func cmdServe(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
	g := newFlags("serve", stderr)
	if err := g.parse(args); err != nil {
		return err
	}
	cfg, err := g.load()
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	strategies, err := loadStrategies(cfg.Strategies)
	if err != nil {
		return err
	}
	if len(strategies) == 0 {
		return errors.New("no strategy files: name them under strategies: in malbild.yaml, or with --strategy")
	}
	store, managed, closeStore, err := openSupervisedStore(ctx, cfg, log, chserver.SuperviseOptions{})
	if err != nil {
		return err
	}
	defer closeStore()
	reloadCfg := func() (*config.Config, error) { return g.load() }
	return serve(ctx, serveOptions{cfg: cfg, reload: reloadCfg, strategies: strategies, store: store, managed: managed, log: log})
}

type serveOptions struct {
	cfg        *config.Config
	reload     func() (*config.Config, error) // nil: no hot reload
	strategies []*strategy.Strategy
	store      *clickhouse.Store
	managed    *chserver.Supervisor // the managed local ClickHouse; nil with clickhouse.url
	log        *slog.Logger
	demo       bool
	// ready, when set, is called with the address once the server listens.
	ready func(addr string)
	// reloadNow, when set, asks for a reload as SIGHUP does; reloaded is
	// called after each reload with what was reloaded and its outcome.
	reloadNow <-chan struct{}
	reloaded  func(what string, err error)
	// clock, when set, measures the dashboards' refresh interval (their
	// Options.Clock) and is the sign-in's clock (sessions, limits), for
	// tests that step it; nil: time.Now.
	clock func() time.Time
}

// server is the running serve command. Each long-lived part applies a new
// configuration itself on reload: the authenticator, the collector runner
// (restarting only the collectors that changed) and the dashboards.
type server struct {
	opts       serveOptions
	boot       *config.Config // the configuration started with: what restart-only settings are compared to
	cfg        *config.Config // the configuration in force
	strategies atomic.Pointer[[]*strategy.Strategy]
	base       *prometheus.Registry
	runnerReg  *prometheus.Registry
	runner     *malcollectors.Runner
	auth       *auth.Authenticator
	dash       *dashboards.Server
}

func serve(ctx context.Context, o serveOptions) error {
	s := &server{opts: o, boot: o.cfg, cfg: o.cfg, base: prometheus.NewRegistry(), runnerReg: prometheus.NewRegistry()}
	s.base.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.strategies.Store(&o.strategies)
	if o.managed != nil {
		s.base.MustRegister(managedCollector{o.managed})
	}

	// Values earlier versions stored under a series name move to the
	// indicators' ids, where every page and the follow-up read them.
	for _, st := range o.strategies {
		n, err := o.store.MoveSeriesValues(ctx, st.Municipality.Code, clickhouse.SeriesMoves(st))
		if err != nil {
			return err
		}
		if n > 0 {
			o.log.Info("values moved from series names to indicator ids", "tenant", st.Municipality.Code, "series", n)
		}
	}

	spool, err := malcollectors.OpenSpool(o.cfg.SpoolDir)
	if err != nil {
		return err
	}
	sink := malcollectors.NewStoreSink(o.store, spool, o.log)
	insts, err := instances(o.cfg, o.strategies)
	if err != nil {
		return err
	}
	s.runner, err = malcollectors.NewRunner(malcollectors.RunnerConfig{
		Instances: insts, Strategies: o.strategies, Sink: sink, Runs: sink, Measures: o.store,
		Registerer: s.runnerReg, Logger: o.log,
	})
	if err != nil {
		return err
	}

	a, err := newAuthenticatorAt(o.cfg, o.store, o.log, o.clock)
	if err != nil {
		return err
	}
	s.auth = a
	if o.cfg.Auth.UsersFile == "" && o.cfg.Auth.TrustedHeader.Header == "" && o.cfg.Auth.OIDC == nil {
		o.log.Warn("no users file and no trusted header: nobody can sign in to the internal pages; add users with `malbild user add`")
	}
	authorize := a.Authorizer
	if o.demo {
		// The demo shows the internal pages to everybody; writing still
		// needs a sign-in.
		authorize = func(r *http.Request) (string, bool) {
			if u, ok := a.Authorizer(r); ok {
				return u, true
			}
			return "demo", true
		}
	}
	dash, err := dashboards.New(dashboards.Options{
		Store:      o.store,
		Strategies: func() []*strategy.Strategy { return *s.strategies.Load() },
		Logger:     o.log,
		Registerer: s.base,
		Gatherer:   prometheus.GathererFunc(s.gather),
		Demo:       o.demo,
		Authorizer: authorize,
		SignedIn: func(r *http.Request) string {
			if id := a.Identify(r); id != nil {
				return id.Name
			}
			return ""
		},
		BaseURL:      o.cfg.BaseURL,
		MetricsApart: o.cfg.Metrics.Listen != "",
		MetricsAllow: o.cfg.Metrics.AllowPrefixes(),
		Contact:      contactOf(o.cfg),
		Clock:        o.clock,
	})
	if err != nil {
		return err
	}
	s.dash = dash
	handler, err := mountFollowup(ctx, o.cfg, a, dash, o.store, o.log)
	if err != nil {
		return err
	}
	if o.cfg.Metrics.Listen != "" {
		_, stopMetrics, err := startMetricsServer(o.cfg.Metrics.Listen, dash.MetricsHandler(), o.log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	ln, err := net.Listen("tcp", o.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.cfg.Listen, err)
	}

	// The background parts, each waited for when serve returns: the
	// collectors first (the last to stop), then the reload watcher and
	// the flushing of refused sign-ins.
	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stopBG()
		wg.Wait()
		a.FlushFailures(context.WithoutCancel(ctx))
	}()
	if o.cfg.RunCollectors {
		wg.Go(func() {
			if err := s.runner.Serve(bg); err != nil {
				o.log.Error("collectors stopped", "error", err)
			}
		})
	} else {
		// A web-only replica: the collector role (`malbild collect`) runs
		// them once for the installation (docs/deploy.md).
		o.log.Info("collectors not run by this process (run_collectors: false)", "collectors", s.runner.Names())
	}
	stopProgress := malcollectors.StartProgress(s.runner.Board(), nil, o.log)
	defer stopProgress()
	if o.reload != nil {
		w := reload.New(s.base, s.watchedFiles, func() error { return s.reload(bg) }, o.log)
		w.Also = []reload.Watch{{Name: "users", Files: s.usersFiles, Load: func() error { return a.Reload(bg) }}}
		w.Trigger, w.Loaded = o.reloadNow, o.reloaded
		wg.Go(func() { w.Run(bg) })
	}
	wg.Go(func() {
		t := time.NewTicker(a.LoginWindow())
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
				a.FlushFailures(bg)
			}
		}
	})

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(o.log.Handler(), slog.LevelWarn),
	}
	addr := ln.Addr().String()
	o.log.Info("serving dashboards", "url", "http://"+addr+"/")
	if o.ready != nil {
		o.ready(addr)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	o.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}

func contactOf(cfg *config.Config) dashboards.Contact {
	return dashboards.Contact{
		Name: cfg.Accessibility.Organisation, Email: cfg.Accessibility.Email,
		Phone: cfg.Accessibility.Phone, URL: cfg.Accessibility.URL,
	}
}

// gather serves /metrics: the server's own metrics and the collectors'.
func (s *server) gather() ([]*dto.MetricFamily, error) {
	return prometheus.Gatherers{s.base, s.runnerReg}.Gather()
}

// watchedFiles are the config file and the strategy files in force.
func (s *server) watchedFiles() []string {
	var files []string
	if s.cfg.File != "" {
		files = append(files, s.cfg.File)
	}
	for _, st := range *s.strategies.Load() {
		files = append(files, st.File)
	}
	return files
}

// usersFiles is the users file in force, watched on its own: an edit
// reloads the users and nothing else.
func (s *server) usersFiles() []string {
	if f := s.auth.UsersFile(); f != "" {
		return []string{f}
	}
	return nil
}

// reload reads config and strategies again and has each part apply them.
// On any error in the new files the previous ones stay in force. Settings
// that only a restart can change make it return a *reload.PendingRestart
// after everything else was applied.
func (s *server) reload(ctx context.Context) error {
	cfg, err := s.opts.reload()
	if err != nil {
		return err
	}
	strategies, err := loadStrategies(cfg.Strategies)
	if err != nil {
		return err
	}
	if len(strategies) == 0 {
		return errors.New("no strategy files left in the config")
	}
	insts, err := instances(cfg, strategies)
	if err != nil {
		return err
	}
	ao := authOptions(cfg)
	if err := s.auth.CheckConfig(ao); err != nil {
		return err
	}
	changes, err := s.runner.ApplyConfig(insts, strategies)
	if err != nil {
		return err
	}
	if len(changes.Added)+len(changes.Removed)+len(changes.Restarted) > 0 {
		s.opts.log.Info("collectors reconfigured", "added", changes.Added, "removed", changes.Removed, "restarted", changes.Restarted)
	}
	if err := s.auth.ApplyConfig(ctx, ao); err != nil {
		return err // not expected after CheckConfig: the users file changed in between
	}
	s.dash.ApplySite(cfg.BaseURL, contactOf(cfg))
	s.strategies.Store(&strategies)
	s.cfg = cfg
	if pending := restartOnly(s.boot, cfg); len(pending) > 0 {
		return &reload.PendingRestart{Settings: pending}
	}
	return nil
}

// restartOnly names the settings that differ between the configuration
// the server started with and cfg and that only a restart applies: the
// listening socket, the store, the spool and the logger are made once.
func restartOnly(boot, cfg *config.Config) []string {
	var out []string
	for _, c := range []struct {
		name       string
		was, isNow any
	}{
		{"listen", boot.Listen, cfg.Listen},
		{"clickhouse.url", boot.ClickHouse.URL, cfg.ClickHouse.URL},
		{"clickhouse.password_file", boot.ClickHouse.PasswordFile, cfg.ClickHouse.PasswordFile},
		{"clickhouse.password", boot.ClickHouse.Password, cfg.ClickHouse.Password},
		{"clickhouse.data_dir", boot.ClickHouse.DataDir, cfg.ClickHouse.DataDir},
		{"data_dir", boot.DataDir, cfg.DataDir},
		{"spool_dir", boot.SpoolDir, cfg.SpoolDir},
		{"log.level", boot.Log.Level, cfg.Log.Level},
		{"log.format", boot.Log.Format, cfg.Log.Format},
		{"metrics.listen", boot.Metrics.Listen, cfg.Metrics.Listen},
		{"metrics.allow", strings.Join(boot.Metrics.Allow, ","), strings.Join(cfg.Metrics.Allow, ",")},
		{"run_collectors", boot.RunCollectors, cfg.RunCollectors},
	} {
		if c.was != c.isNow {
			out = append(out, c.name)
		}
	}
	if !reflect.DeepEqual(boot.Auth.OIDC, cfg.Auth.OIDC) {
		out = append(out, "auth.oidc") // the provider's client is built at start
	}
	return out
}
