package collectors

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/malbild/malbild/collectors/swecsv"
	"github.com/malbild/malbild/internal/pnr"
)

// progressEvery is how many rows a parser reads between progress reports.
const progressEvery = 10000

// column is one column a CSV parser wants: the header names it goes by by
// default, or the one the configuration names instead.
type column struct {
	names    []string // default header names
	override string   // configured header name; must then exist
	required bool
}

// csvTable is a CSV file opened for parsing: its reader, the field of each
// wanted column and the problems found so far.
type csvTable struct {
	rd   *swecsv.Reader
	idx  []int // by wanted column: its field, -1 for an optional column that is absent
	errs swecsv.Errors
}

// openCSV reads the header line of r, the file name, encoded and delimited
// as o says, and finds cols in it.
func openCSV(r io.Reader, name string, o *FileOptions, cols []column) (*csvTable, error) {
	rd, err := swecsv.NewReader(r, name, o.csv())
	if err != nil {
		return nil, err
	}
	idx, err := mapColumns(rd, cols)
	if err != nil {
		return nil, err
	}
	return &csvTable{rd: rd, idx: idx}, nil
}

// mapColumns finds each column in the header and returns its index, -1
// for an optional column that is absent.
func mapColumns(r *swecsv.Reader, cols []column) ([]int, error) {
	idx := make([]int, len(cols))
	for i, c := range cols {
		names := c.names
		if c.override != "" {
			names = []string{c.override}
		}
		j, err := r.Find(names...)
		if err != nil {
			return nil, err
		}
		if j < 0 && (c.required || c.override != "") {
			return nil, r.Missing(names[0])
		}
		idx[i] = j
	}
	return idx, nil
}

// eachRow calls fn with every row until the end or until there are more
// problems than the error list keeps, reporting progress every
// progressEvery rows. A row with a field at one of the positions personal
// that looks like a personal number is rejected before fn sees it. The
// error returned rejects the whole file: it lists the first problems as
// file:line:column: reason.
func (t *csvTable) eachRow(progress func(int), personal []int, fn func(w row)) error {
	pending := 0
	defer func() {
		if pending > 0 && progress != nil {
			progress(pending)
		}
	}()
	for !t.errs.Truncated {
		rec, err := t.rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var e *swecsv.Error
			if !errors.As(err, &e) {
				return err
			}
			t.errs.Add(e)
			continue
		}
		if pending++; pending == progressEvery && progress != nil {
			progress(pending)
			pending = 0
		}
		w := row{r: t.rd, rec: rec, errs: &t.errs}
		if w.personal(personal) {
			fn(w)
		}
	}
	return t.errs.Err()
}

// row reads the fields of one CSV row, collecting problems. Every
// problem is "header: reason" at the field's line and column.
type row struct {
	r     *swecsv.Reader
	rec   []string
	errs  *swecsv.Errors
	bad   bool // some field failed
	fails int  // how many problems so far; a change tells a step failed
}

func (w *row) failf(j int, format string, args ...any) {
	if w.errs != nil {
		w.errs.Add(w.r.Errorf(j, "%s: %s", w.r.Header()[j], fmt.Sprintf(format, args...)))
	}
	w.bad = true
	w.fails++
}

// personal rejects the row when any of the text fields idx looks like a
// personnummer or samordningsnummer. The value is not repeated in the
// message, which may end up in logs. Fields read with pastTime (dates) are
// checked there, on the error path: a valid date is never a personal
// number.
func (w *row) personal(idx []int) bool {
	for _, j := range idx {
		if j < 0 {
			continue
		}
		if kind, found := pnr.Find(w.rec[j]); found {
			w.failf(j, "the value looks like a %s; files with personal data are rejected whole", kind)
		}
	}
	return !w.bad
}

// empty reports whether field j is absent or blank.
func (w *row) empty(j int) bool { return j < 0 || strings.TrimSpace(w.rec[j]) == "" }

// text reads a label or id: cleaned, at most swecsv.MaxLen long. An absent
// column reads as "".
func (w *row) text(j int) string {
	if j < 0 {
		return ""
	}
	s, err := swecsv.Clean(w.rec[j])
	if err != nil {
		w.failf(j, "%v", err)
	}
	return s
}

// required reads a text that must not be empty; what names it.
func (w *row) required(j int, what string) string {
	f := w.fails
	s := w.text(j)
	if s == "" && w.fails == f {
		w.failf(j, "empty %s", what)
	}
	return s
}

// strictFail reports a field that did not parse. A value that looks like a
// personal number is reported as such, without repeating it.
func (w *row) strictFail(j int, err error) {
	if kind, found := pnr.Find(w.rec[j]); found {
		w.failf(j, "the value looks like a %s; files with personal data are rejected whole", kind)
		return
	}
	w.failf(j, "%v", err)
}

// pastTime reads a date, or date and time, that must not lie after now.
// Only a valid date passes, so the personal-data check is left to the
// error path.
func (w *row) pastTime(j int, now time.Time) (t time.Time, clock bool) {
	t, clock, err := swecsv.ParseTime(w.rec[j])
	switch {
	case swecsv.IsEmpty(err):
		w.failf(j, "empty date")
	case err != nil:
		w.strictFail(j, err)
	case t.After(now):
		w.failf(j, "%s is in the future", strings.TrimSpace(w.rec[j]))
	default:
		return t, clock
	}
	return time.Time{}, false
}

// number reads a number with a decimal comma or point.
func (w *row) number(j int) float64 {
	v, err := swecsv.ParseNumber(w.rec[j])
	switch {
	case swecsv.IsEmpty(err):
		w.failf(j, "empty number")
	case err != nil:
		w.strictFail(j, err)
	}
	return v
}

// dayOf returns the start of t's day in Stockholm.
func dayOf(t time.Time) time.Time {
	y, m, d := t.In(swecsv.Stockholm).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, swecsv.Stockholm)
}

// rewind goes back to the first row and forgets the problems found.
func (t *csvTable) rewind() error {
	t.errs = swecsv.Errors{}
	return t.rd.Rewind()
}
