package main

import (
	"testing"
	"time"

	"github.com/malbild/malbild/internal/numfmt"
)

// A report as wrk 4.1 prints it with --latency.
const wrkReport = `Running 30s test @ http://127.0.0.1:38449/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.29ms    2.12ms  19.69ms   87.61%
    Req/Sec     0.91k   195.14     1.26k    60.00%
  Latency Distribution
     50%  812.00us
     75%    2.70ms
     90%    4.79ms
     99%    1.02s
  912 requests in 30.00s, 4.82MB read
  Socket errors: connect 0, read 2, write 0, timeout 5
  Non-2xx or 3xx responses: 3
Requests/sec:    909.74
Transfer/sec:      4.80MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkReport)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{requests: 912, bytesRead: 5054136, perSecond: 909.74,
		p50: 812 * time.Microsecond, p99: 1020 * time.Millisecond, non2xx: 3, errors: 7}
	if r != want {
		t.Errorf("got  %+v\nwant %+v", r, want)
	}
}

func TestParseWrkIncomplete(t *testing.T) {
	if _, err := parseWrk("Running 30s test @ http://127.0.0.1:1/\nunable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("a report without figures parsed")
	}
	if _, err := parseWrk("     50%    1.10xs\n     99%    2ms\nRequests/sec: 1\n"); err == nil {
		t.Error("a latency with an unknown unit parsed")
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1 000", 1234567: "1 234 567", -50000: "-50 000"} {
		if got := numfmt.Group(n); got != want {
			t.Errorf("numfmt.Group(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestCombineWrk: interleaved runs join into one rate over their time
// together (not the mean of the rates), the median p50 and the worst p99.
func TestCombineWrk(t *testing.T) {
	runs := []wrkResult{
		{requests: 1000, bytesRead: 10, perSecond: 100, p50: 3 * time.Millisecond, p99: 9 * time.Millisecond, errors: 1},
		{requests: 3000, bytesRead: 30, perSecond: 300, p50: 1 * time.Millisecond, p99: 20 * time.Millisecond, non2xx: 2},
		{requests: 2000, bytesRead: 20, perSecond: 200, p50: 2 * time.Millisecond, p99: 5 * time.Millisecond},
	}
	want := wrkResult{requests: 6000, bytesRead: 60, perSecond: 200, p50: 2 * time.Millisecond, p99: 20 * time.Millisecond, non2xx: 2, errors: 1}
	if got := combineWrk(runs); got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
