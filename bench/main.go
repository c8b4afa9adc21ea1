// Command bench measures Målbild against its physical baselines: case
// ingest, page latency, page throughput under load, and growth with the
// data volume. Each figure is printed next to a baseline measured in the
// same run on the same machine (the raw ClickHouse insert, the page's own
// queries run directly, a static answer of the same size), so the ratio
// says how much Målbild itself costs.
//
// It starts its own throwaway ClickHouse in a temporary directory, loads
// data with the demo generators, prints one table and writes it, with a
// description of the machine, to bench/results.md. Run it with `make
// bench`, or smaller:
//
//	go run ./bench -cases 1000000 -probes 5000000 -quick
//
// A section whose dependency is missing or fails is reported as "not
// measured: <reason>"; the other sections still run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/malbild/malbild/chserver"
	"github.com/malbild/malbild/clickhouse"
)

// config is what the flags set.
type config struct {
	ingestRows int           // rows of the cases CSV for section 1
	cases      int           // case records loaded for the page sections
	probes     int           // probe results loaded for the page sections
	growth     int           // the large data set is this many times the small one
	seed       int64         // demo generator seed
	reps       int           // repetitions of the ingest runs
	warm       int           // warm requests per page
	cold       int           // cold requests per page (each on a fresh server)
	wrkDur     time.Duration // wrk time of each side of a load comparison
	wrkThreads int
	wrkConns   int
	sections   []string
	out        string // results file; "" writes none
	strategy   string // example strategy name or a YAML file
	indicator  string // indicator of /indikator/{id}; "" picks one
	keep       bool   // keep the temporary directory
	dataDir    string // use and keep this directory; reuse data sets loaded in it before
	cpuProfile string // write a CPU profile of the bench process here
	profileDir string // write CPU profiles of the server under load here
	verbose    bool

	weightCases    int // case records of the weight section's data set
	weightProbes   int // probe results of the same
	lighthouseRuns int // Lighthouse runs per page and form factor

	clusterMunicipalities int           // municipalities loaded onto the local cluster
	clusterCases          int           // case records spread over them
	clusterProbes         int           // probe results spread over them
	clusterBudget         time.Duration // loading the cluster stops when this is spent
}

var allSections = []string{"ingest", "pages", "load", "growth", "weight", "measures", "cluster"}

