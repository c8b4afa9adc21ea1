package collectors

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/malbild/malbild/internal/numfmt"
)

// Board follows the collector runs in progress: files and rows per
// collector. A Board is shown either as a one-line progress bar on a
// terminal (ShowProgress) or as periodic log lines (LogProgress).
type Board struct {
	now func() time.Time

	mu    sync.Mutex
	runs  []*Tracker
	total int // expected runs, for the bar; 0 = unknown
}

// NewBoard returns an empty board. now may be nil (time.Now).
func NewBoard(now func() time.Time) *Board {
	if now == nil {
		now = time.Now
	}
	return &Board{now: now}
}

// Expect sets how many runs the board will see, so the bar can show how
// far the whole collection has come.
func (b *Board) Expect(n int) {
	b.mu.Lock()
	b.total = n
	b.mu.Unlock()
}

// Track starts following a run of the named collector, replacing the
// collector's previous run (so a long serve keeps one tracker per
// collector). The Tracker is the run's Progress.
func (b *Board) Track(collector string) *Tracker {
	t := &Tracker{Collector: collector, started: b.now(), now: b.now}
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, r := range b.runs {
		if r.Collector == collector {
			b.runs[i] = t
			return t
		}
	}
	b.runs = append(b.runs, t)
	return t
}

// Tracker counts the files and rows of one collector run. It implements
// Progress and is safe for concurrent use.
type Tracker struct {
	Collector string
	started   time.Time
	now       func() time.Time

	files   atomic.Int64
	read    atomic.Int64 // rows the collector reported as read
	written atomic.Int64 // rows handed to the sink
	done    atomic.Int64 // unix nanos of the end, 0 while running
	last    atomic.Pointer[string]
}

// File records that the collector started reading a file.
func (t *Tracker) File(name string) {
	t.files.Add(1)
	t.last.Store(&name)
}

// Rows records n more rows read.
func (t *Tracker) Rows(n int) { t.read.Add(int64(n)) }

// wrote records n rows handed to the sink.
func (t *Tracker) wrote(n int) { t.written.Add(int64(n)) }

// finish marks the run as ended.
func (t *Tracker) finish() { t.done.Store(t.now().UnixNano()) }

// Snapshot is a tracker's state at one moment.
type Snapshot struct {
	Collector string
	Files     int64
	Rows      int64 // the larger of rows read and rows written
	Elapsed   time.Duration
	Done      bool
	LastFile  string
}

// RowsPerSecond is the run's average rate so far.
func (s Snapshot) RowsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Rows) / s.Elapsed.Seconds()
}

// Snapshot returns the tracker's current state.
func (t *Tracker) Snapshot() Snapshot {
	s := Snapshot{Collector: t.Collector, Files: t.files.Load(), Rows: max(t.read.Load(), t.written.Load())}
	end := t.now()
	if d := t.done.Load(); d != 0 {
		end, s.Done = time.Unix(0, d), true
	}
	s.Elapsed = end.Sub(t.started)
	if p := t.last.Load(); p != nil {
		s.LastFile = *p
	}
	return s
}

// Snapshots returns the state of every run, in the order they started.
func (b *Board) Snapshots() []Snapshot {
	b.mu.Lock()
	runs := append([]*Tracker(nil), b.runs...)
	b.mu.Unlock()
	out := make([]Snapshot, len(runs))
	for i, t := range runs {
		out[i] = t.Snapshot()
	}
	return out
}

