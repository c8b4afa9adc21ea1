package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/malbild/malbild/chserver"
	"github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/demo"
	"github.com/malbild/malbild/examples"
	"github.com/malbild/malbild/strategy"
)

// cmdDemo starts the managed local ClickHouse, loads a strategy, generates
// demo data in the real input formats, runs the real collectors over it
// and serves the dashboards with a "Demodata" banner.
func cmdDemo(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	g := newFlags("demo", stderr)
	scale := g.fs.Int("scale", 1, "multiply the volumes of cases and probes (load testing)")
	seed := g.fs.Int64("seed", 1, "seed of the generated data; the same seed gives the same data")
	inhabitants := g.fs.Int("inhabitants", 0, "the municipality's population, which sets the data's volumes (default: the example's, else 20000)")
	g.fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: malbild demo [--strategy FILE|%v] [--inhabitants N] [--scale N] [--seed N] [--listen ADDR]\n\n", examples.Strategies())
		g.fs.PrintDefaults()
	}
	if err := g.parse(args); err != nil {
		return err
	}
	cfg, err := g.load()
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	name := "varmdo"
	if len(cfg.Strategies) > 0 {
		name = cfg.Strategies[0]
	}
	// "malbild demo ils-it-plan" names the strategy as --strategy does;
	// anything more is a mistake, not something to ignore.
	switch rest := g.fs.Args(); {
	case len(rest) > 1 || (len(rest) == 1 && len(cfg.Strategies) > 0):
		return fmt.Errorf("demo takes one strategy, by --strategy or as its argument; got %q", rest)
	case len(rest) == 1:
		name = rest[0]
	}
	s, err := demoStrategy(name)
	if err != nil {
		return err
	}
	store, managed, closeStore, err := openSupervisedStore(ctx, cfg, log, chserver.SuperviseOptions{})
	if err != nil {
		return err
	}
	defer closeStore()

	dir := filepath.Join(cfg.DataDir, "demo", s.Municipality.Code)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	started := time.Now()
	plan, err := demo.Generate(dir, s, demo.Options{Seed: *seed, Scale: *scale, Inhabitants: *inhabitants, Now: started})
	if err != nil {
		return err
	}
	defer plan.Close()
	log.Info("demo data generated", "dir", dir, "facts", plan.Facts, "from", plan.From.Format(time.DateOnly),
		"until", plan.Now.Format(time.DateOnly), "inhabitants", plan.Inhabitants, "cases", plan.Rows.Cases, "eservice_rows", plan.Rows.EServices,
		"responses", plan.Rows.Responses, "probe_samples", plan.Rows.ProbeSamples, "took", time.Since(started).Round(time.Millisecond))

	spool, err := collectors.OpenSpool(filepath.Join(dir, "spool"))
	if err != nil {
		return err
	}
	sink := collectors.NewStoreSink(store, spool, log)
	board := collectors.NewBoard(time.Now)
	runner, err := collectors.NewRunner(collectors.RunnerConfig{
		Instances: plan.Instances(), Strategies: []*strategy.Strategy{s},
		Sink: sink, Runs: sink, Measures: store, Logger: log, Board: board,
	})
	if err != nil {
		return err
	}
	stop := collectors.StartProgress(board, progressFile(stderr), log)
	results, err := runner.RunOnce(ctx, nil)
	stop()
	if err != nil {
		return err
	}
	collectors.WriteSummary(stderr, results)
	if err := results.Err(); err != nil {
		return fmt.Errorf("demo collectors failed: %w", err)
	}
	for _, a := range plan.Assessments {
		if err := store.WriteAssessment(ctx, a); err != nil {
			return err
		}
	}
	for _, r := range plan.BodyReports {
		if err := store.WriteBodyReport(ctx, r); err != nil {
			return err
		}
	}
	for _, u := range plan.ActivityUpdates {
		if err := store.WriteActivityUpdate(ctx, u); err != nil {
			return err
		}
	}
	log.Info("demo ready", "strategy", s.Title.SV, "took", time.Since(started).Round(time.Millisecond))

	demoUsers := cfg.Auth.UsersFile == ""
	if demoUsers {
		// Sign in with the example users; their passwords are in the file.
		cfg.Auth.UsersFile = filepath.Join(dir, "users.yaml")
		if err := os.WriteFile(cfg.Auth.UsersFile, examples.Users, 0o600); err != nil {
			return err
		}
		insecure := false // plain HTTP on loopback
		cfg.Auth.CookieSecure = &insecure
	}
	cfg.Collectors = plan.Instances()
	return serve(ctx, serveOptions{
		cfg: cfg, strategies: []*strategy.Strategy{s}, store: store, managed: managed, log: log, demo: true,
		ready: func(addr string) {
			fmt.Fprintf(stdout, "Målbild demo of %s: http://%s/\n", s.Municipality.Name, addr)
			if demoUsers {
				fmt.Fprintf(stdout, "Sign in at http://%s/logga-in as admin / demo-admin-byt-mig (other demo users: %s)\n", addr, cfg.Auth.UsersFile)
			}
		},
	})
}

// demoStrategy loads a strategy file, or an embedded example by name.
func demoStrategy(name string) (*strategy.Strategy, error) {
	if _, err := os.Stat(name); err == nil {
		return strategy.Load(name)
	}
	data, file, err := examples.Strategy(name)
	if err != nil {
		return nil, fmt.Errorf("strategy %q: no such file and no example of that name (examples: %v)", name, examples.Strategies())
	}
	return strategy.ParseWith(file, data, strategy.Options{ReadFile: examples.ReadFile})
}