func main() {
	if len(os.Args) > 1 && os.Args[1] == childCommand {
		if err := runChild(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&cfg.ingestRows, "ingest-rows", 1_000_000, "rows of the Swedish cases CSV ingested end to end")
	fs.IntVar(&cfg.cases, "cases", 10_000_000, "case records loaded for the page, load and growth sections")
	fs.IntVar(&cfg.probes, "probes", 50_000_000, "probe results loaded for the page, load and growth sections")
	fs.IntVar(&cfg.growth, "growth", 10, "the growth section compares the data set with one this many times smaller")
	fs.Int64Var(&cfg.seed, "seed", 1, "seed of the demo generators")
	fs.IntVar(&cfg.reps, "reps", 5, "repetitions of each ingest run (the median counts)")
	fs.IntVar(&cfg.warm, "warm", 25, "warm requests per page (the median counts)")
	fs.IntVar(&cfg.cold, "cold", 3, "cold requests per page, each on a freshly started server (the median counts)")
	fs.DurationVar(&cfg.wrkDur, "wrk-duration", 30*time.Second, "wrk time of each side of a load comparison (split into interleaved runs)")
	fs.IntVar(&cfg.wrkThreads, "wrk-threads", 2, "wrk threads (-t)")
	fs.IntVar(&cfg.wrkConns, "wrk-connections", 32, "wrk connections (-c)")
	quick := fs.Bool("quick", false, "shorter runs: 1 ingest repetition, 5s wrk runs, 10 warm and 1 cold request per page")
	sections := fs.String("sections", strings.Join(allSections, ","), "sections to run, comma-separated: "+strings.Join(allSections, ", "))
	fs.StringVar(&cfg.out, "out", "bench/results.md", "write the results here (\"\" for nowhere)")
	fs.StringVar(&cfg.strategy, "strategy", "varmdo", "example strategy name, or a strategy YAML file")
	fs.StringVar(&cfg.indicator, "indicator", "", "indicator id for /indikator/{id} (default: the first with a case measure)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary ClickHouse directory")
	fs.StringVar(&cfg.dataDir, "dir", "", "work in this directory and keep it; data sets a previous run loaded there are reused (for profiling)")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (collector, loader, in-process pages) to the file")
	fs.StringVar(&cfg.profileDir, "profile-dir", "", "write CPU profiles of the dashboards server under wrk to this directory")
	fs.BoolVar(&cfg.verbose, "v", false, "log more")
	fs.IntVar(&cfg.weightCases, "weight-cases", 300_000, "case records of the weight section's data set (the demo's size)")
	fs.IntVar(&cfg.weightProbes, "weight-probes", 1_000_000, "probe results of the weight section's data set")
	fs.IntVar(&cfg.lighthouseRuns, "lighthouse-runs", 3, "Lighthouse runs per page and form factor (the median counts)")
	fs.IntVar(&cfg.clusterMunicipalities, "cluster-municipalities", 290, "municipalities loaded onto the local 2×2 cluster (at most the register's 290)")
	fs.IntVar(&cfg.clusterCases, "cluster-cases", 30_000_000, "case records spread over the cluster's municipalities")
	fs.IntVar(&cfg.clusterProbes, "cluster-probes", 100_000_000, "probe results spread over the cluster's municipalities")
	fs.DurationVar(&cfg.clusterBudget, "cluster-budget", 20*time.Minute, "loading the cluster stops when this time is spent; the results state the size reached")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *quick {
		cfg.reps, cfg.warm, cfg.cold = 1, 10, 1
		cfg.wrkDur = 5 * time.Second
	}
	for _, s := range strings.Split(*sections, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(allSections, s) {
			return cfg, fmt.Errorf("unknown section %q (known: %s)", s, strings.Join(allSections, ", "))
		}
		cfg.sections = append(cfg.sections, s)
	}
	switch {
	case cfg.ingestRows < 1, cfg.cases < 1, cfg.probes < 0:
		return cfg, errors.New("-ingest-rows and -cases must be positive, -probes not negative")
	case cfg.growth < 1:
		return cfg, errors.New("-growth must be at least 1")
	case cfg.reps < 1, cfg.warm < 1, cfg.cold < 1, cfg.lighthouseRuns < 1:
		return cfg, errors.New("-reps, -warm, -cold and -lighthouse-runs must be at least 1")
	case cfg.weightCases < 1, cfg.weightProbes < 0:
		return cfg, errors.New("-weight-cases must be positive, -weight-probes not negative")
	case cfg.clusterMunicipalities < 1, cfg.clusterCases < 1, cfg.clusterProbes < 0, cfg.clusterBudget <= 0:
		return cfg, errors.New("-cluster-municipalities, -cluster-cases and -cluster-budget must be positive, -cluster-probes not negative")
	case cfg.wrkDur < time.Second:
		return cfg, errors.New("-wrk-duration must be at least 1s")
	}
	return cfg, nil
}

func (c config) wants(section string) bool { return slices.Contains(c.sections, section) }

// bench is one run: the throwaway ClickHouse and what the sections found.
type bench struct {
	cfg     config
	log     *slog.Logger
	dir     string
	ch      *chserver.Server
	chErr   error // why there is no ClickHouse
	report  *report
	started time.Time

	ingestRows ingestRows
	pageRows   pageRows
	loadRows   loadRows
	growthRow  *row
	weightRows weightRows

	measureRows measureRows
	clusterRows clusterRows
}

func run(ctx context.Context, cfg config) error {
	level := slog.LevelInfo
	if cfg.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	dir, err := workDir(cfg)
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, log: log, dir: dir, report: newReport(), started: time.Now()}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	defer func() {
		if cfg.keep || cfg.dataDir != "" {
			log.Info("kept the temporary directory", "dir", dir)
		} else {
			os.RemoveAll(dir)
		}
	}()
	b.ch, b.chErr = chserver.Start(ctx, chserver.Options{DataDir: filepath.Join(dir, "clickhouse"), Logger: log})
	if b.chErr != nil {
		log.Error("no ClickHouse: every section is not measured", "err", b.chErr)
	} else {
		defer b.ch.Stop()
	}
	b.report.machine = describeMachine(ctx, b)
	b.report.config = cfg
	// Every row is declared up front, so that a section that fails early
	// still shows what it did not measure.
	if cfg.wants("ingest") {
		b.ingestRows = b.declareIngest()
	}
	if cfg.wants("pages") {
		b.pageRows = b.declarePages()
	}
	if cfg.wants("load") {
		b.loadRows = b.declareLoad()
	}
	if cfg.wants("growth") {
		b.growthRow = b.declareGrowth()
	}
	if cfg.wants("weight") {
		b.weightRows = b.declareWeight()
	}
	if cfg.wants("measures") {
		b.measureRows = b.declareMeasures()
	}
	if cfg.wants("cluster") {
		b.clusterRows = b.declareCluster()
	}

	if cfg.wants("ingest") {
		b.section(ctx, "ingest", b.ingest)
	}
	// The page, load and growth sections share the loaded data sets.
	var data *datasets
	if cfg.wants("pages") || cfg.wants("load") || cfg.wants("growth") || cfg.wants("measures") {
		data = b.prepare(ctx)
	}
	if cfg.wants("pages") {
		b.section(ctx, "pages", func(ctx context.Context) error { return b.pages(ctx, data) })
	}
	if cfg.wants("load") {
		b.section(ctx, "load", func(ctx context.Context) error { return b.load(ctx, data) })
	}
	if cfg.wants("growth") {
		b.section(ctx, "growth", func(ctx context.Context) error { return b.growthSection(ctx, data) })
	}
	if cfg.wants("weight") {
		b.section(ctx, "weight", b.weight)
	}
	if cfg.wants("measures") {
		b.section(ctx, "measures", func(ctx context.Context) error { return b.measuresSection(ctx, data) })
	}
	if cfg.wants("cluster") {
		b.section(ctx, "cluster", b.clusterSection)
	}
	b.report.elapsed = time.Since(b.started)
	b.report.machine.loadEnd = loadAverage()

	b.report.write(os.Stdout)
	if cfg.out != "" {
		if err := b.report.save(cfg.out); err != nil {
			return fmt.Errorf("writing %s: %w", cfg.out, err)
		}
		log.Info("results written", "file", cfg.out)
	}
	return ctx.Err()
}

