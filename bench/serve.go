package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/malbild/malbild/internal/numfmt"
)

// Rows of the load section.
type loadRows struct{ public, publicBr, api, rss *row }

const (
	loadTargetRate = 2000
	loadTargetP99  = 50 * time.Millisecond
	// loadTargetBr is the compressed page's share of the rate of a static
	// answer of the same compressed size.
	loadTargetBr = 0.9
	rssTarget    = 300 << 20
	apiPath      = "/api/v1/"
)

func (b *bench) declareLoad() loadRows {
	w := fmt.Sprintf("wrk -t%d -c%d --latency, %d × %s interleaved with the static answer's", b.cfg.wrkThreads, b.cfg.wrkConns,
		loadRounds, b.cfg.wrkDur/loadRounds)
	return loadRows{
		public: b.report.declare("load", "GET "+publicPath+" (public page, warm) under "+w,
			fmt.Sprintf("≥ %s req/s, p99 ≤ %s", numfmt.Group(loadTargetRate), ms(loadTargetP99))),
		publicBr: b.report.declare("load", "GET "+publicPath+" (public page, warm) with Accept-Encoding: br under "+w,
			fmt.Sprintf("≥ %s of the static rate", percent(loadTargetBr))),
		api: b.report.declare("load", "GET "+apiPath+" (open-data API index) under "+w, ""),
		rss: b.report.declare("load", "Peak RSS of the dashboards server process (VmHWM) over the load section", "≤ "+mb(rssTarget)),
	}
}

// load runs the dashboards as a child process on the large data set and
// measures throughput and latency with wrk, next to a static answer of
// the same size from the same server, and the child's peak memory.
func (b *bench) load(ctx context.Context, d *datasets) error {
	rows := b.loadRows
	if d.large == nil {
		return fmt.Errorf("no data set: %w", d.err)
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not installed (scripts/install-deps.sh bench installs it)")
	}
	b.waitMerges(ctx, d.large.store, 2*time.Minute)
	child, err := b.startChild(ctx, d.large)
	if err != nil {
		return err
	}
	defer child.stop(b)
	client := &http.Client{Timeout: time.Minute}
	startRSS, _ := procStatus(child.pid(), "VmRSS")
	first, _, err := timedGet(ctx, client, child.url+publicPath)
	if err != nil {
		return err
	}
	b.report.addNote("Load: the first request of %s after the server process started took %s (its RSS after start: %s).",
		publicPath, ms(first), mb(startRSS))

	var errs []error
	for _, t := range []struct {
		path, encoding string
		row            *row
	}{{publicPath, "", rows.public}, {publicPath, "br", rows.publicBr}, {apiPath, "", rows.api}} {
		page, static, err := b.loadPair(ctx, child, t.path, t.encoding)
		if err != nil {
			b.report.skip(t.row, oneLine(err.Error()))
			errs = append(errs, err)
			continue
		}
		share := page.perSecond / static.perSecond
		v := ""
		switch {
		case t.path == publicPath && t.encoding == "":
			v = verdict(page.perSecond >= loadTargetRate && page.p99 <= loadTargetP99)
		case t.encoding != "":
			v = verdict(share >= loadTargetBr)
		}
		what := fmt.Sprintf("static %s bytes, same server: %s", numfmt.Group(int64(static.bytes)), static.wrkResult)
		if t.encoding != "" {
			what = fmt.Sprintf("static %s bytes (the %s body's size), same server: %s", numfmt.Group(int64(static.bytes)), t.encoding, static.wrkResult)
		}
		b.report.fill(t.row, page.String(), what, percent(share)+" of the rate", v)
		if t.path == publicPath && t.encoding == "" && static.p99 > loadTargetP99 {
			b.report.addNote("Load: the static answer of the same size also had p99 %s > %s in this run (load average %s at the end): "+
				"on this shared 2-core machine the tail comes from the machine, not from the page handler.",
				ms(static.p99), ms(loadTargetP99), loadAverage())
		}
	}
	peak, err := procStatus(child.pid(), "VmHWM")
	if err != nil {
		b.report.skip(rows.rss, oneLine(err.Error()))
		errs = append(errs, err)
	} else {
		b.report.fill(rows.rss, mb(peak), "RSS after start, before any request: "+mb(startRSS), "", verdict(peak <= rssTarget))
	}
	return errors.Join(errs...)
}

type staticResult struct {
	wrkResult
	bytes int
}

// loadRounds is how many wrk runs of each side loadPair takes, of equal
// length, in the order page, static, static, page, page, static…: on a
// shared machine whose speed drifts over a minute, the two sides then
// meet the same drift, where one run after the other gave one of them a
// different machine (the same code measured 87–95 % of its static twin).
const loadRounds = 3

