package swecsv

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"
)

// The quick path: rows split on the undecoded bytes, fields decoded only
// where they become text. It reads a good file exactly as Read would
// and gives up on anything it is not sure of; the caller then reads the
// file again with Rewind and Read, which find the problems and their
// places.

// Scanner splits undecoded CSV data into records exactly as
// encoding/csv does with the Reader's settings (no lazy quotes, no
// comments, no trimming): empty lines are skipped, "\r\n" reads as "\n",
// a trailing '\r' at the end of the data is dropped. It does not decode:
// fields are slices of the data, or of a scratch buffer when a quoted
// field holds an escaped quote or a "\r\n". A syntax error or a quoted
// field that runs to the end of the data stops it (Bad).
type Scanner struct {
	data   []byte
	pos    int
	delim  byte
	fields [][]byte
	spans  []span
	buf    []byte // unescaped quoted fields of the current record
	bad    bool
}

// span is a field of the current record: data[a:b], or buf[a:b].
type span struct {
	a, b    int
	scratch bool
}

// NewScanner scans data from offset at; data must start a record there.
func (r *Reader) NewScanner(data []byte, at int) *Scanner {
	return &Scanner{data: data, pos: at, delim: byte(r.Delimiter)}
}

// Pos is the offset after the last record read: the start of the next.
func (s *Scanner) Pos() int { return s.pos }

// Bad reports whether scanning stopped at something encoding/csv would
// report or that the scanner does not handle.
func (s *Scanner) Bad() bool { return s.bad }

// Next returns the fields of the next record, valid until the next call,
// or false at the end of the data or when it stopped (Bad).
func (s *Scanner) Next() ([][]byte, bool) {
	if s.bad {
		return nil, false
	}
	data, pos := s.data, s.pos
	// Empty lines are skipped, as is a last '\r' before the end.
	for {
		if pos >= len(data) {
			s.pos = pos
			return nil, false
		}
		switch {
		case data[pos] == '\n':
			pos++
			continue
		case data[pos] == '\r' && (pos+1 == len(data) || data[pos+1] == '\n'):
			pos += 2
			if pos > len(data) {
				pos = len(data)
			}
			continue
		}
		break
	}
	// Most lines have no quote: their fields lie between the delimiters.
	if nl := bytes.IndexByte(data[pos:], '\n'); nl >= 0 {
		line := data[pos : pos+nl]
		if bytes.IndexByte(line, '"') < 0 {
			if nl > 0 && line[nl-1] == '\r' {
				line = line[:nl-1]
			}
			s.pos = pos + nl + 1
			return s.split(line), true
		}
	}
	s.spans = s.spans[:0]
	s.buf = s.buf[:0]
	plain := true // every field is a slice of data
	for {
		if pos < len(data) && data[pos] == '"' {
			p, ok := s.quoted(pos + 1)
			if !ok {
				s.bad = true
				return nil, false
			}
			if s.spans[len(s.spans)-1].scratch {
				plain = false
			}
			pos = p
			switch {
			case pos == len(data):
				return s.end(pos, plain)
			case data[pos] == s.delim:
				pos++
				continue
			case data[pos] == '\n':
				return s.end(pos+1, plain)
			case data[pos] == '\r' && pos+1 == len(data):
				return s.end(pos+1, plain)
			case data[pos] == '\r' && data[pos+1] == '\n':
				return s.end(pos+2, plain)
			}
			s.bad = true // `"x`: a quote that neither ends nor escapes
			return nil, false
		}
		i := pos
		for i < len(data) {
			c := data[i]
			if c == s.delim || c == '\n' || c == '"' {
				break
			}
			i++
		}
		if i < len(data) && data[i] == '"' {
			s.bad = true // a bare quote
			return nil, false
		}
		if i < len(data) && data[i] == s.delim {
			s.spans = append(s.spans, span{a: pos, b: i})
			pos = i + 1
			continue
		}
		// The end of the line or of the data: one '\r' before it is part
		// of the line break.
		end := i
		if end > pos && data[end-1] == '\r' {
			end--
		}
		s.spans = append(s.spans, span{a: pos, b: end})
		if i < len(data) {
			i++
		}
		return s.end(i, plain)
	}
}

