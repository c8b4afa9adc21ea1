package collectors

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/malbild/malbild/facts"
)

// bigCases is a cases file large enough for the quick pass to read in
// two parts: rows of about 100 bytes, with labels of several kinds.
func bigCases(n int, rowEnd string) []string {
	types := []string{"Bygglov", "Försörjningsstöd", "Skolskjuts", "Livsmedelskontroll", "Parkeringstillstånd"}
	units := []string{"Bygg- och miljöenheten", "Socialförvaltningen", `"Utbildning ""förskola"""`, "Miljöenheten", " Kultur ", ""}
	chans := []string{"E-tjänst", "Post", "e-post", "MINA SIDOR", "Telefon", "Besök", "Papper", "Webb"}
	kinds := []string{"Ansökan", "Anmälan", "ansökan", "Övrigt"}
	rows := []string{"Diarienummer;Ärendetyp;Ärendeslag;Enhet;Kanal;Inkom;Beslutad" + rowEnd}
	for i := range n {
		dec := ""
		if i%7 != 0 {
			dec = fmt.Sprintf("2024-%02d-%02d", 4+i%6, 1+i%28)
		}
		rows = append(rows, fmt.Sprintf("BN %d/%06d;%s;%s;%s;%s;2024-03-%02d %02d:%02d;%s%s", 2020+i%5, i,
			types[i%len(types)], kinds[i%len(kinds)], units[i%len(units)], chans[i%len(chans)], 1+i%31, i%24, i%60, dec, rowEnd))
	}
	return rows
}

func to1252(t *testing.T, s string) string {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// carefulCases reads data with the careful pass alone.
func carefulCases(t *testing.T, data string) []facts.Case {
	t.Helper()
	o := defaultCaseOpts()
	tbl, err := openCSV(strings.NewReader(data), "c.csv", &o.FileOptions, caseColumns(o))
	if err != nil {
		t.Fatal(err)
	}
	cr := caseReader{idx: tbl.idx, now: fileTestNow, digital: foldSet(o.DigitalChannels), application: foldSet(o.ApplicationValues)}
	cases, err := readCases(tbl, &cr, tbl.idx[caseID:caseChannel+1], nil)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// quick reads data with the quick pass alone.
func quick(t *testing.T, data string) (cases []facts.Case, splits []int, ok bool) {
	t.Helper()
	o := defaultCaseOpts()
	tbl, err := openCSV(strings.NewReader(data), "q.csv", &o.FileOptions, caseColumns(o))
	if err != nil {
		t.Fatal(err)
	}
	body, splits, _ := tbl.rd.Body(quickParts)
	for i := range splits {
		splits[i] += len(data) - len(body) // offsets in data
	}
	cr := caseReader{idx: tbl.idx, now: fileTestNow, digital: foldSet(o.DigitalChannels), application: foldSet(o.ApplicationValues)}
	var rows int
	cases, passed, ok := cr.quickCases(tbl, func(n int) { rows += n })
	if rows != passed || (ok && passed != len(cases)) {
		t.Fatalf("progress heard of %d rows, passed %d, %d cases", rows, passed, len(cases))
	}
	return cases, splits, ok
}

// The quick pass reads a good file, in two parts, as the careful pass
// does: Windows-1252 and UTF-8 with a byte order mark, CRLF and LF, a
// quoted field on either side of the split, a Windows-1252 letter right
// at it.
func TestQuickCasesMatchCareful(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rowEnd string
		enc    func(string) string
		edge   string // the first row after the split starts so
	}{
		{"1252-crlf", "\r\n", func(s string) string { return to1252(t, s) }, "Ö"},
		{"1252-lf", "\n", func(s string) string { return to1252(t, s) }, ""},
		{"utf8-bom-crlf", "\r\n", func(s string) string { return "\ufeff" + s }, "Å"},
		{"utf8-lf", "\n", func(s string) string { return s }, `"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := bigCases(30000, tc.rowEnd)
			data := tc.enc(strings.Join(rows, ""))
			if tc.edge != "" {
				// Find the row the split falls after and start the next one
				// with the edge character.
				_, splits, _ := quick(t, data)
				if len(splits) != 1 {
					t.Fatalf("splits %v", splits)
				}
				row := func(s string) string { return strings.TrimPrefix(tc.enc(s), "\ufeff") }
				k, at := 0, len(data)-len(row(strings.Join(rows, "")))
				for ; at < splits[0]; k++ {
					at += len(row(rows[k]))
				}
				if tc.edge == `"` {
					rows[k] = `"` + strings.Replace(rows[k], ";", `";`, 1)
				} else {
					rows[k] = tc.edge + rows[k]
				}
				data = tc.enc(strings.Join(rows, ""))
				_, splits, _ = quick(t, data)
				if !strings.HasPrefix(data[splits[0]:], row(tc.edge)) {
					t.Fatalf("the row after the split starts %q", data[splits[0]:splits[0]+10])
				}
			}
			got, splits, ok := quick(t, data)
			if !ok || len(splits) != 1 {
				t.Fatalf("quick pass: ok %v, splits %v", ok, splits)
			}
			want := carefulCases(t, data)
			if len(got) != 30000 || !reflect.DeepEqual(got, want) {
				for i := range min(len(got), len(want)) {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Fatalf("case %d: %+v, careful %+v", i, got[i], want[i])
					}
				}
				t.Fatalf("%d cases, careful %d", len(got), len(want))
			}
			if whole, err := parseCases(strings.NewReader(data), "c.csv", caseParse{opts: defaultCaseOpts(), now: fileTestNow}); err != nil || !reflect.DeepEqual(whole, want) {
				t.Fatalf("parseCases: %d cases, %v", len(whole), err)
			}
		})
	}
}

