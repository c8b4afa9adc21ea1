package collectors

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/malbild/malbild/internal/numfmt"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBoardLine(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	b := NewBoard(clock.Now)
	b.Expect(4)
	bygg := b.Track("bygg")
	enkat := b.Track("enkät")
	done := b.Track("probe")
	bygg.File("a.csv")
	bygg.File("b.csv")
	bygg.Rows(12000)
	bygg.Rows(345)
	enkat.File("svar.csv")
	enkat.Rows(80)
	done.wrote(7)
	clock.Add(2 * time.Second)
	done.finish()
	clock.Add(1 * time.Second)
	// bygg: 12 345 rows in 3 s = 4 115 rows/s; enkät 80 rows in 3 s = 27.
	want := "[##--------] 1/4  bygg 2 files 12 345 rows 4 115 rows/s · enkät 1 file 80 rows 27 rows/s"
	if got := b.Line(0); got != want {
		t.Fatalf("Line:\n got %q\nwant %q", got, want)
	}
	if got := b.Line(30); got != "[##--------] 1/4  bygg 2 file…" {
		t.Fatalf("Line(30) = %q", got)
	}
	if n := len([]rune(b.Line(30))); n != 30 {
		t.Fatalf("Line(30) has %d runes", n)
	}
	bygg.finish()
	enkat.finish()
	if got, want := b.Line(0), "[#######---] 3/4  12 432 rows"; got != want {
		t.Fatalf("Line when done:\n got %q\nwant %q", got, want)
	}
	snaps := b.Snapshots()
	if len(snaps) != 3 || snaps[2].Collector != "probe" || snaps[2].Elapsed != 2*time.Second || snaps[0].LastFile != "b.csv" {
		t.Fatalf("snapshots %+v", snaps)
	}
}

func TestGroupDigits(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1 000", 1234567: "1 234 567", -45000: "-45 000"} {
		if got := numfmt.Group(n); got != want {
			t.Errorf("numfmt.Group(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWriteSummary(t *testing.T) {
	var buf bytes.Buffer
	err := WriteSummary(&buf, []Result{
		{Collector: "bygg", Kind: "cases_csv", Rows: 1204, Files: 3, Duration: 1234 * time.Millisecond, Outcome: OutcomeOK},
		{Collector: "tillganglighet", Kind: "http_probe", Rows: 0, Files: 0, Duration: 35 * time.Millisecond, Outcome: OutcomeFailed,
			Err: errors.New("http_probe: dial tcp 127.0.0.1:1: connection refused\nsecond line")},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "" +
		"COLLECTOR       KIND        ROWS   FILES  DURATION  OUTCOME  ERROR\n" +
		"bygg            cases_csv   1 204  3      1.2s      ok       \n" +
		"tillganglighet  http_probe  0      0      35ms      failed   http_probe: dial tcp 127.0.0.1:1: connection refused …\n" +
		"total                       1 204                            \n"
	if buf.String() != want {
		t.Fatalf("summary:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// TestShowProgress runs on synctest's fake clock: 35 ms with a 10 ms
// interval are exactly four frames (0, 10, 20, 30 ms), then the clearing.
func TestShowProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBoard(nil)
		b.Expect(1)
		b.Track("bygg").Rows(5)
		var buf syncBuffer
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { ShowProgress(ctx, &buf, b, 80, 10*time.Millisecond); close(done) }()
		time.Sleep(35 * time.Millisecond)
		cancel()
		<-done
		out := buf.String()
		frames := strings.Split(strings.TrimSuffix(out, "\r\x1b[K"), "\r\x1b[K")
		if !strings.HasPrefix(out, "\r\x1b[K[") || !strings.HasSuffix(out, "\r\x1b[K") || len(frames) != 5 {
			t.Fatalf("progress output %q: want four redraws of one line, cleared at the end", out)
		}
		if !strings.Contains(frames[1], "bygg 0 files 5 rows") || strings.Contains(out, "\n") {
			t.Fatalf("frame %q", frames[1])
		}
	})
}

// TestLogProgress runs on synctest's fake clock: 45 ms with a 10 ms
// interval are exactly four log lines for the one running collector.
func TestLogProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBoard(nil)
		tr := b.Track("bygg")
		tr.File("a.csv")
		tr.Rows(42)
		b.Track("klar").finish()
		var buf syncBuffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { LogProgress(ctx, log, b, 10*time.Millisecond); close(done) }()
		time.Sleep(45 * time.Millisecond)
		cancel()
		<-done
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 4 {
			t.Fatalf("want a log line every interval (4), got %q", buf.String())
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, `level=INFO msg=collecting collector=bygg files=1 rows=42 rows_per_second=`) || !strings.Contains(l, "file=a.csv") {
				t.Fatalf("log line %q", l)
			}
		}
	})
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestBoardKeepsLatestRunPerCollector(t *testing.T) {
	b := NewBoard(nil)
	first := b.Track("bygg")
	first.Rows(10)
	first.finish()
	b.Track("enkät")
	second := b.Track("bygg")
	second.Rows(3)
	snaps := b.Snapshots()
	if len(snaps) != 2 || snaps[0].Collector != "bygg" || snaps[0].Rows != 3 || snaps[0].Done {
		t.Fatalf("snapshots %+v: want the latest bygg run in its place", snaps)
	}
}

func TestStartProgressNotATerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Fatal("a regular file is not a terminal")
	}
	var buf syncBuffer
	b := NewBoard(nil)
	b.Track("bygg")
	stop := StartProgress(b, f, slog.New(slog.NewTextHandler(&buf, nil)))
	stop()
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Fatal("progress bar drawn into a file")
	}
}
