package collectors

import (
	"bytes"
	"strings"
	"sync"
	"time"

	"github.com/malbild/malbild/collectors/swecsv"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/pnr"
)

// quickParts is how many parts of a file the quick pass reads at once:
// one per core of the machines Målbild runs on.
const quickParts = 2

// quickCases is the quick pass over a cases file that is probably good:
// the rows are split on the undecoded bytes (swecsv.Scanner) in
// quickParts parts at once, and each row gets every check cr.read makes
// except the one for an id seen before, on the raw fields; a label is
// decoded, cleaned and checked once per distinct value. It stops at the
// first problem and only reports that there was one (ok false), as well
// as at anything it does not handle itself (a date with spaces around it,
// an id that needs cleaning is handled; a CSV syntax error is not): the
// careful pass then reads the file again with Read and finds the problems
// and their places. passed is how many rows progress heard of.
//
// A good file gives the cases the careful pass gives, in file order.
func (cr *caseReader) quickCases(t *csvTable, progress func(int)) (cases []facts.Case, passed int, ok bool) {
	rd := t.rd
	body, splits, ok := rd.Body(quickParts)
	if !ok {
		return nil, 0, false
	}
	bounds := append(append([]int{0}, splits...), len(body))
	parts := make([]quickPart, len(bounds)-1)
	// A part has at most a row per line break in it and one more (a row
	// running over its end, or the last without a line break): the
	// parts' rows go to separate places of cases, in order.
	var wg sync.WaitGroup
	for i := range parts {
		wg.Go(func() { parts[i].lines = bytes.Count(body[bounds[i]:bounds[i+1]], []byte{'\n'}) })
	}
	wg.Wait()
	size := 0
	for i := range parts {
		size += parts[i].lines + 1
	}
	cases = make([]facts.Case, size)
	var mu sync.Mutex // progress may not be safe for concurrent use
	report := func(n int) {
		if progress != nil {
			mu.Lock()
			progress(n)
			mu.Unlock()
		}
	}
	at := 0
	for i := range parts {
		p := &parts[i]
		p.from, p.limit = bounds[i], bounds[i+1]
		out := cases[at : at+p.lines+1 : at+p.lines+1]
		at += p.lines + 1
		wg.Go(func() { p.scan(cr, rd, body, out, report) })
	}
	wg.Wait()
	n := 0
	for i := range parts {
		p := &parts[i]
		passed += p.rows
		if i > 0 && parts[i-1].end != p.from {
			// A quoted field with a line break ran over the split: the part
			// began inside it. Read the rest again from where the part
			// before ended.
			// Progress heard of the part's rows already.
			redo := quickPart{from: parts[i-1].end, limit: len(body)}
			redo.scan(cr, rd, body, cases[n:], skipRows(report, p.rows))
			passed += max(redo.rows-p.rows, 0)
			return cases[:n+redo.rows], passed, redo.ok
		}
		if !p.ok {
			return nil, passed, false
		}
		if &p.out[0] != &cases[n] {
			copy(cases[n:], p.out[:p.rows]) // fewer rows than room before the part
		}
		n += p.rows
	}
	return cases[:n], passed, true
}

// quickPart is one part of a quick pass: the records that start in
// [from, limit) of the body.
type quickPart struct {
	from, limit int
	lines       int          // line breaks in [from, limit)
	end         int          // offset after the last record read
	out         []facts.Case // where the part's cases go
	rows        int          // rows read and found good
	ok          bool
}

func (p *quickPart) scan(cr *caseReader, rd *swecsv.Reader, body []byte, out []facts.Case, report func(int)) {
	p.out = out
	q := quickRow{cr: cr, rd: rd, out: out}
	for i := range q.labels {
		q.labels[i].m = map[string]quickLabel{}
	}
	s := rd.NewScanner(body, p.from)
	nf := rd.Fields()
	pending := 0
	defer func() {
		q.flushIDs()
		p.end = s.Pos()
		if pending > 0 {
			report(pending)
		}
	}()
	for s.Pos() < p.limit {
		fields, more := s.Next()
		if !more {
			break
		}
		if len(fields) != nf || !nonBlank(fields) {
			if rd.Blank(fields) {
				continue
			}
			if len(fields) != nf {
				return
			}
		}
		if p.rows == len(out) || !q.read(fields, p.rows) {
			return
		}
		p.rows++
		if pending++; pending == progressEvery {
			report(pending)
			pending = 0
		}
	}
	p.ok = !s.Bad()
}

// nonBlank reports a row that is surely not blank: it has a printable
// ASCII character.
func nonBlank(fields [][]byte) bool {
	for _, f := range fields {
		for _, c := range f {
			if c > ' ' && c < 0x7f {
				return true
			}
		}
	}
	return false
}

// quickLabel is what a label field's raw value reads as.
type quickLabel struct {
	raw  string // the raw value
	s    string // cleaned
	ok   bool   // neither a personal number nor too long
	flag bool   // in the column's set (digital channels, application kinds)
}

