package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/config"
	"github.com/malbild/malbild/strategy"
)

// cmdCollect runs collectors: once (--once), or on their schedules until
// interrupted.
func cmdCollect(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	g := newFlags("collect", stderr)
	once := g.fs.Bool("once", false, "run each collector once and exit")
	only := g.fs.StringSlice("only", nil, "run only these collectors (by name)")
	dry := g.fs.Bool("dry-run", false, "validate and print what would be written, without writing")
	from := g.fs.String("from", "", "backfill from this date (YYYY-MM-DD)")
	to := g.fs.String("to", "", "backfill up to this date (YYYY-MM-DD, exclusive)")
	full := g.fs.Bool("recompute", false, "recompute every measure over its whole history, not only the periods new rows touched")
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
	insts, err := instances(cfg, strategies)
	if err != nil {
		return err
	}
	if len(insts) == 0 {
		return fmt.Errorf("no collectors configured (see examples/malbild.yaml)")
	}
	rc := collectors.RunnerConfig{Instances: insts, Strategies: strategies, Logger: log, Recompute: *full}
	if rc.From, err = parseDay(*from); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	if rc.To, err = parseDay(*to); err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if *dry {
		rc.Sink = collectors.NewDryRun(stdout, 5)
		runner, err := collectors.NewRunner(rc)
		if err != nil {
			return err
		}
		results, err := runner.RunOnce(ctx, *only)
		if err != nil {
			return err
		}
		collectors.WriteSummary(stdout, results)
		return results.Err()
	}

	store, closeStore, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeStore()
	spool, err := collectors.OpenSpool(cfg.SpoolDir)
	if err != nil {
		return err
	}
	sink := collectors.NewStoreSink(store, spool, log)
	rc.Sink, rc.Runs, rc.Measures = sink, sink, store
	rc.Board = collectors.NewBoard(time.Now)
	if !*once {
		// The collector role (docs/deploy.md): its metrics on metrics.listen.
		reg, stopMetrics, err := startCollectMetrics(cfg, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
		rc.Registerer = reg
	}
	runner, err := collectors.NewRunner(rc)
	if err != nil {
		return err
	}
	if !*once {
		log.Info("running collectors on their schedules", "collectors", runner.Names())
		return runner.Serve(ctx)
	}
	stop := collectors.StartProgress(rc.Board, progressFile(stderr), log)
	results, err := runner.RunOnce(ctx, *only)
	stop()
	if err != nil {
		return err
	}
	collectors.WriteSummary(stdout, results)
	return results.Err()
}

// progressFile is where the progress bar goes: the terminal, if stderr is one.
func progressFile(w io.Writer) *os.File {
	if f, ok := w.(*os.File); ok {
		return f
	}
	return nil
}

func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.ParseInLocation("2006-01-02", s, strategy.Stockholm)
}

// loadStrategies reads every strategy file, reporting all problems.
func loadStrategies(paths []string) ([]*strategy.Strategy, error) {
	var out []*strategy.Strategy
	var errs []error
	seen := map[string]string{}
	for _, p := range paths {
		s, err := strategy.Load(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[s.Municipality.Code]; dup {
			errs = append(errs, fmt.Errorf("%s: municipality %s already has a strategy in %s", p, s.Municipality.Code, prev))
			continue
		}
		seen[s.Municipality.Code] = p
		out = append(out, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// instances gives every configured collector its tenant: its own, or the
// only municipality's.
func instances(cfg *config.Config, strategies []*strategy.Strategy) ([]collectors.Instance, error) {
	out := make([]collectors.Instance, len(cfg.Collectors))
	for i, inst := range cfg.Collectors {
		if cfg.StateDir != "" {
			inst.StateDir = cfg.StateDir
		}
		if inst.Tenant == "" {
			if len(strategies) != 1 {
				return nil, fmt.Errorf("%s: collector %q needs a tenant (kommunkod) when there is not exactly one strategy", cfg.File, inst.Name)
			}
			inst.Tenant = strategies[0].Municipality.Code
		}
		out[i] = inst
	}
	return out, nil
}
