// Package swecsv reads CSV files the way Swedish municipal systems and
// Excel write them: ';' or ',' between fields (sniffed from the header
// line), UTF-8 with or without a byte order mark or Windows-1252, CRLF or
// LF line ends, decimal commas and dates in Europe/Stockholm time. Every
// problem is reported with the file, line and column it is about.
package swecsv

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Encodings and delimiters Options accepts.
const (
	Auto        = "auto"
	UTF8        = "utf-8"
	Windows1252 = "windows-1252"
)

// Options say how to read a file. The zero Options detect both the
// encoding and the delimiter.
type Options struct {
	// Encoding is "auto" (or ""), "utf-8" or "windows-1252". Auto reads a
	// file that is valid UTF-8 as UTF-8 and anything else as Windows-1252.
	// A UTF-8 byte order mark always means UTF-8.
	Encoding string
	// Delimiter is "auto" (or ""), ";" or ",". Auto takes whichever of the
	// two occurs more often outside quotes in the header line (';' on a
	// tie). An Excel "sep=;" first line is honoured in auto mode.
	Delimiter string
}

// Check reports an unknown encoding or delimiter.
func (o Options) Check() error {
	switch strings.ToLower(o.Encoding) {
	case "", Auto, UTF8, "utf8", Windows1252, "cp1252":
	default:
		return fmt.Errorf("unknown encoding %q (want auto, utf-8 or windows-1252)", o.Encoding)
	}
	switch o.Delimiter {
	case "", Auto, ";", ",":
	default:
		return fmt.Errorf("unknown delimiter %q (want auto, \";\" or \",\")", o.Delimiter)
	}
	return nil
}

// Reader reads the rows of one CSV file after its header line.
type Reader struct {
	// File names the file in error messages.
	File string
	// Encoding is the encoding the file was read in (UTF8 or Windows1252).
	Encoding string
	// Delimiter is the field delimiter in use.
	Delimiter rune

	raw        []byte // the file after any byte order mark and sep= line, undecoded
	data       []byte // raw decoded, once Read or Rewind needs it
	decoded    bool   // data is set
	bodyAt     int    // offset in raw after the header line; -1 when unknown
	csv        *csv.Reader
	header     []string
	lineOffset int      // lines before the CSV data proper (a sep= line)
	lines      int      // line breaks in the data and one: at most this many rows; 0 until counted
	rec        []string // the last row read, nil after a syntax error
	line       int      // line of the last row read
	broken     bool     // a syntax error ended the readable part
}

// NewReader reads all of src, decodes it and reads the header line. file
// names the file in error messages.
func NewReader(src io.Reader, file string, opt Options) (*Reader, error) {
	if err := opt.Check(); err != nil {
		return nil, &Error{File: file, Msg: err.Error()}
	}
	data, err := readAll(src)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	r := &Reader{File: file}
	if data, err = r.encoding(data, strings.ToLower(opt.Encoding)); err != nil {
		return nil, err
	}
	// The sep= line, the delimiter and the line count are the same in the
	// undecoded data: Windows-1252 turns no byte from 0x80 up into ASCII.
	delim := opt.Delimiter
	if delim == "" || delim == Auto {
		if sep, rest, ok := sepLine(data); ok {
			delim, data, r.lineOffset = string(sep), rest, 1
		} else {
			delim = string(sniff(data))
		}
	}
	r.Delimiter = rune(delim[0])
	r.raw = data
	rec, err := r.quickHeader()
	if err != nil {
		return nil, err
	}
	r.header = make([]string, len(rec))
	for i, h := range rec {
		// Header names appear in messages: no control characters.
		c, err := Clean(h)
		if err != nil {
			line, _ := r.csv.FieldPos(i)
			return nil, &Error{File: file, Line: line + r.lineOffset, Column: i + 1, Msg: "header: " + err.Error()}
		}
		r.header[i] = c
	}
	return r, nil
}

