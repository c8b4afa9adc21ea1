package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"

	"github.com/malbild/malbild/auth"
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
	store, closeStore, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeStore()
	reloadCfg := func() (*config.Config, error) { return g.load() }
	return serve(ctx, serveOptions{cfg: cfg, reload: reloadCfg, strategies: strategies, store: store, log: log})
}

type serveOptions struct {
	cfg        *config.Config
	reload     func() (*config.Config, error) // nil: no hot reload
	strategies []*strategy.Strategy
	store      *clickhouse.Store
	log        *slog.Logger
	demo       bool
	// ready, when set, is called with the address once the server listens.
	ready func(addr string)
}

// server is the running serve command: the strategies and collectors in
// force, swapped as a whole on reload.
type server struct {
	opts       serveOptions
	strategies atomic.Pointer[[]*strategy.Strategy]
	base       *prometheus.Registry
	runnerReg  atomic.Pointer[prometheus.Registry]
	sink       *malcollectors.StoreSink
	auth       *auth.Authenticator

	mu         sync.Mutex
	stopRunner func()
}

func serve(ctx context.Context, o serveOptions) error {
	s := &server{opts: o, base: prometheus.NewRegistry()}
	s.base.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.strategies.Store(&o.strategies)

	spool, err := malcollectors.OpenSpool(o.cfg.SpoolDir)
	if err != nil {
		return err
	}
	s.sink = malcollectors.NewStoreSink(o.store, spool, o.log)
	if err := s.startRunner(ctx, o.cfg, o.strategies); err != nil {
		return err
	}
	defer s.stop()

	a, err := newAuthenticator(o.cfg, o.store, o.log)
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
		BaseURL: o.cfg.BaseURL,
		Contact: dashboards.Contact{
			Name: o.cfg.Accessibility.Organisation, Email: o.cfg.Accessibility.Email,
			Phone: o.cfg.Accessibility.Phone, URL: o.cfg.Accessibility.URL,
		},
	})
	if err != nil {
		return err
	}
	handler, err := mountFollowup(a, dash, o.store, o.log)
	if err != nil {
		return err
	}
	if o.reload != nil {
		w := reload.New(s.base, s.watchedFiles, func() error { return s.reload(ctx) }, o.log)
		go w.Run(ctx)
	}

	ln, err := net.Listen("tcp", o.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.cfg.Listen, err)
	}
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

// gather serves /metrics: the server's own metrics and the current
// collectors'.
func (s *server) gather() ([]*dto.MetricFamily, error) {
	gs := prometheus.Gatherers{s.base}
	if r := s.runnerReg.Load(); r != nil {
		gs = append(gs, r)
	}
	return gs.Gather()
}

// startRunner builds the collectors of cfg and runs them on their
// schedules, replacing the runner in force only if the new one builds.
func (s *server) startRunner(ctx context.Context, cfg *config.Config, strategies []*strategy.Strategy) error {
	insts, err := instances(cfg, strategies)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	runner, err := malcollectors.NewRunner(malcollectors.RunnerConfig{
		Instances: insts, Strategies: strategies, Sink: s.sink, Runs: s.sink, Measures: s.opts.store,
		Registerer: reg, Logger: s.opts.log,
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopRunner != nil {
		s.stopRunner()
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := runner.Serve(rctx); err != nil && !errors.Is(err, context.Canceled) {
			s.opts.log.Error("collectors stopped", "error", err)
		}
	}()
	stopProgress := malcollectors.StartProgress(runner.Board(), nil, s.opts.log)
	s.runnerReg.Store(reg)
	s.stopRunner = func() { cancel(); <-done; stopProgress() }
	return nil
}

func (s *server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopRunner != nil {
		s.stopRunner()
		s.stopRunner = nil
	}
}

// watchedFiles are the config file and the strategy files in force.
func (s *server) watchedFiles() []string {
	var files []string
	if s.opts.cfg.File != "" {
		files = append(files, s.opts.cfg.File)
	}
	for _, st := range *s.strategies.Load() {
		files = append(files, st.File)
	}
	if f := s.auth.UsersFile(); f != "" {
		files = append(files, f)
	}
	return files
}

// reload reads config and strategies again; on any error the previous
// ones stay in force.
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
	if cfg.Listen != s.opts.cfg.Listen || cfg.ClickHouse != s.opts.cfg.ClickHouse {
		s.opts.log.Warn("listen address and ClickHouse settings take effect at the next restart")
	}
	if err := s.auth.Reload(ctx); err != nil {
		return err
	}
	if err := s.startRunner(ctx, cfg, strategies); err != nil {
		return err
	}
	s.strategies.Store(&strategies)
	s.opts.cfg = cfg
	return nil
}