// loadPair runs wrk on path and on a static answer of the same size, in
// loadRounds interleaved runs each. With an encoding ("br", "gzip") wrk
// asks for it, and the static answer has the size of the compressed body:
// the server sends the compressed bytes it keeps for the page's version,
// as a file server would.
func (b *bench) loadPair(ctx context.Context, c *childServer, path, encoding string) (wrkResult, staticResult, error) {
	var headers []string
	if encoding != "" {
		headers = append(headers, "Accept-Encoding: "+encoding)
	}
	// Warm the page (and learn the size of its body as sent) before
	// measuring it.
	size, err := bodySize(ctx, c.url+path, encoding)
	if err != nil {
		return wrkResult{}, staticResult{}, err
	}
	staticPath := staticPrefix + strconv.Itoa(size)
	if n, err := bodySize(ctx, c.url+staticPath, ""); err != nil || n != size {
		return wrkResult{}, staticResult{}, fmt.Errorf("static baseline of %d bytes: got %d bytes, %v", size, n, err)
	}
	var pages, statics []wrkResult
	for i := range 2 * loadRounds {
		// 0 1 1 0 0 1: ABBA, then AB.
		static := i%4 == 1 || i%4 == 2
		p := path
		if static {
			p = staticPath
		}
		r, err := b.wrkProfiled(ctx, c, p, b.cfg.wrkDur/loadRounds, len(pages) == 0 || len(statics) == 0, headers...)
		if err != nil {
			return wrkResult{}, staticResult{}, err
		}
		b.log.Info("wrk", "path", p, "encoding", encoding, "bytes", size, "result", r.String(), "socket_errors", r.errors,
			"bytes_per_request", r.bytesRead/r.requests)
		if static {
			statics = append(statics, r)
		} else {
			pages = append(pages, r)
		}
	}
	page, static := combineWrk(pages), combineWrk(statics)
	// Its answers must be as large as ours (headers included), or the two
	// runs did not fetch the same.
	if per := page.bytesRead / page.requests; per < int64(size) {
		b.report.addNote("Load: wrk read %d bytes per request of %s, less than its %d-byte body.", per, path, size)
	}
	return page, staticResult{static, size}, nil
}

// combineWrk joins runs of equal length: the requests, bytes and errors
// summed, the rate over their time together, the median p50 and the
// largest p99 (the runs' own distributions are not kept).
func combineWrk(runs []wrkResult) wrkResult {
	var c wrkResult
	var secs float64
	p50s := make([]time.Duration, 0, len(runs))
	for _, r := range runs {
		c.requests += r.requests
		c.bytesRead += r.bytesRead
		c.non2xx += r.non2xx
		c.errors += r.errors
		secs += float64(r.requests) / r.perSecond
		p50s = append(p50s, r.p50)
		c.p99 = max(c.p99, r.p99)
	}
	c.perSecond = float64(c.requests) / secs
	c.p50 = median(p50s)
	return c
}

// bodySize fetches url, asking for encoding when it is not "", and
// returns the size of the body as sent (not decoded). The answer must
// come in that encoding.
func bodySize(ctx context.Context, url, encoding string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if got := resp.Header.Get("Content-Encoding"); got != encoding {
		return 0, fmt.Errorf("GET %s with Accept-Encoding %q: Content-Encoding %q", url, encoding, got)
	}
	return len(body), nil
}

// wrkProfiled runs wrk on path; with -profile-dir it also takes a CPU
// profile of the server during the run.
func (b *bench) wrkProfiled(ctx context.Context, c *childServer, path string, dur time.Duration, profile bool, headers ...string) (wrkResult, error) {
	if b.cfg.profileDir == "" || !profile {
		return runWrk(ctx, b.cfg, dur, c.url+path, headers...)
	}
	secs := max(1, int(dur/time.Second)-2)
	enc := ""
	if len(headers) > 0 {
		enc = "-" + strings.NewReplacer(" ", "", ":", "_").Replace(headers[0])
	}
	name := filepath.Join(b.cfg.profileDir, "cpu"+strings.NewReplacer("/", "_").Replace(strings.TrimSuffix(path, "/"))+enc+".prof")
	if err := os.MkdirAll(b.cfg.profileDir, 0o755); err != nil {
		return wrkResult{}, err
	}
	done := make(chan error, 1)
	go func() { done <- fetchTo(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", c.url, secs), name) }()
	r, err := runWrk(ctx, b.cfg, dur, c.url+path, headers...)
	if perr := <-done; perr != nil {
		b.log.Warn("CPU profile of the server failed", "err", perr)
	} else {
		b.log.Info("CPU profile of the server under load written", "file", name)
	}
	return r, err
}

func fetchTo(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// childServer is the dashboards server process of the load section.
type childServer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
	done  chan struct{}
}

func (c *childServer) pid() int { return c.cmd.Process.Pid }

// startChild runs this program again as the dashboards server of d and
// waits until it listens.
func (b *bench) startChild(ctx context.Context, d *dataset) (*childServer, error) {
	return b.startServer(ctx, d.dsn, b.cfg.strategy)
}

// startServer runs this program again as the dashboards server of the
// strategy strat (see runChild) over dsn and waits until it listens.
func (b *bench) startServer(ctx context.Context, dsn, strat string) (*childServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program to run it as the server: %w", err)
	}
	logFile, err := os.Create(filepath.Join(b.dir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, childCommand, "-dsn", dsn, "-strategy", strat)
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	c := &childServer{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() { cmd.Wait(); logFile.Close(); close(c.done) }()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				addr <- a
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case a := <-addr:
		c.url = "http://" + a
		b.log.Info("dashboards server started", "pid", c.pid(), "url", c.url)
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("the server exited at start-up: %s", oneLine(tail(filepath.Join(b.dir, "server.log"))))
	case <-time.After(time.Minute):
		c.stop(b)
		return nil, errors.New("the server did not listen within a minute")
	case <-ctx.Done():
		c.stop(b)
		return nil, ctx.Err()
	}
}

// stop closes the child's stdin, which ends it, and kills it (it alone)
// if it has not exited after ten seconds.
func (c *childServer) stop(b *bench) {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		b.log.Warn("the server did not stop; killing it", "pid", c.pid())
		c.cmd.Process.Kill()
		<-c.done
	}
}

// procStatus reads a memory figure (VmRSS, VmHWM) of process pid, in bytes.
func procStatus(pid int, key string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == key+":" && f[2] == "kB" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: %s: %w", pid, key, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, key)
}

// tail returns the last lines of a file, for error messages.
func tail(path string) string {
	lines := strings.Split(strings.TrimSpace(readFile(path)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " / ")
}
