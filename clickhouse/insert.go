package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/malbild/malbild/strategy"
)

// blockRows is how many rows go into one native block; larger inserts are
// sent as several blocks of one INSERT. The driver keeps a block's column
// buffers from one block to the next, so moderate blocks allocate a tenth
// of what 100k-row blocks do and insert faster; the server squashes the
// blocks of one INSERT into large parts (min_insert_block_size_rows), so
// this does not make parts smaller.
const blockRows = 10_000

// insert writes n rows to table with one INSERT over clickhouse-go's batch
// API, column by column: fill is called once per block of at most
// blockRows rows, [lo, hi), and appends one slice per column through the
// blockWriter, in the order of cols.
func (s *Store) insert(ctx context.Context, table string, cols []string, n int, fill func(w *blockWriter, lo, hi int)) error {
	if n == 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+")")
	if err != nil {
		return err
	}
	defer b.Close()
	w := &blockWriter{b: b}
	for lo := 0; lo < n; lo += blockRows {
		hi := min(lo+blockRows, n)
		fill(w, lo, hi)
		if w.err != nil {
			return w.err
		}
		if hi < n {
			if err := b.Flush(); err != nil {
				return err
			}
		}
	}
	return b.Send()
}

// blockWriter appends whole columns to a batch, reusing its scratch
// slices from block to block so that a large insert allocates little.
type blockWriter struct {
	b   driver.Batch
	err error

	str  []string
	u8   []uint8
	u16  []uint16
	u32  []uint32
	u64  []uint64
	i64  []int64
	f64  []float64
	pf64 []*float64
	tm   []time.Time
	ptm  []*time.Time
}

// put appends v, a slice with one value per row, to column i.
func (w *blockWriter) put(i int, v any) {
	if w.err == nil {
		if err := w.b.Column(i).Append(v); err != nil {
			w.err = fmt.Errorf("column %d: %w", i, err)
		}
	}
}

// scratch returns *s resized to n, growing it if needed.
func scratch[T any](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n)
	}
	return (*s)[:n]
}

// fillCol fills the reused buffer buf with f of every row and hands it to
// column i.
func fillCol[T, V any](w *blockWriter, i int, buf *[]V, rows []T, f func(*T) V) {
	s := scratch(buf, len(rows))
	for j := range rows {
		s[j] = f(&rows[j])
	}
	w.put(i, s)
}

// constCol fills buf with n copies of v and hands it to column i.
func constCol[V any](w *blockWriter, i int, buf *[]V, n int, v V) {
	s := scratch(buf, n)
	for j := range s {
		s[j] = v
	}
	w.put(i, s)
}

func strCol[T any](w *blockWriter, i int, rows []T, f func(*T) string) {
	fillCol(w, i, &w.str, rows, f)
}

func constStrCol(w *blockWriter, i, n int, v string) { constCol(w, i, &w.str, n, v) }

func boolCol[T any](w *blockWriter, i int, rows []T, f func(*T) bool) {
	s := scratch(&w.u8, len(rows))
	for j := range rows {
		s[j] = 0
		if f(&rows[j]) {
			s[j] = 1
		}
	}
	w.put(i, s)
}

func u8Col[T any](w *blockWriter, i int, rows []T, f func(*T) uint8) { fillCol(w, i, &w.u8, rows, f) }

func u16Col[T any](w *blockWriter, i int, rows []T, f func(*T) uint16) {
	fillCol(w, i, &w.u16, rows, f)
}

func u64Col[T any](w *blockWriter, i int, rows []T, f func(*T) uint64) {
	fillCol(w, i, &w.u64, rows, f)
}

func constU64Col(w *blockWriter, i, n int, v uint64) { constCol(w, i, &w.u64, n, v) }

func u32Col[T any](w *blockWriter, i int, rows []T, f func(*T) uint32) {
	fillCol(w, i, &w.u32, rows, f)
}