// workDir is -dir, created if missing, or a new temporary directory.
func workDir(cfg config) (string, error) {
	if cfg.dataDir == "" {
		return os.MkdirTemp("", "malbild-bench-")
	}
	if err := os.MkdirAll(cfg.dataDir, 0o750); err != nil {
		return "", err
	}
	return filepath.Abs(cfg.dataDir)
}

// section runs one section; an error or a panic marks what it had not
// measured yet as not measured, and the run goes on.
func (b *bench) section(ctx context.Context, name string, fn func(context.Context) error) {
	start := time.Now()
	b.log.Info("section starts", "section", name)
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fn(ctx)
	}()
	if err != nil {
		b.log.Error("section failed", "section", name, "err", err)
		b.report.fail(name, err)
	}
	b.log.Info("section done", "section", name, "duration", time.Since(start).Round(time.Millisecond).String())
}

// store opens database db on the throwaway ClickHouse and migrates it.
func (b *bench) store(ctx context.Context, db string) (*clickhouse.Store, error) {
	if b.ch == nil {
		return nil, fmt.Errorf("no ClickHouse: %w", b.chErr)
	}
	s, err := clickhouse.Open(ctx, b.ch.DSN(db))
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrating %s: %w", db, err)
	}
	return s, nil
}

// discard is a logger that says nothing, for the code under test.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))
