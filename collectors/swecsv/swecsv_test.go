package swecsv

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

func rowsOf(t *testing.T, r *Reader) [][]string {
	t.Helper()
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, append([]string(nil), rec...))
	}
}

func TestReaderWindows1252Semicolon(t *testing.T) {
	// "Ärendetyp;Enhet\r\nBygglov;Bygg- och miljöenheten\r\n" in Windows-1252.
	data := "\xc4rendetyp;Enhet;V\xe4rde\r\nBygglov;Bygg- och milj\xf6enheten;\"12,5\"\r\n"
	r, err := NewReader(strings.NewReader(data), "a.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Encoding != Windows1252 || r.Delimiter != ';' {
		t.Fatalf("encoding %s delimiter %q", r.Encoding, r.Delimiter)
	}
	if got := strings.Join(r.Header(), "|"); got != "Ärendetyp|Enhet|Värde" {
		t.Fatalf("header %q", got)
	}
	rows := rowsOf(t, r)
	if len(rows) != 1 || rows[0][1] != "Bygg- och miljöenheten" || rows[0][2] != "12,5" {
		t.Fatalf("rows %q", rows)
	}
	if i, err := r.Find("ärendetyp "); err != nil || i != 0 {
		t.Fatalf("Find = %d, %v", i, err)
	}
	if i, _ := r.Find("Kanal"); i != -1 {
		t.Fatalf("Find(Kanal) = %d", i)
	}
}

func TestReaderUTF8BOMComma(t *testing.T) {
	data := "\ufeffId,Namn,Kategori\n1,\"Ansökan, bygglov\",Bygg\n\n2,Förskola,Skola\n"
	r, err := NewReader(strings.NewReader(data), "b.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Encoding != UTF8 || r.Delimiter != ',' {
		t.Fatalf("encoding %s delimiter %q", r.Encoding, r.Delimiter)
	}
	if r.Header()[0] != "Id" {
		t.Fatalf("BOM not stripped: %q", r.Header()[0])
	}
	rows := rowsOf(t, r)
	if len(rows) != 2 || rows[0][1] != "Ansökan, bygglov" {
		t.Fatalf("rows %q", rows)
	}
	if line := r.Line(); line != 4 {
		t.Fatalf("line of last row = %d, want 4", line)
	}
}

func TestReaderSepLineAndForcedOptions(t *testing.T) {
	r, err := NewReader(strings.NewReader("sep=,\r\na;b,c\r\n1;2,3\r\n"), "s.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Delimiter != ',' || r.HeaderLine() != 2 {
		t.Fatalf("delimiter %q header line %d", r.Delimiter, r.HeaderLine())
	}
	rowsOf(t, r)
	if r.Line() != 3 {
		t.Fatalf("line %d", r.Line())
	}
	// Forced delimiter wins over the sniffed one.
	r, err = NewReader(strings.NewReader("a;b,c\n1;2,3\n"), "s.csv", Options{Delimiter: ";"})
	if err != nil || len(r.Header()) != 2 {
		t.Fatalf("header %q, %v", r.Header(), err)
	}
	// Forced UTF-8 on Windows-1252 bytes names the line.
	_, err = NewReader(strings.NewReader("a;b\nx;\xe4\n"), "u.csv", Options{Encoding: "utf-8"})
	if err == nil || !strings.HasPrefix(err.Error(), "u.csv:2: invalid UTF-8") {
		t.Fatalf("err = %v", err)
	}
	// Forced Windows-1252 reads valid UTF-8 bytes as two characters.
	r, err = NewReader(strings.NewReader("a\n\xc3\xa4\n"), "w.csv", Options{Encoding: "windows-1252"})
	if err != nil {
		t.Fatal(err)
	}
	if rows := rowsOf(t, r); rows[0][0] != "Ã¤" {
		t.Fatalf("rows %q", rows)
	}
	if err := (Options{Encoding: "latin9"}).Check(); err == nil {
		t.Fatal("unknown encoding accepted")
	}
	if err := (Options{Delimiter: "|"}).Check(); err == nil {
		t.Fatal("unknown delimiter accepted")
	}
}

func TestReaderErrors(t *testing.T) {
	cases := []struct{ data, want string }{
		{"", "e.csv: the file is empty (no header line)"},
		{"\xff\xfea\x00", "e.csv:1: the file is UTF-16 text"},
		{"a;b\n1;2\n1;2;3\n", "e.csv:3: the row has 3 fields but the header has 2"},
		{"a;b\n1;x\"y\n", "e.csv:2: CSV syntax: bare \" in non-quoted-field (at character 4)"},
		{"a;b\n1;\"open\n", "e.csv:2: CSV syntax: extraneous or missing \" in quoted-field"},
		{"a;A\n", "e.csv:1:2: column \"A\" appears twice"},
		{"a;" + strings.Repeat("b", 1001) + "\n", "e.csv:1:2: header: value is 1001 characters long (at most 1000)"},
	}
	for _, c := range cases {
		r, err := NewReader(strings.NewReader(c.data), "e.csv", Options{})
		if err == nil {
			if _, err = r.Find("a"); err == nil {
				for err == nil {
					_, err = r.Read()
				}
			}
		}
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %s", c.data, err, c.want)
		}
	}
}