// quickHeader reads the header line, decoding only the lines up to it
// when the Scanner finds where it ends (and encoding/csv agrees), else
// the whole file. Read and Rewind decode the rest when they are first
// called.
func (r *Reader) quickHeader() ([]string, error) {
	r.bodyAt = -1
	s := r.NewScanner(r.raw, 0)
	for {
		fields, ok := s.Next()
		if !ok {
			break
		}
		if r.Blank(fields) {
			continue
		}
		end := s.Pos()
		r.data = r.AppendText(make([]byte, 0, 2*end), r.raw[:end])
		rec, err := r.start()
		if err == nil && sameFields(r, rec, fields) {
			if _, err := r.csv.Read(); errors.Is(err, io.EOF) {
				r.bodyAt = end
				return r.start() // again, for FieldPos
			}
		}
		break
	}
	r.bodyAt = -1
	r.decodeAll()
	return r.start()
}

// sameFields reports whether rec holds fields, decoded.
func sameFields(r *Reader, rec []string, fields [][]byte) bool {
	if len(rec) != len(fields) {
		return false
	}
	for i, f := range fields {
		if rec[i] != r.Text(f) {
			return false
		}
	}
	return true
}

// decodeAll decodes the whole file for Read.
func (r *Reader) decodeAll() {
	if r.decoded {
		return
	}
	if r.Encoding == Windows1252 {
		r.data = decode1252(r.raw)
	} else {
		r.data = r.raw
	}
	r.decoded = true
}

// start reads the decoded data from its beginning up to and including the
// header line, which it returns.
func (r *Reader) start() ([]string, error) {
	r.csv = csv.NewReader(bytes.NewReader(r.data))
	r.csv.Comma = r.Delimiter
	r.csv.ReuseRecord = true
	r.csv.FieldsPerRecord = -1
	r.rec, r.line, r.broken = nil, 0, false
	for {
		rec, err := r.csv.Read()
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: r.File, Msg: "the file is empty (no header line)"}
		}
		if err != nil {
			return nil, r.syntaxError(err)
		}
		if !blank(rec) {
			return rec, nil
		}
	}
}

// Rewind goes back to the first row after the header, so that the rows can
// be read again.
func (r *Reader) Rewind() error {
	r.decodeAll()
	_, err := r.start()
	return err
}

// readAll reads src whole, sizing the buffer once when src knows its
// length (a file, a bytes or strings reader). A large file is read in two
// halves at once.
func readAll(src io.Reader) ([]byte, error) {
	size := 0
	file := false // size is the whole file's, not what is left of it
	switch s := src.(type) {
	case interface{ Len() int }:
		size = s.Len()
	case interface{ Stat() (fs.FileInfo, error) }:
		if st, err := s.Stat(); err == nil && st.Mode().IsRegular() && st.Size() < 1<<40 {
			size, file = int(st.Size()), true
		}
	}
	if size <= 0 {
		return io.ReadAll(src)
	}
	// One byte more than the size tells that the file did not grow.
	buf := make([]byte, size+1)
	n := 0
	if ra, ok := src.(interface {
		io.ReaderAt
		io.Seeker
	}); ok && file && size >= 8<<20 {
		start, err := ra.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, err
		}
		size -= int(min(start, int64(size)))
		half := size / 2
		var errB error
		done := make(chan struct{})
		go func() {
			_, errB = ra.ReadAt(buf[half:size], start+int64(half))
			close(done)
		}()
		_, errA := ra.ReadAt(buf[:half], start)
		<-done
		if err := errors.Join(errA, errB); err != nil {
			return nil, err
		}
		if _, err := ra.Seek(start+int64(size), io.SeekStart); err != nil {
			return nil, err
		}
		n = size
	}
	for {
		m, err := src.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return buf[:n], nil
		}
		if err != nil {
			return nil, err
		}
		if n == len(buf) { // it grew: read the rest as it comes
			rest, err := io.ReadAll(src)
			return append(buf, rest...), err
		}
	}
}

// encoding strips a byte order mark and sets the encoding of data.
func (r *Reader) encoding(data []byte, enc string) ([]byte, error) {
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return nil, &Error{File: r.File, Line: 1, Msg: "the file is UTF-16 text, which is not supported; save it as \"CSV UTF-8\" or \"CSV (semikolonavgränsad)\""}
	}
	if rest, ok := bytes.CutPrefix(data, []byte{0xef, 0xbb, 0xbf}); ok {
		data, enc = rest, UTF8
	}
	switch enc {
	case UTF8, "utf8":
		if !validUTF8(data) {
			return nil, &Error{File: r.File, Line: firstInvalidLine(data),
				Msg: "invalid UTF-8 (is the file Windows-1252? then set encoding: windows-1252)"}
		}
		r.Encoding = UTF8
		return data, nil
	case Windows1252, "cp1252":
	default: // auto
		if validUTF8(data) {
			r.Encoding = UTF8
			return data, nil
		}
	}
	r.Encoding = Windows1252
	return data, nil
}