// split splits a line without quotes at the delimiters.
func (s *Scanner) split(line []byte) [][]byte {
	f := s.fields[:0]
	for {
		i := bytes.IndexByte(line, s.delim)
		if i < 0 {
			s.fields = append(f, line[:len(line):len(line)])
			return s.fields
		}
		f = append(f, line[:i:i])
		line = line[i+1:]
	}
}

// quoted reads a quoted field whose content starts at pos and returns the
// offset after its closing quote.
func (s *Scanner) quoted(pos int) (int, bool) {
	data := s.data
	start := pos
	scratch := false
	bufStart := len(s.buf)
	for {
		i := bytes.IndexByte(data[pos:], '"')
		if i < 0 {
			return 0, false // runs to the end: encoding/csv's ErrQuote
		}
		seg := data[pos : pos+i]
		needs := bytes.Contains(seg, []byte("\r\n"))
		escaped := pos+i+1 < len(data) && data[pos+i+1] == '"'
		if !scratch && (needs || escaped) {
			scratch = true
			s.buf = append(s.buf, data[start:pos]...)
		}
		if scratch {
			if needs {
				s.buf = appendCRLF(s.buf, seg)
			} else {
				s.buf = append(s.buf, seg...)
			}
		}
		pos += i + 1
		if escaped {
			s.buf = append(s.buf, '"')
			pos++
			continue
		}
		if scratch {
			s.spans = append(s.spans, span{a: bufStart, b: len(s.buf), scratch: true})
		} else {
			s.spans = append(s.spans, span{a: start, b: pos - 1})
		}
		return pos, true
	}
}

// appendCRLF appends b to dst with every "\r\n" as "\n".
func appendCRLF(dst, b []byte) []byte {
	for {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			return append(dst, b...)
		}
		dst = append(dst, b[:i]...)
		dst = append(dst, '\n')
		b = b[i+2:]
	}
}

func (s *Scanner) end(pos int, plain bool) ([][]byte, bool) {
	s.pos = pos
	s.fields = s.fields[:0]
	for _, sp := range s.spans {
		if !plain && sp.scratch {
			s.fields = append(s.fields, s.buf[sp.a:sp.b:sp.b])
		} else {
			s.fields = append(s.fields, s.data[sp.a:sp.b:sp.b])
		}
	}
	return s.fields, true
}

// Body returns the undecoded rows after the header line and splits it
// into at most n parts of about equal size at line starts (fewer for a
// small file): the offsets where parts after the first begin. Such a
// split point starts a record unless a quoted field before it holds a
// line break; whoever scans the part before it checks that it ends
// there. ok is false when the header was not read from the undecoded
// data; then only Read reads the rows.
func (r *Reader) Body(n int) (body []byte, splits []int, ok bool) {
	if r.bodyAt < 0 {
		return nil, nil, false
	}
	body = r.raw[r.bodyAt:]
	const minPart = 1 << 20
	for k := 1; k < n && len(body)/n >= minPart; k++ {
		at := len(body) * k / n
		j := bytes.IndexByte(body[at:], '\n')
		if j < 0 {
			break
		}
		at += j + 1
		if len(splits) > 0 && at <= splits[len(splits)-1] || at >= len(body) {
			break
		}
		splits = append(splits, at)
	}
	return body, splits, true
}

// Fields is how many fields the header has: a row has as many.
func (r *Reader) Fields() int { return len(r.header) }

// AppendText appends field, undecoded, to dst as UTF-8.
func (r *Reader) AppendText(dst, field []byte) []byte {
	if r.Encoding != Windows1252 {
		return append(dst, field...)
	}
	for _, c := range field {
		if c < 0x80 {
			dst = append(dst, c)
			continue
		}
		e := cp1252[c-0x80]
		var u [4]byte
		u[0], u[1], u[2] = byte(e), byte(e>>8), byte(e>>16)
		dst = append(dst, u[:e>>24]...)
	}
	return dst
}

