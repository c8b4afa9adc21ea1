package swecsv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// scanAll reads data with a Scanner: the records, and whether it read to
// the end without giving up.
func scanAll(data []byte, delim rune) ([][]string, bool) {
	r := &Reader{Delimiter: delim, Encoding: UTF8}
	s := r.NewScanner(data, 0)
	var recs [][]string
	for {
		fields, ok := s.Next()
		if !ok {
			return recs, !s.Bad() && s.Pos() == len(data)
		}
		rec := make([]string, len(fields))
		for i, f := range fields {
			rec[i] = string(f)
		}
		recs = append(recs, rec)
	}
}

// csvAll reads data with encoding/csv as Reader sets it up.
func csvAll(data []byte, delim rune) ([][]string, error) {
	c := csv.NewReader(strings.NewReader(string(data)))
	c.Comma = delim
	c.FieldsPerRecord = -1
	var recs [][]string
	for {
		rec, err := c.Read()
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		if err != nil {
			return recs, err
		}
		recs = append(recs, rec)
	}
}

// checkScanner fails when the Scanner reads data otherwise than
// encoding/csv: other records, or no error where encoding/csv has one.
func checkScanner(t *testing.T, data []byte, delim rune) {
	t.Helper()
	got, ok := scanAll(data, delim)
	want, err := csvAll(data, delim)
	switch {
	case err != nil && ok:
		t.Fatalf("%q: the scanner read %q, encoding/csv fails: %v", data, got, err)
	case err == nil && !ok:
		t.Fatalf("%q: the scanner gave up after %q, encoding/csv reads %q", data, got, want)
	case err == nil && !slices.EqualFunc(got, want, slices.Equal):
		t.Fatalf("%q: the scanner reads %q, encoding/csv %q", data, got, want)
	}
}

func TestScannerMatchesEncodingCSV(t *testing.T) {
	for _, s := range []string{
		"", "\n", "\r\n", "\r", "a", "a\r", "a\r\r", "a\r\r\n", "a;b\r\nc;d\r\n", "a;b\nc;d", "\n\n\r\na;b\n\r\n",
		";", ";\n", "a;;\n", " ; \n", "a\rb;c\n",
		`"a;b";c` + "\n", `"a""b";c`, `"a` + "\r\n" + `b";c` + "\r\n", `"a` + "\n" + `b"`, `"";""`, `""""`,
		`"a"` + "\r", `"a"` + "\r\n", `"a"` + "\r\r\n", `"a"b`, `"a" ;b`, `a"b`, `a;b"`, `"a`, `"a` + "\n", `"a"` + "\rx",
		"\"\r\n\"\r\n", "\"a\r\"\n", "\"a\r\r\n\"\n", "x;\"y\"\"\r\nz\"\"\";w\r\n",
		"\xe4;\xa0\r\n\"\xe4\n\";\xff\n",
	} {
		checkScanner(t, []byte(s), ';')
		checkScanner(t, []byte(strings.ReplaceAll(s, ";", ",")), ',')
	}
}

// TestScannerRandom compares the Scanner with encoding/csv on many short
// texts made of the characters that matter.
func TestScannerRandom(t *testing.T) {
	alphabet := []byte{'a', 'b', ';', ',', '"', '"', '\r', '\n', ' ', 0xe4, 0xa0}
	rng := rand.New(rand.NewPCG(15, 4))
	for range 100000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		checkScanner(t, b, ';')
	}
}

func FuzzScanner(f *testing.F) {
	f.Add([]byte("a;b\r\n\"c\nd\";\"e\"\"f\"\r\n"), true)
	f.Add([]byte("a,\"b\r\nc\"\r\n\r\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, semicolon bool) {
		delim := ','
		if semicolon {
			delim = ';'
		}
		checkScanner(t, data, delim)
	})
}