// validUTF8 is utf8.Valid, for a large text in two halves at once,
// split after a line break (which no character's encoding contains).
func validUTF8(data []byte) bool {
	if len(data) < 8<<20 {
		return utf8.Valid(data)
	}
	half := len(data) / 2
	nl := bytes.IndexByte(data[half:], '\n')
	if nl < 0 {
		return utf8.Valid(data)
	}
	half += nl + 1
	second := make(chan bool, 1)
	go func() { second <- utf8.Valid(data[half:]) }()
	first := utf8.Valid(data[:half])
	return <-second && first
}

// cp1252 holds, for each byte of Windows-1252 from 0x80 up, its UTF-8
// encoding as golang.org/x/text decodes it (at most three bytes, first in
// the low byte) with its length in the top byte.
var cp1252 = func() (t [128]uint32) {
	for i := range t {
		var b [4]byte
		n := utf8.EncodeRune(b[:], charmap.Windows1252.DecodeByte(byte(0x80+i)))
		b[3] = byte(n)
		t[i] = binary.LittleEndian.Uint32(b[:])
	}
	return t
}()

// decode1252 converts Windows-1252 text to UTF-8. A long text is
// converted in two halves at once, each byte being a character.
func decode1252(data []byte) []byte {
	if len(data) < 1<<20 {
		out := make([]byte, size1252(data)+8)
		return out[:put1252(out, data)]
	}
	a, b := data[:len(data)/2], data[len(data)/2:]
	var sizeB int
	done := make(chan struct{})
	go func() { sizeB = size1252(b); done <- struct{}{} }()
	sizeA := size1252(a)
	<-done
	out := make([]byte, sizeA+sizeB+8)
	go func() { put1252(out[sizeA:], b); done <- struct{}{} }()
	put1252(out[:sizeA], a)
	<-done
	return out[:sizeA+sizeB]
}

// size1252 is the length of data converted to UTF-8.
func size1252(data []byte) int {
	const high = 0x8080808080808080
	n := len(data)
	i := 0
	for ; i+8 <= len(data); i += 8 {
		if binary.LittleEndian.Uint64(data[i:])&high != 0 {
			for _, c := range data[i : i+8] {
				if c >= 0x80 {
					n += int(cp1252[c-0x80]>>24) - 1
				}
			}
		}
	}
	for _, c := range data[i:] {
		if c >= 0x80 {
			n += int(cp1252[c-0x80]>>24) - 1
		}
	}
	return n
}

// put1252 converts data to UTF-8 into out, which has room for at least
// size1252(data) bytes, and returns the length: runs of ASCII up to eight
// bytes at a time, other bytes through the table. It writes nothing past
// the end of out.
func put1252(out, data []byte) int {
	const high = 0x8080808080808080
	j := 0
	for i := 0; i < len(data); {
		if i+8 <= len(data) && j+8 <= len(out) {
			// Store the word, keep its ASCII bytes up to the first other.
			w := binary.LittleEndian.Uint64(data[i:])
			binary.LittleEndian.PutUint64(out[j:], w)
			k := bits.TrailingZeros64(w&high) / 8
			i, j = i+k, j+k
			if k == 8 {
				continue
			}
		}
		if c := data[i]; c < 0x80 {
			out[j] = c
			j++
		} else {
			e := cp1252[c-0x80]
			if j+4 <= len(out) {
				binary.LittleEndian.PutUint32(out[j:], e)
			} else {
				var u [4]byte
				binary.LittleEndian.PutUint32(u[:], e)
				copy(out[j:], u[:e>>24])
			}
			j += int(e >> 24)
		}
		i++
	}
	return j
}

func firstInvalidLine(data []byte) int {
	line := 1
	for len(data) > 0 {
		c, size := utf8.DecodeRune(data)
		if c == utf8.RuneError && size <= 1 {
			return line
		}
		if c == '\n' {
			line++
		}
		data = data[size:]
	}
	return line
}