// Text returns field, undecoded, as a UTF-8 string, as Read would.
func (r *Reader) Text(field []byte) string {
	if r.Encoding != Windows1252 || ascii(field) {
		return string(field)
	}
	return string(r.AppendText(make([]byte, 0, 2*len(field)), field))
}

// Blank reports whether every field is blank once decoded (Read skips such
// a row).
func (r *Reader) Blank(fields [][]byte) bool {
	for _, f := range fields {
		for _, c := range f {
			if c > ' ' && c < utf8.RuneSelf {
				return false
			}
		}
	}
	for _, f := range fields {
		if strings.TrimSpace(r.Text(f)) != "" {
			return false
		}
	}
	return true
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Plain reports whether s is its own Clean: printable ASCII without
// control characters, not starting or ending with a space, at most MaxLen
// long. Clean(string(s)) is then string(s).
func Plain(s []byte) bool {
	if len(s) == 0 {
		return true
	}
	if len(s) > MaxLen || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for _, c := range s {
		if c < ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// Dates reads dates in the plain forms of ParseTime quickly: it keeps the
// start of each day it has seen. The zero Dates is ready; it is not safe
// for use by several goroutines.
type Dates struct {
	days [1 << 12]dayEntry
}

type dayEntry struct {
	key      uint32 // y<<9 | m<<5 | d; 0 for an empty slot
	midnight int64  // Unix time of the day's start in Stockholm
	even     bool   // one UTC offset all day: wall time is midnight plus the clock
}

// Parse reads b as ParseTime reads it when b is a plain "YYYY-MM-DD",
// "YYYY-MM-DD hh:mm" or "YYYY-MM-DD hh:mm:ss" ('T' for the space) without
// spaces around it: the same time, clock and validity. ok is false for
// anything else; ParseTime then says what it is.
func (p *Dates) Parse(b []byte) (t time.Time, clock, ok bool) {
	n := len(b)
	if n != 10 && n != 16 && n != 19 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false, false
	}
	y, ok1 := digits(b, 0, 4)
	mo, ok2 := digits(b, 5, 2)
	d, ok3 := digits(b, 8, 2)
	if !ok1 || !ok2 || !ok3 || y < 1900 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return time.Time{}, false, false
	}
	var secs int
	if n > 10 {
		if (b[10] != ' ' && b[10] != 'T') || b[13] != ':' {
			return time.Time{}, false, false
		}
		h, okh := digits(b, 11, 2)
		mi, okm := digits(b, 14, 2)
		if !okh || !okm || h > 23 || mi > 59 {
			return time.Time{}, false, false
		}
		secs = h*3600 + mi*60
		if n == 19 {
			sec, oks := digits(b, 17, 2)
			if b[16] != ':' || !oks || sec > 59 {
				return time.Time{}, false, false
			}
			secs += sec
		}
		clock = true
	}
	key := uint32(y)<<9 | uint32(mo)<<5 | uint32(d)
	e := &p.days[(y*372+mo*31+d)&(len(p.days)-1)]
	if e.key != key {
		*e = day(y, mo, d)
		e.key = key
	}
	if !e.even {
		return time.Date(y, time.Month(mo), d, secs/3600, secs/60%60, secs%60, 0, Stockholm), clock, true
	}
	return time.Unix(e.midnight+int64(secs), 0).In(Stockholm), clock, true
}

// day finds the start of a day in Stockholm and whether one UTC offset
// holds from it to the next day's start.
func day(y, m, d int) dayEntry {
	mid := time.Date(y, time.Month(m), d, 0, 0, 0, 0, Stockholm)
	_, end := mid.ZoneBounds()
	even := mid.Hour() == 0 && mid.Minute() == 0 && mid.Second() == 0 && mid.Day() == d &&
		(end.IsZero() || end.Unix() >= mid.Unix()+24*3600)
	return dayEntry{midnight: mid.Unix(), even: even}
}