// A file split in parts: Body's split points lie after a line break, and
// the parts cover the rows after the header.
func TestBodySplitsAtLineStarts(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("sep=;\r\nA;B\r\n")
	for i := range 200000 {
		fmt.Fprintf(&sb, "r\xe4d %d;%d\r\n", i, i)
	}
	r, err := NewReader(strings.NewReader(sb.String()), "b.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	body, splits, ok := r.Body(2)
	if !ok || len(splits) != 1 || string(body[:9]) != "r\xe4d 0;0\r\n" {
		t.Fatalf("ok %v, splits %v, body starts %q", ok, splits, body[:9])
	}
	if at := splits[0]; body[at-1] != '\n' || at < len(body)/2 || at > len(body)/2+20 {
		t.Fatalf("split at %d of %d, after %q", at, len(body), body[at-1])
	}
	if _, splits, _ := r.Body(1); len(splits) != 0 {
		t.Fatalf("one part split at %v", splits)
	}
	small, _ := NewReader(strings.NewReader("A;B\r\n1;2\r\n"), "s.csv", Options{})
	if _, splits, ok := small.Body(2); !ok || len(splits) != 0 {
		t.Fatalf("small file: ok %v, splits %v", ok, splits)
	}
	// The header read through the Scanner is the header Read reads: the
	// rows come after it, decoded.
	if rec, err := r.Read(); err != nil || rec[0] != "räd 0" || r.Line() != 3 {
		t.Fatalf("first row %q on line %d, %v", rec, r.Line(), err)
	}
}

// A header the Scanner cannot read (a bare quote) is read by encoding/csv,
// which says what is wrong.
func TestHeaderSyntaxErrorStillReported(t *testing.T) {
	_, err := NewReader(strings.NewReader("\n\nA;B\"x\n1;2\n"), "h.csv", Options{})
	if err == nil || err.Error() != `h.csv:3: CSV syntax: bare " in non-quoted-field (at character 4)` {
		t.Fatalf("error %v", err)
	}
	r, err := NewReader(strings.NewReader("\r\n \"A\n\";B\r\n1;2\r\n"), "q.csv", Options{})
	if err == nil {
		t.Fatalf("header %q read", r.Header())
	}
	r, err = NewReader(strings.NewReader("\r\n;\r\n\"A\r\nx\";B\r\n1;2\r\n"), "m.csv", Options{})
	if err != nil || strings.Join(r.Header(), "|") != "A x|B" {
		t.Fatalf("header %q, %v", r.Header(), err)
	}
	if _, _, ok := r.Body(2); !ok {
		t.Fatal("a quoted header with a line break: rows not read from the undecoded data")
	}
	if got := rowsOf(t, r); len(got) != 1 || got[0][1] != "2" || r.Line() != 5 {
		t.Fatalf("rows %q, last on line %d", got, r.Line())
	}
}

func TestDatesMatchParseTime(t *testing.T) {
	var forms []string
	// Every day from 1900 to 2100 at a few times, the summer-time changes
	// of 2024 and 1980 (the first since 1949), and the 1916 one.
	for d := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() <= 2100; d = d.AddDate(0, 0, 1) {
		day := d.Format("2006-01-02")
		forms = append(forms, day, day+" 00:00", day+"T12:34", day+" 23:59:59")
	}
	for _, day := range []string{"2024-03-31", "2024-10-27", "1980-04-06", "1980-09-28", "1916-05-14", "1916-09-30"} {
		for h := range 24 {
			for _, m := range []string{"00", "30", "59"} {
				forms = append(forms, fmt.Sprintf("%s %02d:%s", day, h, m), fmt.Sprintf("%s %02d:%s:30", day, h, m))
			}
		}
	}
	forms = append(forms, "2024-02-30", "2023-02-29", "1899-12-31", "2024-13-01", "2024-00-10", "2024-01-00",
		"2024-01-01 24:00", "2024-01-01 12:60", "2024-01-01 12:00:60", "2024-01-01x12:00", "2024-01-01 12-00",
		"2024/01/01", " 2024-01-01", "2024-01-01 ", "2024-1-01", "2024-01-01 1:00", "abcd-ef-gh", "")
	var p Dates
	for range 2 { // cold and warm cache
		for _, s := range forms {
			got, gotClock, ok := p.Parse([]byte(s))
			want, wantClock, err := ParseTime(s)
			if ok && (err != nil || got != want || gotClock != wantClock) {
				t.Fatalf("%q: %v (clock %v), ParseTime %v (clock %v) %v", s, got, gotClock, want, wantClock, err)
			}
			if !ok && err == nil && strings.TrimSpace(s) == s {
				t.Fatalf("%q: not read, ParseTime reads %v", s, want)
			}
		}
	}
}

// A large file is read in two halves at once, from where the file is
// positioned, whole.
func TestReadAllLargeFile(t *testing.T) {
	data := make([]byte, 9<<20+7)
	for i := range data {
		data[i] = byte(i*7 + i>>13)
	}
	path := t.TempDir() + "/big.csv"
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(5, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(f)
	if err != nil || !bytes.Equal(got, data[5:]) {
		t.Fatalf("read %d bytes (%v), want %d", len(got), err, len(data)-5)
	}
	if n, err := f.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("after readAll: %d bytes, %v", n, err)
	}
}

// A large file is checked for UTF-8 in two halves: a byte that is not
// UTF-8 in either half, or a character across the middle, is seen.
func TestValidUTF8Halves(t *testing.T) {
	line := []byte("Diarienummer;Ärendetyp;Enhet – Kultur\n")
	var data []byte
	for len(data) < 9<<20 {
		data = append(data, line...)
	}
	if !validUTF8(data) {
		t.Fatal("valid UTF-8 not valid")
	}
	for _, at := range []int{10, len(data)/2 - 3, len(data)/2 + 5, len(data) - 3} {
		bad := bytes.Clone(data)
		bad[at] = 0xe4 // ä in Windows-1252
		if validUTF8(bad) {
			t.Fatalf("byte 0xe4 at %d of %d not seen", at, len(bad))
		}
	}
	// No line break after the middle: one part.
	long := bytes.Repeat([]byte("ö"), 5<<20)
	if !validUTF8(long) || validUTF8(append(long, 0xff)) {
		t.Fatal("one long line read wrong")
	}
}