func TestErrorfPositions(t *testing.T) {
	r, err := NewReader(strings.NewReader("a;b;c\r\n1;\"two\r\nlines\";3\r\n"), "p.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	if got := r.Errorf(2, "bad").Error(); got != "p.csv:3:3: bad" {
		t.Fatalf("got %s", got)
	}
	if got := r.Errorf(0, "bad").Error(); got != "p.csv:2:1: bad" {
		t.Fatalf("got %s", got)
	}
	if got := r.Errorf(-1, "bad").Error(); got != "p.csv:2: bad" {
		t.Fatalf("got %s", got)
	}
	if got := r.Missing("Inkom").Error(); got != `p.csv:1: no column "Inkom" in the header (columns: a, b, c)` {
		t.Fatalf("got %s", got)
	}
}

func TestParseNumber(t *testing.T) {
	good := map[string]float64{
		"12,5": 12.5, "12.5": 12.5, " 7 ": 7, "-3,25": -3.25, "1 234,5": 1234.5,
		"1\u00a0234": 1234, "1\u202f234,75": 1234.75, "\u22122": -2, "45 %": 45, "45%": 45,
		",5": 0.5, "+4": 4, "0": 0,
	}
	for s, want := range good {
		got, err := ParseNumber(s)
		if err != nil || got != want {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "abc", "1,234.5", "1,2,3", "NaN", "Inf", "1e5", "-", "5,", "1-2", "0x10", " %", "12 kr"} {
		if v, err := ParseNumber(s); err == nil {
			t.Errorf("ParseNumber(%q) = %v, want error", s, v)
		}
	}
	if _, err := ParseNumber(""); !IsEmpty(err) {
		t.Errorf("empty: %v", err)
	}
}

func TestParseTime(t *testing.T) {
	cases := []struct {
		in    string
		want  time.Time
		clock bool
	}{
		{"2024-03-05", time.Date(2024, 3, 5, 0, 0, 0, 0, Stockholm), false},
		{" 2024-03-05 14:02 ", time.Date(2024, 3, 5, 14, 2, 0, 0, Stockholm), true},
		{"2024-03-05T14:02:33", time.Date(2024, 3, 5, 14, 2, 33, 0, Stockholm), true},
		{"2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, Stockholm), false},
	}
	for _, c := range cases {
		got, clock, err := ParseTime(c.in)
		if err != nil || !got.Equal(c.want) || clock != c.clock || got.Location() != Stockholm {
			t.Errorf("ParseTime(%q) = %v, %v, %v", c.in, got, clock, err)
		}
	}
	// Summer time: 14:02 local in July is 12:02 UTC.
	if got, _, _ := ParseTime("2024-07-01 14:02"); got.UTC().Hour() != 12 {
		t.Errorf("summer time: %v", got.UTC())
	}
	for _, s := range []string{"2024-3-5", "2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "05/03/2024",
		"2024-03-05 24:00", "2024-03-05 14.02", "2024-03-05 14:60", "1899-12-31", "20240305", "2024-03-05 14:02:61"} {
		if _, _, err := ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q) accepted", s)
		}
	}
	d, err := ParseDate("2024-03-05 23:59")
	if err != nil || !d.Equal(time.Date(2024, 3, 5, 0, 0, 0, 0, Stockholm)) {
		t.Errorf("ParseDate = %v, %v", d, err)
	}
}

