package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/strategy"
)

// childCommand makes the bench binary run as the dashboards server of the
// load section, in a process of its own so that its memory can be read.
const childCommand = "serve-child"

// staticPrefix serves n bytes at staticPrefix+n: the static baseline
// with the same size as a page, from the same server.
const staticPrefix = "/-/bench/static/"

// maxStatic bounds the static answers.
const maxStatic = 64 << 20

// runChild serves the dashboards of one strategy from the given
// ClickHouse database on a free loopback port, plus the static baseline
// and /debug/pprof/. It prints "listening <addr>" on stdout and runs
// until stdin is closed or it gets SIGTERM.
func runChild(args []string) error {
	fs := flag.NewFlagSet(childCommand, flag.ContinueOnError)
	dsn := fs.String("dsn", "", "ClickHouse DSN")
	strat := fs.String("strategy", "varmdo", "example strategy name, YAML file, or a directory of YAML files (one municipality each)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dsn == "" {
		return errors.New("-dsn is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sts, err := loadStrategies(*strat)
	if err != nil {
		return err
	}
	store, err := clickhouse.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer store.Close()
	h, err := newDashboardsOf(sts, store)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+staticPrefix+"{size}", &staticFiles{})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/", h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("listening %s\n", ln.Addr())
	go func() {
		io.Copy(io.Discard, os.Stdin) // returns when the parent closes it or dies
		stop()
	}()
	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// loadStrategies is loadStrategy, or every *.yaml file of name when it
// is a directory.
func loadStrategies(name string) ([]*strategy.Strategy, error) {
	if fi, err := os.Stat(name); err != nil || !fi.IsDir() {
		st, err := loadStrategy(name)
		if err != nil {
			return nil, err
		}
		return []*strategy.Strategy{st}, nil
	}
	files, err := filepath.Glob(filepath.Join(name, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no *.yaml strategies", name)
	}
	var sts []*strategy.Strategy
	for _, f := range files {
		st, err := strategy.Load(f)
		if err != nil {
			return nil, err
		}
		sts = append(sts, st)
	}
	return sts, nil
}

// staticFiles answers GET staticPrefix+n with n bytes held in memory,
// written at once: the least any handler can do to send n bytes.
type staticFiles struct {
	mu    sync.Mutex
	files map[int][]byte
}

var staticModTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("size"))
	if err != nil || n < 0 || n > maxStatic {
		http.Error(w, "size must be 0–64 MiB", http.StatusBadRequest)
		return
	}
	b := s.file(n)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Last-Modified", staticModTime.Format(http.TimeFormat))
	w.Write(b)
}

func (s *staticFiles) file(n int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.files[n]; ok {
		return b
	}
	if s.files == nil {
		s.files = map[int][]byte{}
	}
	line := []byte("<p>Målbild följer kommunens digitaliseringsstrategi.</p>\n")
	b := make([]byte, n)
	for i := 0; i < n; i += copy(b[i:], line) {
	}
	s.files[n] = b
	return b
}