// Line renders the board as one line of at most width runes (width <= 0:
// no limit): a bar of finished runs, then each running collector with its
// files, rows and rows per second. For example
//
//	[####------] 2/5  bygg 3 files 12 345 rows 4 115 rows/s · enkät 1 file 80 rows 80 rows/s
func (b *Board) Line(width int) string {
	snaps := b.Snapshots()
	b.mu.Lock()
	total := b.total
	b.mu.Unlock()
	if total < len(snaps) {
		total = len(snaps)
	}
	done, rows := 0, int64(0)
	var running []string
	for _, s := range snaps {
		rows += s.Rows
		if s.Done {
			done++
			continue
		}
		running = append(running, fmt.Sprintf("%s %s %s %s rows/s", s.Collector,
			countNoun(s.Files, "file", "files"), countNoun(s.Rows, "row", "rows"), numfmt.Group(int64(s.RowsPerSecond()+0.5))))
	}
	var sb strings.Builder
	sb.WriteString(progressBar(done, total, 10))
	fmt.Fprintf(&sb, " %d/%d", done, total)
	if len(running) == 0 {
		fmt.Fprintf(&sb, "  %s", countNoun(rows, "row", "rows"))
	} else {
		sb.WriteString("  ")
		sb.WriteString(strings.Join(running, " · "))
	}
	return truncateRunes(sb.String(), width)
}

func progressBar(done, total, width int) string {
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat("-", width-filled) + "]"
}

func countNoun(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return numfmt.Group(n) + " " + many
}

func truncateRunes(s string, width int) string {
	if width <= 0 {
		return s
	}
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	if width == 1 {
		return "…"
	}
	return string(r[:width-1]) + "…"
}

// ShowProgress redraws the board's line on w (a terminal) every interval
// until ctx is done, then clears the line. Each redraw returns the cursor
// to the start of the line and erases it ("\r\x1b[K").
func ShowProgress(ctx context.Context, w io.Writer, b *Board, width int, every time.Duration) {
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		fmt.Fprint(w, "\r\x1b[K"+b.Line(width))
		select {
		case <-ctx.Done():
			fmt.Fprint(w, "\r\x1b[K")
			return
		case <-t.C:
		}
	}
}

// LogProgress logs every running collector's files, rows and rows per
// second every interval until ctx is done. It is the board's form when
// output is not a terminal (serve, CI).
func LogProgress(ctx context.Context, log *slog.Logger, b *Board, every time.Duration) {
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range b.Snapshots() {
			if s.Done {
				continue
			}
			log.Info("collecting", "collector", s.Collector, "files", s.Files, "rows", s.Rows,
				"rows_per_second", int64(s.RowsPerSecond()+0.5), "file", s.LastFile,
				"elapsed", s.Elapsed.Round(time.Second).String())
		}
	}
}

// WriteSummary writes a table of results, one line per collector run:
//
//	COLLECTOR  KIND       ROWS   FILES  DURATION  OUTCOME  ERROR
//	bygg       cases_csv  1 204  3      1.2s      ok
func WriteSummary(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COLLECTOR\tKIND\tROWS\tFILES\tDURATION\tOUTCOME\tERROR")
	var rows int64
	for _, r := range results {
		msg := ""
		if r.Err != nil {
			msg = firstLine(r.Err.Error(), 120)
		}
		rows += int64(r.Rows)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.Collector, r.Kind, numfmt.Group(int64(r.Rows)), r.Files,
			roundDuration(r.Duration), r.Outcome, msg)
	}
	if len(results) > 1 {
		fmt.Fprintf(tw, "total\t\t%s\t\t\t\t\n", numfmt.Group(rows))
	}
	return tw.Flush()
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

// oneLine collapses s to its first line, at most n runes.
func firstLine(s string, n int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return truncateRunes(s, n)
}

// StartProgress shows b while collectors run: as a progress bar on f when
// f is a terminal (redrawn four times a second, as wide as $COLUMNS or 100
// characters), otherwise as log lines every five seconds. stop ends the
// display (clearing the bar) and waits until it has.
func StartProgress(b *Board, f *os.File, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if IsTerminal(f) {
			width := 100
			if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 10 {
				width = n - 1
			}
			ShowProgress(ctx, f, b, width, 250*time.Millisecond)
			return
		}
		if log != nil {
			LogProgress(ctx, log, b, 5*time.Second)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// IsTerminal reports whether f is a character device (a terminal) rather
// than a file or pipe.
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