// labelCache holds what a column's raw values read as: the recent ones
// in slots by length and end bytes, which most rows find their value in,
// and up to maxLabels in a map.
type labelCache struct {
	slots [256]struct {
		l    quickLabel
		used bool
	}
	m map[string]quickLabel
}

// maxLabels bounds each column's cache of labels: a file of a thousand
// units or case types is odd, one of a million is not a label file.
const maxLabels = 10000

// quickRow reads the rows of one part.
type quickRow struct {
	cr     *caseReader
	rd     *swecsv.Reader
	dates  swecsv.Dates
	labels [4]labelCache // type, kind, department, channel
	out    []facts.Case  // the part's cases

	// ids collects the ids that need no cleaning; flushIDs makes one
	// string of them and hands out its pieces.
	ids    []byte
	idRows []idRef
}

type idRef struct{ row, from, to int }

// read reads fields into out[row] and reports whether the row is good;
// cr.read would read it the same.
func (q *quickRow) read(fields [][]byte, row int) bool {
	cr, idx := q.cr, q.cr.idx
	k := &q.out[row]
	raw := fields[idx[caseID]]
	if digitCount(raw) >= 10 {
		if _, found := pnr.Find(q.rd.Text(raw)); found {
			return false
		}
	}
	if len(raw) > 0 && swecsv.Plain(raw) {
		q.idRows = append(q.idRows, idRef{row: row, from: len(q.ids), to: len(q.ids) + len(raw)})
		q.ids = append(q.ids, raw...)
		k.ID = ""
	} else {
		s, err := swecsv.Clean(q.rd.Text(raw))
		if err != nil || s == "" {
			return false
		}
		k.ID = s
	}
	typ, ok1 := q.label(0, fields, caseType, nil)
	kind, ok2 := q.label(1, fields, caseKind, cr.application)
	dept, ok3 := q.label(2, fields, caseDepartment, nil)
	ch, ok4 := q.label(3, fields, caseChannel, cr.digital)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return false
	}
	k.Type, k.Department, k.Channel = typ.s, dept.s, ch.s
	k.Digital = ch.flag
	k.Application = idx[caseKind] < 0 || kind.flag
	var recvClock, decClock, ok bool
	if k.Received, recvClock, ok = q.time(fields[idx[caseReceived]]); !ok {
		return false
	}
	k.Decided = time.Time{}
	if j := idx[caseDecided]; j >= 0 && !q.empty(fields[j]) {
		if k.Decided, decClock, ok = q.time(fields[j]); !ok {
			return false
		}
		if checkHandling(k.Received, recvClock, k.Decided, decClock) != "" {
			return false
		}
	}
	if len(q.ids) >= 32<<10 {
		q.flushIDs()
	}
	return true
}

// label reads the field of wanted column c through the cache of slot.
func (q *quickRow) label(slot int, fields [][]byte, c int, set foldSet) (quickLabel, bool) {
	j := q.cr.idx[c]
	if j < 0 {
		return quickLabel{ok: true, flag: set.has("")}, true
	}
	raw := fields[j]
	lc := &q.labels[slot]
	h := len(raw)
	if h > 0 {
		h = h*31 + int(raw[0]) + int(raw[h/2])*7 + int(raw[h-1])*3
	}
	sl := &lc.slots[h&(len(lc.slots)-1)]
	if sl.used && sl.l.raw == string(raw) {
		return sl.l, sl.l.ok
	}
	l, hit := lc.m[string(raw)]
	if !hit {
		l.raw = string(raw)
		text := q.rd.Text(raw)
		if _, found := pnr.Find(text); !found {
			if s, err := swecsv.Clean(text); err == nil {
				l.s, l.ok, l.flag = s, true, set.has(s)
			}
		}
		if len(lc.m) < maxLabels {
			lc.m[l.raw] = l
		}
	}
	sl.l, sl.used = l, true
	return l, l.ok
}

// time reads a date that must not lie after now, as pastTime does.
func (q *quickRow) time(raw []byte) (t time.Time, clock, ok bool) {
	t, clock, ok = q.dates.Parse(raw)
	if !ok {
		var err error
		if t, clock, err = swecsv.ParseTime(q.rd.Text(raw)); err != nil {
			return time.Time{}, false, false
		}
	}
	if t.After(q.cr.now) {
		return time.Time{}, false, false
	}
	return t, clock, true
}

// empty is row.empty on a raw field.
func (q *quickRow) empty(raw []byte) bool {
	if len(raw) == 0 {
		return true
	}
	if raw[0] > ' ' && raw[0] < 0x7f {
		return false
	}
	return strings.TrimSpace(q.rd.Text(raw)) == ""
}

// flushIDs gives the collected ids their strings: one allocation for
// many ids.
func (q *quickRow) flushIDs() {
	if len(q.idRows) == 0 {
		return
	}
	s := string(q.ids)
	for _, r := range q.idRows {
		q.out[r.row].ID = s[r.from:r.to]
	}
	q.ids, q.idRows = q.ids[:0], q.idRows[:0]
}

func digitCount(b []byte) int {
	n := 0
	for _, c := range b {
		if c-'0' <= 9 {
			n++
		}
	}
	return n
}