func TestParseBool(t *testing.T) {
	for s, want := range map[string]bool{"Ja": true, "NEJ": false, "yes": true, "0": false, " ja ": true} {
		if got, err := ParseBool(s); err != nil || got != want {
			t.Errorf("ParseBool(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseBool("kanske"); err == nil {
		t.Error("ParseBool(kanske) accepted")
	}
	if _, err := ParseBool(" "); !IsEmpty(err) {
		t.Errorf("empty: %v", err)
	}
}

func TestClean(t *testing.T) {
	cases := map[string]string{
		"  Bygglov ":                "Bygglov",
		"Bygg\tlov\r\n":             "Bygg lov",
		"a\x00b\x1bc\x7f":           "abc",
		"e\u0085f":                  "ef",
		"x\u202eevil\u202c":         "xevil",
		"\ufeffId":                  "Id",
		"Förskola – ansökan § 3 °C": "Förskola – ansökan § 3 °C",
		"<script>alert(1)</script>": "<script>alert(1)</script>",
	}
	for in, want := range cases {
		if got, err := Clean(in); err != nil || got != want {
			t.Errorf("Clean(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Clean(strings.Repeat("ä", MaxLen)); err != nil {
		t.Errorf("1000 characters rejected: %v", err)
	}
	if _, err := Clean(strings.Repeat("a", MaxLen+1)); err == nil || err.Error() != "value is 1001 characters long (at most 1000)" {
		t.Errorf("1001 characters: %v", err)
	}
}

func TestHeaderIsCleaned(t *testing.T) {
	r, err := NewReader(strings.NewReader("\x1b[31mInkom\x1b[0m;B\u202e\n1;2\n"), "h.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Header(), "|"); got != "[31mInkom[0m|B" {
		t.Fatalf("header %q", got)
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("a;b\r\n1;\"2\"\r\n"), "", "")
	f.Add([]byte("sep=,\na,b\n\xe4,\"x\ny\"\n"), "windows-1252", "")
	f.Add([]byte("\xef\xbb\xbfa,b\n1,2,3\n"), "utf-8", ",")
	f.Fuzz(func(t *testing.T, data []byte, enc, delim string) {
		r, err := NewReader(strings.NewReader(string(data)), "f.csv", Options{Encoding: enc, Delimiter: delim})
		if err != nil {
			return
		}
		for _, h := range r.Header() {
			if strings.ContainsAny(h, "\x00\n\r\x1b") {
				t.Fatalf("control character in header %q", h)
			}
		}
		for i := 0; i < 1000; i++ {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err == nil && len(rec) != len(r.Header()) {
				t.Fatalf("row of %d fields, header %d", len(rec), len(r.Header()))
			}
			for j := -1; j <= len(r.Header()); j++ {
				_ = r.Errorf(j, "x").Error()
			}
			if err == nil {
				for _, v := range rec {
					ParseNumber(v)
					ParseTime(v)
					Clean(v)
				}
			}
		}
	})
}

func TestDecode1252MatchesXText(t *testing.T) {
	// Every byte, at every offset within a word, next to ASCII and to
	// other high bytes, and the short tails.
	var all []byte
	for i := range 256 {
		all = append(all, byte(i), 'a', byte(255-i), 0x80, 'b', 'c')
	}
	// Long texts are converted in two halves: the split falls on each
	// kind of byte.
	long := bytes.Repeat(all, (1<<20)/len(all)+2)
	var srcs [][]byte
	for start := range 9 {
		for _, end := range []int{start, start + 1, start + 7, start + 8, start + 9, len(all)} {
			srcs = append(srcs, all[start:end])
		}
		for _, end := range []int{1 << 20, 1<<20 + 1, 1<<20 + 3, 1<<20 + 5, 1<<20 + 6, 1<<20 + 7, len(long)} {
			srcs = append(srcs, long[start:end])
		}
	}
	for _, src := range srcs {
		want, err := charmap.Windows1252.NewDecoder().Bytes(src)
		if err != nil {
			t.Fatal(err)
		}
		if got := decode1252(src); !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("%d bytes: decoded to %d bytes, want %d; first difference at %d", len(src), len(got), len(want), i)
		}
	}
}

func TestRewindReadsTheRowsAgain(t *testing.T) {
	data := "sep=;\r\n\r\nA;B\r\n1;\"x\r\ny\"\r\n\r\n2;z\r\n3\r\n4;w\r\n"
	r, err := NewReader(strings.NewReader(data), "a.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	read := func() (rows [][]string, lines []int, errs []string) {
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				return rows, lines, errs
			}
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			rows = append(rows, slices.Clone(rec))
			lines = append(lines, r.Line())
		}
	}
	rows1, lines1, errs1 := read()
	if len(rows1) != 3 || !slices.Equal(lines1, []int{4, 7, 9}) || len(errs1) != 1 {
		t.Fatalf("first read: %q at lines %v, errors %q", rows1, lines1, errs1)
	}
	if err := r.Rewind(); err != nil {
		t.Fatal(err)
	}
	rows2, lines2, errs2 := read()
	if !slices.EqualFunc(rows1, rows2, slices.Equal) || !slices.Equal(lines1, lines2) || !slices.Equal(errs1, errs2) {
		t.Fatalf("after Rewind: %q at lines %v, errors %q; first %q at lines %v, errors %q", rows2, lines2, errs2, rows1, lines1, errs1)
	}
	if got := strings.Join(r.Header(), "|"); got != "A|B" {
		t.Fatalf("header %q", got)
	}
}