// sepLine recognises Excel's "sep=;" hint on the first line.
func sepLine(data []byte) (sep byte, rest []byte, ok bool) {
	line, rest, found := bytes.Cut(data, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if !found || len(line) != 5 || !bytes.EqualFold(line[:4], []byte("sep=")) || (line[4] != ';' && line[4] != ',') {
		return 0, nil, false
	}
	return line[4], rest, true
}

// sniff picks ';' or ',' from the first non-blank line, counting only
// outside quotes.
func sniff(data []byte) byte {
	var semi, comma int
	inQuote := false
	started := false
	for _, c := range data {
		switch c {
		case '"':
			inQuote = !inQuote
		case ';':
			if !inQuote {
				semi++
			}
		case ',':
			if !inQuote {
				comma++
			}
		case '\n':
			if !inQuote && started {
				goto done
			}
		}
		if c != '\n' && c != '\r' && c != ' ' {
			started = true
		}
	}
done:
	if comma > semi {
		return ','
	}
	return ';'
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func (r *Reader) syntaxError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			msg += fmt.Sprintf(" (at character %d)", pe.Column)
		}
		return &Error{File: r.File, Line: pe.Line + r.lineOffset, Msg: "CSV syntax: " + msg}
	}
	return fmt.Errorf("reading %s: %w", r.File, err)
}

// MaxRows is an upper bound of the number of rows, for sizing slices.
func (r *Reader) MaxRows() int {
	if r.lines == 0 {
		r.lines = bytes.Count(r.raw, []byte{'\n'}) + 1
	}
	return r.lines
}

// Header returns the trimmed header names.
func (r *Reader) Header() []string { return r.header }

// HeaderLine is the line of the header.
func (r *Reader) HeaderLine() int {
	return r.lineOffset + 1
}

// Find returns the index of the header column named by one of names
// (case-insensitive, after trimming), or -1 when there is none. Two
// columns with a matching name are an error: the mapping is ambiguous.
func (r *Reader) Find(names ...string) (int, error) {
	found := -1
	for i, h := range r.header {
		for _, n := range names {
			if strings.EqualFold(h, strings.TrimSpace(n)) {
				if found >= 0 && found != i {
					return -1, &Error{File: r.File, Line: r.HeaderLine(), Column: i + 1,
						Msg: fmt.Sprintf("column %s appears twice in the header (columns %d and %d)", Quote(h), found+1, i+1)}
				}
				found = i
			}
		}
	}
	return found, nil
}

// Missing is the error for a column the header lacks.
func (r *Reader) Missing(name string) *Error {
	return &Error{File: r.File, Line: r.HeaderLine(),
		Msg: fmt.Sprintf("no column %s in the header (columns: %s)", Quote(name), strings.Join(r.header, ", "))}
}

// Read returns the next row that is not blank, or io.EOF after the last.
// The slice is reused by the next call. A row with a different number of
// fields than the header is an *Error after which reading goes on; a CSV
// syntax error is an *Error after which Read returns io.EOF.
func (r *Reader) Read() ([]string, error) {
	if !r.decoded {
		if err := r.Rewind(); err != nil {
			return nil, err
		}
	}
	if r.broken {
		return nil, io.EOF
	}
	for {
		rec, err := r.csv.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			r.broken, r.rec = true, nil
			return nil, r.syntaxError(err)
		}
		r.rec = rec
		r.line, _ = r.csv.FieldPos(0)
		r.line += r.lineOffset
		if len(rec) != len(r.header) {
			if blank(rec) {
				continue
			}
			return nil, &Error{File: r.File, Line: r.Line(),
				Msg: fmt.Sprintf("the row has %d fields but the header has %d (a %q inside a value that is not quoted?)", len(rec), len(r.header), r.Delimiter)}
		}
		if blank(rec) {
			continue
		}
		return rec, nil
	}
}

// Line is the line on which the last row read starts.
func (r *Reader) Line() int { return r.line }

// Errorf returns an error about field col (0-based) of the last row read:
// "file:line:column: message" with the 1-based column number.
func (r *Reader) Errorf(col int, format string, args ...any) *Error {
	line := r.Line()
	if col >= 0 && col < len(r.rec) {
		line, _ = r.csv.FieldPos(col)
		line += r.lineOffset
	}
	return &Error{File: r.File, Line: line, Column: col + 1, Msg: fmt.Sprintf(format, args...)}
}