func i64Col[T any](w *blockWriter, i int, rows []T, f func(*T) int64) {
	fillCol(w, i, &w.i64, rows, f)
}

func f64Col[T any](w *blockWriter, i int, rows []T, f func(*T) float64) {
	fillCol(w, i, &w.f64, rows, f)
}

// nullF64Col appends a Nullable(Float64) column; a nil pointer is NULL.
func nullF64Col[T any](w *blockWriter, i int, rows []T, f func(*T) *float64) {
	s := scratch(&w.pf64, len(rows))
	for j := range rows {
		s[j] = f(&rows[j])
	}
	w.put(i, s)
	clear(s) // do not keep the caller's values alive
}

// timeCol appends a DateTime column: the instant, in UTC seconds.
func timeCol[T any](w *blockWriter, i int, rows []T, f func(*T) time.Time) {
	s := scratch(&w.tm, len(rows))
	for j := range rows {
		s[j] = f(&rows[j])
	}
	w.put(i, s)
}

// nullTimeCol appends a Nullable(DateTime) column; a zero time is NULL.
func nullTimeCol[T any](w *blockWriter, i int, rows []T, f func(*T) *time.Time) {
	s := scratch(&w.ptm, len(rows))
	for j := range rows {
		if t := f(&rows[j]); !t.IsZero() {
			s[j] = t
		} else {
			s[j] = nil
		}
	}
	w.put(i, s)
	clear(s)
}

// dateCol appends a Date column: the Europe/Stockholm calendar date of
// each time.
func dateCol[T any](w *blockWriter, i int, rows []T, f func(*T) time.Time) {
	s := scratch(&w.tm, len(rows))
	for j := range rows {
		s[j] = dateValue(f(&rows[j]))
	}
	w.put(i, s)
}

// dateValue is the value clickhouse-go needs to store t's Stockholm
// calendar date in a Date column. The driver takes the calendar date in
// the time's own location, so it gets that date at midnight UTC.
func dateValue(t time.Time) time.Time {
	y, m, d := t.In(strategy.Stockholm).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dateFromColumn turns a Date read from ClickHouse (midnight of the date
// in whatever location the driver chose) into midnight Stockholm time.
func dateFromColumn(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, strategy.Stockholm)
}

// dateArg is a date as a query argument, for toDate(?).
func dateArg(t time.Time) string {
	return t.In(strategy.Stockholm).Format(time.DateOnly)
}

// timeFromColumn turns a DateTime read from ClickHouse into UTC; the zero
// DateTime (1970-01-01 00:00:00) becomes the zero time.Time.
func timeFromColumn(t time.Time) time.Time {
	if t.Unix() <= 0 {
		return time.Time{}
	}
	return t.UTC()
}

// The ranges ClickHouse's DateTime and Date can hold.
var (
	minDateTime = time.Unix(1, 0)
	maxDateTime = time.Unix(1<<32-1, 0)
	minDate     = time.Date(1970, 1, 1, 0, 0, 0, 0, strategy.Stockholm)
	maxDate     = time.Date(2149, 6, 6, 0, 0, 0, 0, strategy.Stockholm)
)

// checkDateTime reports an error if t cannot be stored in a DateTime.
func checkDateTime(what string, t time.Time) error {
	if t.Before(minDateTime) || t.After(maxDateTime) {
		if t.IsZero() {
			return fmt.Errorf("%s is missing", what)
		}
		return fmt.Errorf("%s %s is outside the range ClickHouse can store (1970–2106)", what, t.Format(time.RFC3339))
	}
	return nil
}

// checkDate reports an error if t's date cannot be stored in a Date.
func checkDate(what string, t time.Time) error {
	if t.Before(minDate) || !t.Before(maxDate.AddDate(0, 0, 1)) {
		if t.IsZero() {
			return fmt.Errorf("%s is missing", what)
		}
		return fmt.Errorf("%s %s is outside the range ClickHouse can store (1970–2149)", what, t.Format(time.DateOnly))
	}
	return nil
}