// A quoted field with line breaks across the split: the second part
// began inside it, so its rows are read again after the first part's
// end, and the file reads as the careful pass reads it.
func TestQuickCasesQuotedNewlineAcrossSplit(t *testing.T) {
	rows := bigCases(30000, "\r\n")
	data := strings.Join(rows, "")
	_, splits, _ := quick(t, data)
	// The row before the split gets a department of many lines, so that
	// the split falls inside it.
	at, k := 0, 0
	for ; at+len(rows[k]) < splits[0]; k++ {
		at += len(rows[k])
	}
	f := strings.Split(rows[k], ";")
	f[3] = `"Enhet` + strings.Repeat("\r\nrad", 60) + `"`
	rows[k] = strings.Join(f, ";")
	data = strings.Join(rows, "")
	_, splits, _ = quick(t, data)
	split := splits[0]
	if split <= at || split >= at+len(rows[k]) {
		t.Fatalf("split at %d, the quoted row spans %d–%d", split, at, at+len(rows[k]))
	}
	got, _, ok := quick(t, data)
	want := carefulCases(t, data)
	if !ok || !reflect.DeepEqual(got, want) || len(got) != 30000 {
		t.Fatalf("quick pass: ok %v, %d cases; careful %d", ok, len(got), len(want))
	}
	if want[k-1].Department != "Enhet"+strings.Repeat(" rad", 60) {
		t.Fatalf("department %q", want[k-1].Department)
	}
}

// Problems in both parts: the error lists them in file order, each at
// its line, whichever part the quick pass read first; so do a problem in
// the second part alone and an id in both parts.
func TestQuickCasesErrorsInFileOrder(t *testing.T) {
	rows := bigCases(30000, "\r\n")
	data := strings.Join(rows, "")
	_, splits, _ := quick(t, data)
	line := 0 // of the first row after the split, counted from 0
	for at := 0; at < splits[0]; line++ {
		at += len(rows[line])
	}
	set := func(rows []string, i, field int, v string) {
		f := strings.Split(rows[i], ";")
		f[field] = v
		rows[i] = strings.Join(f, ";")
	}
	parse := func(rows []string) error {
		_, err := parseCases(strings.NewReader(to1252(t, strings.Join(rows, ""))), "e.csv", caseParse{opts: defaultCaseOpts(), now: fileTestNow})
		return err
	}
	both := append([]string(nil), rows...)
	set(both, line+5, 5, "2024-02-30")
	set(both, 100, 5, "")
	set(both, line-1, 0, "")
	want := strings.Join([]string{
		`e.csv:101:6: Inkom: empty date`,
		fmt.Sprintf(`e.csv:%d:1: Diarienummer: empty case id`, line),
		fmt.Sprintf(`e.csv:%d:6: Inkom: invalid date "2024-02-30" (want YYYY-MM-DD or YYYY-MM-DD hh:mm)`, line+6),
	}, "\n")
	if err := parse(both); err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
	second := append([]string(nil), rows...)
	set(second, line+1, 4, "Kanal 19121212-1212")
	want = fmt.Sprintf(`e.csv:%d:5: Kanal: the value looks like a personnummer; files with personal data are rejected whole`, line+2)
	if err := parse(second); err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
	dup := append([]string(nil), rows...)
	first := strings.Split(dup[3], ";")[0]
	set(dup, line+2, 0, first)
	want = fmt.Sprintf(`e.csv:%d:1: Diarienummer: case %q appears twice (first on line 4)`, line+3, first)
	if err := parse(dup); err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
}
