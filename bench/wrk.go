package main

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/malbild/malbild/internal/numfmt"
)

// wrkResult is what one wrk run measured.
type wrkResult struct {
	requests  int64
	bytesRead int64 // as wrk reports it, to three digits
	perSecond float64
	p50, p99  time.Duration
	non2xx    int64
	errors    int64 // socket errors of all kinds
}

func (r wrkResult) String() string {
	return fmt.Sprintf("%s req/s, p50 %s, p99 %s", numfmt.Group(int64(r.perSecond+0.5)), ms(r.p50), ms(r.p99))
}

// runWrk runs wrk against url for dur (whole seconds, at least one) with
// cfg's threads and connections and --latency, and parses its report;
// each of headers ("Name: value") is sent with every request.
func runWrk(ctx context.Context, cfg config, dur time.Duration, url string, headers ...string) (wrkResult, error) {
	path, err := exec.LookPath("wrk")
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk is not installed (scripts/install-deps.sh bench installs it)")
	}
	args := []string{
		"-t" + strconv.Itoa(cfg.wrkThreads),
		"-c" + strconv.Itoa(cfg.wrkConns),
		"-d" + strconv.Itoa(max(1, int(dur/time.Second))) + "s",
		"--latency",
	}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	args = append(args, url)
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %v: %s", strings.Join(args, " "), err, oneLine(string(out)))
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return r, fmt.Errorf("wrk %s: %w", strings.Join(args, " "), err)
	}
	switch {
	case r.requests == 0:
		return r, fmt.Errorf("wrk %s: no requests completed", url)
	case r.non2xx > 0:
		return r, fmt.Errorf("wrk %s: %d of %d answers were not 2xx or 3xx", url, r.non2xx, r.requests)
	}
	return r, nil
}

// parseWrk reads the report wrk --latency prints:
//
//	  Latency Distribution
//	     50%    1.10ms
//	     99%    5.00ms
//	  123456 requests in 30.00s, 1.23GB read
//	  Socket errors: connect 0, read 0, write 0, timeout 5
//	  Non-2xx or 3xx responses: 12
//	Requests/sec:  4115.20
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	var have50, have99, haveRate bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && (f[0] == "50%" || f[0] == "99%"):
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return r, err
			}
			if f[0] == "50%" {
				r.p50, have50 = d, true
			} else {
				r.p99, have99 = d, true
			}
		case len(f) == 6 && f[1] == "requests" && f[2] == "in" && f[5] == "read":
			// 123456 requests in 30.00s, 1.23GB read
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return r, fmt.Errorf("reading %q: %w", sc.Text(), err)
			}
			size, err := parseWrkSize(f[4])
			if err != nil {
				return r, fmt.Errorf("reading %q: %w", sc.Text(), err)
			}
			r.requests, r.bytesRead = n, size
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return r, fmt.Errorf("reading %q: %w", sc.Text(), err)
			}
			r.perSecond, haveRate = v, true
		case len(f) == 5 && f[0] == "Non-2xx":
			n, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil {
				return r, fmt.Errorf("reading %q: %w", sc.Text(), err)
			}
			r.non2xx = n
		case len(f) > 2 && f[0] == "Socket" && f[1] == "errors:":
			// connect 0, read 0, write 0, timeout 5
			for i := 2; i+1 < len(f); i += 2 {
				n, err := strconv.ParseInt(strings.TrimSuffix(f[i+1], ","), 10, 64)
				if err != nil {
					return r, fmt.Errorf("reading %q: %w", sc.Text(), err)
				}
				r.errors += n
			}
		}
	}
	if !have50 || !have99 || !haveRate {
		return r, fmt.Errorf("no latency distribution or request rate in wrk's output: %s", oneLine(out))
	}
	return r, nil
}

// parseWrkSize reads wrk's byte counts: 512.00B, 4.82MB, 1.23GB (binary
// multiples).
func parseWrkSize(s string) (int64, error) {
	for i, u := range []string{"TB", "GB", "MB", "KB", "B"} {
		if num, ok := strings.CutSuffix(s, u); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("wrk size %q: %w", s, err)
			}
			return int64(v * float64(int64(1)<<(10*(4-i)))), nil
		}
	}
	return 0, fmt.Errorf("wrk size %q has no known unit", s)
}

// parseWrkDuration reads wrk's durations: 812.00us, 1.10ms, 2.03s, 1.00m.
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("wrk duration %q: %w", s, err)
			}
			return time.Duration(v * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("wrk duration %q has no known unit", s)
}
