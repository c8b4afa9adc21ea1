package collectors

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
)

func defaultCaseOpts() *CasesOptions {
	return &CasesOptions{DigitalChannels: defaultDigitalChannels, ApplicationValues: defaultApplicationValues}
}

func TestParseCasesWindows1252(t *testing.T) {
	name := "testdata/cases/arenden-2024-cp1252.csv"
	var rows int
	got, err := parseCases(openFixture(t, name), name, caseParse{opts: defaultCaseOpts(), now: fileTestNow, rows: func(n int) { rows += n }})
	if err != nil {
		t.Fatal(err)
	}
	want := []facts.Case{
		{ID: "BN 2024/0153", Type: "Bygglov", Department: "Bygg- och miljöenheten", Channel: "E-tjänst", Digital: true, Application: true,
			Received: sthlm(2024, 3, 5, 14, 2), Decided: sthlm(2024, 4, 11, 0, 0)},
		{ID: "BN 2024/0154", Type: "Bygglov", Department: "Bygg- och miljöenheten", Channel: "Post",
			Received: sthlm(2024, 3, 6, 9, 15), Decided: sthlm(2024, 3, 6, 0, 0)},
		{ID: "SN 2024/0031", Type: "Försörjningsstöd", Department: "Socialförvaltningen", Channel: "Mina sidor", Digital: true, Application: true,
			Received: sthlm(2024, 3, 7, 0, 0)},
		{ID: "KS 2024/0200", Type: "Synpunkt; klagomål", Department: "Kommunledningskontoret", Channel: "E-post",
			Received: sthlm(2024, 3, 8, 10, 0), Decided: sthlm(2024, 3, 20, 0, 0)},
		// Ten digits with a wrong check digit are an ordinary id; "ansökan"
		// and "webb" match case-insensitively.
		{ID: "MH 8112189875", Type: "Livsmedelskontroll", Department: "Miljöenheten", Channel: "webb", Digital: true, Application: true,
			Received: sthlm(2024, 4, 1, 8, 0), Decided: sthlm(2024, 4, 2, 16, 30)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
	if rows != 5 {
		t.Fatalf("progress rows = %d, want 5", rows)
	}
}

func TestParseCasesUTF8BOMComma(t *testing.T) {
	name := "testdata/cases/arenden-bom-comma.csv"
	got, err := parseCases(openFixture(t, name), name, caseParse{opts: defaultCaseOpts(), now: fileTestNow})
	if err != nil {
		t.Fatal(err)
	}
	// No Ärendeslag column: every case is an application.
	want := []facts.Case{
		{ID: "BN 2025/0001", Type: "Bygglov", Department: "Bygg- och miljöenheten, Norr", Channel: "E-tjänst", Digital: true, Application: true,
			Received: sthlm(2025, 1, 2, 8, 30), Decided: sthlm(2025, 1, 20, 0, 0)},
		{ID: "BN 2025/0002", Type: "Strandskyddsdispens", Department: "Bygg- och miljöenheten, Norr", Channel: "Papper", Application: true,
			Received: sthlm(2025, 1, 3, 0, 0)},
		{ID: "FN 2025/0010", Type: "Skolskjuts", Department: "Förskola och skola", Channel: "Telefon", Application: true,
			Received: sthlm(2025, 2, 10, 13, 45), Decided: sthlm(2025, 2, 10, 15, 0)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseCasesBadFile(t *testing.T) {
	name := "testdata/cases/arenden-bad.csv"
	got, err := parseCases(openFixture(t, name), name, caseParse{opts: defaultCaseOpts(), now: fileTestNow})
	if got != nil {
		t.Fatalf("a rejected file returned %d cases", len(got))
	}
	wantProblems(t, err,
		name+`:2:6: Inkom: invalid date "2024-13-05" (want YYYY-MM-DD or YYYY-MM-DD hh:mm)`,
		name+`:3:7: Beslutad: decided 2024-03-01 before it was received 2024-03-05 14:02`,
		name+`:4:7: Beslutad: handling time of more than 10 years (received 2010-01-04, decided 2024-01-05)`,
		name+`:5:6: Inkom: 2031-01-01 is in the future`,
		name+`:6:4: Enhet: the value looks like a personnummer; files with personal data are rejected whole`,
		name+`:7:1: Diarienummer: the value looks like a samordningsnummer; files with personal data are rejected whole`,
		name+`:8:2: Ärendetyp: value is 1001 characters long (at most 1000)`,
		name+`:10:1: Diarienummer: case "BN 2024/0008" appears twice (first on line 9)`,
		name+`:11: the row has 6 fields but the header has 7 (a ';' inside a value that is not quoted?)`,
		name+`:12:7: Beslutad: invalid date "kvartal 2" (want YYYY-MM-DD or YYYY-MM-DD hh:mm)`,
	)
	// The personal numbers themselves never reach the message.
	if strings.Contains(err.Error(), "811218") || strings.Contains(err.Error(), "701063") {
		t.Fatal("error repeats a personal number")
	}
}

func TestParseCasesRejects(t *testing.T) {
	const header = "Diarienummer;Ärendetyp;Ärendeslag;Enhet;Kanal;Inkom;Beslutad\n"
	for _, c := range []struct{ row, want string }{
		{"BN 1;Bygglov;Ansökan;Bygg;Post;2024-03-05 14:02;2024-03-05 10:00", "x.csv:2:7: Beslutad: decided 2024-03-05 10:00 before it was received 2024-03-05 14:02"},
		{"BN 1;Bygglov;Ansökan;Bygg;Post;2024-03-05;2034-03-06", "x.csv:2:7: Beslutad: 2034-03-06 is in the future"},
		{"BN 1;Bygglov;Ansökan;Bygg;Post;2025-06-15 12:01;", "x.csv:2:6: Inkom: 2025-06-15 12:01 is in the future"},
		{"BN 1;Bygglov;Ansökan;Bygg;Post;;", "x.csv:2:6: Inkom: empty date"},
		{" ;Bygglov;Ansökan;Bygg;Post;2024-03-05;", "x.csv:2:1: Diarienummer: empty case id"},
		{"BN 1;19811218-9876;Ansökan;Bygg;Post;2024-03-05;", "x.csv:2:2: Ärendetyp: the value looks like a personnummer; files with personal data are rejected whole"},
		{"BN 1;Bygglov;Ansökan;Bygg;811218+9876;2024-03-05;", "x.csv:2:5: Kanal: the value looks like a personnummer; files with personal data are rejected whole"},
		{"197010632391;Bygglov;Ansökan;Bygg;Post;2024-03-05;", "x.csv:2:1: Diarienummer: the value looks like a samordningsnummer; files with personal data are rejected whole"},
		{"BN 1;Bygglov;Ansökan;Bygg;Post 121212 1212;2024-03-05;", "x.csv:2:5: Kanal: the value looks like a personnummer; files with personal data are rejected whole"},
		{"19121212–1212;Bygglov;Ansökan;Bygg;Post;2024-03-05;", "x.csv:2:1: Diarienummer: the value looks like a personnummer; files with personal data are rejected whole"},
		{"BN 1;Bygglov;Ansökan;Bygg;Post;121212 1212;", "x.csv:2:6: Inkom: the value looks like a personnummer; files with personal data are rejected whole"},
		{"BN 1;Bygglov;Ansökan;" + strings.Repeat("å", 1001) + ";Post;2024-03-05;", "x.csv:2:4: Enhet: value is 1001 characters long (at most 1000)"},
		{"BN 1;Bygglov;Ansökan;Bygg;Post;2014-03-05;2024-03-06", "x.csv:2:7: Beslutad: handling time of more than 10 years (received 2014-03-05, decided 2024-03-06)"},
		{"BN 1;Bygglov;Ansökan;Bygg;Post;05/03/2024;", `x.csv:2:6: Inkom: invalid date "05/03/2024" (want YYYY-MM-DD or YYYY-MM-DD hh:mm)`},
		{"BN 1;Bygg\"lov;Ansökan;Bygg;Post;2024-03-05;", `x.csv:2: CSV syntax: bare " in non-quoted-field (at character 10)`},
	} {
		_, err := parseCases(strings.NewReader(header+c.row+"\n"), "x.csv", caseParse{opts: defaultCaseOpts(), now: fileTestNow})
		wantProblems(t, err, c.want)
	}
	// Ten and twelve digits with a wrong check digit are ordinary ids, as
	// is a ten-year handling time to the day.
	for _, r := range []string{
		"8112189875;Bygglov;Ansökan;Bygg;Post;2024-03-05;",
		"198112189875;Bygglov;Ansökan;Bygg;Post;2024-03-05;",
		"701063-2392;Bygglov;Ansökan;Bygg;Post;2024-03-05;",
		"BN 1;Bygglov;Ansökan;Bygg;Post;2014-03-05;2024-03-05",
		"BN 1;Bygglov;Ansökan;Bygg;Post;2025-06-15 12:00;2025-06-15",
	} {
		if _, err := parseCases(strings.NewReader(header+r+"\n"), "x.csv", caseParse{opts: defaultCaseOpts(), now: fileTestNow}); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
}

func TestParseCasesStopsAfterTenProblems(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("Diarienummer;Ärendetyp;Kanal;Inkom;Beslutad\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&sb, "BN %d;Bygglov;Post;not a date;\n", i)
	}
	_, err := parseCases(strings.NewReader(sb.String()), "x.csv", caseParse{opts: defaultCaseOpts(), now: fileTestNow})
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 11 || lines[10] != "(stopped after 10 problems)" || !strings.HasPrefix(lines[9], "x.csv:11:4: Inkom: invalid date") {
		t.Fatalf("errors:\n%s", err)
	}
}

func TestParseCasesColumnMapping(t *testing.T) {
	o := &CasesOptions{
		Columns:           CaseColumns{ID: "Ärendenummer", Type: "Typ", Kind: "Slag", Department: "Förvaltning", Channel: "Inkanal", Received: "Registrerad", Decided: "Avslutad"},
		DigitalChannels:   []string{"Självservice"},
		ApplicationValues: []string{"Ansökan", "Anmälan"},
	}
	data := "ärendenummer;TYP;Slag;Förvaltning;Inkanal;Registrerad;Avslutad;Handläggare\n" +
		"A-1;Bygglov;Anmälan;SBF;självservice;2024-01-02;2024-01-03;Anna\n" +
		"A-2;Bygglov;Fråga;SBF;E-tjänst;2024-01-02;;Bo\n"
	got, err := parseCases(strings.NewReader(data), "m.csv", caseParse{opts: o, now: fileTestNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Digital || !got[0].Application || got[1].Digital || got[1].Application || got[0].Department != "SBF" {
		t.Fatalf("got %+v", got)
	}
	// A configured column must exist; a missing required default is named.
	o.Columns.Kind = "Ärendeslag"
	_, err = parseCases(strings.NewReader(data), "m.csv", caseParse{opts: o, now: fileTestNow})
	wantProblems(t, err, `m.csv:1: no column "Ärendeslag" in the header (columns: ärendenummer, TYP, Slag, Förvaltning, Inkanal, Registrerad, Avslutad, Handläggare)`)
	_, err = parseCases(strings.NewReader("Diarienummer;Ärendetyp;Kanal;Inkom\n"), "m.csv", caseParse{opts: defaultCaseOpts(), now: fileTestNow})
	wantProblems(t, err, `m.csv:1: no column "Beslutad" in the header (columns: Diarienummer, Ärendetyp, Kanal, Inkom)`)
	_, err = parseCases(strings.NewReader(""), "m.csv", caseParse{opts: defaultCaseOpts(), now: fileTestNow})
	wantProblems(t, err, `m.csv: the file is empty (no header line)`)
}

func TestCasesCollect(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	good1 := copyFixture(t, "testdata/cases/arenden-2024-cp1252.csv", in)
	good2 := copyFixture(t, "testdata/cases/arenden-bom-comma.csv", in)
	bad := copyFixture(t, "testdata/cases/arenden-bad.csv", in)
	inst := instanceFrom(t, filepath.Join(dir, "malbild.yaml"),
		"name: bygg\nkind: cases_csv\ndir: in\nwatch: true\nstate_dir: state\n")
	coll, err := New(inst)
	if err != nil {
		t.Fatal(err)
	}
	coll.(*casesCollector).now = fixedNow
	sink := &batchSink{}
	prog := &fileProgress{}
	err = coll.Collect(context.Background(), Request{Tenant: "0120", Progress: prog}, sink)
	// The bad file fails the run with its problems; the good ones are written.
	if err == nil || !strings.HasPrefix(err.Error(), bad+":2:6: Inkom: invalid date") || !strings.Contains(err.Error(), bad+":12:7:") {
		t.Fatalf("err = %v", err)
	}
	if len(sink.batches) != 2 {
		t.Fatalf("%d batches written, want 2", len(sink.batches))
	}
	b1, b2 := sink.batches[0], sink.batches[1]
	if b1.Source != good1 || b2.Source != good2 || len(b1.Cases) != 5 || len(b2.Cases) != 3 {
		t.Fatalf("batches %s (%d) and %s (%d)", b1.Source, len(b1.Cases), b2.Source, len(b2.Cases))
	}
	if b1.Tenant != "0120" || b1.Collector != "bygg" || b1.Version == 0 || b2.Version <= b1.Version {
		t.Fatalf("batch fields: %+v / %+v", b1, b2)
	}
	// Files are read in name order; the row with a wrong number of fields
	// is not counted as read.
	if !reflect.DeepEqual(prog.files, []string{good1, bad, good2}) || prog.rows != 5+10+3 {
		t.Fatalf("progress: files %q rows %d", prog.files, prog.rows)
	}

	// Second run: the imported files are unchanged and skipped; the bad
	// one is tried again and still fails.
	sink2 := &batchSink{}
	if err := coll.Collect(context.Background(), Request{Tenant: "0120"}, sink2); err == nil {
		t.Fatal("the bad file passed on the second run")
	}
	if len(sink2.batches) != 0 {
		t.Fatalf("unchanged files read again: %d batches", len(sink2.batches))
	}

	// Fix the bad file and change a good one: both are read.
	writeFile(t, in, filepath.Base(bad), "Diarienummer;Ärendetyp;Kanal;Inkom;Beslutad\nX 1;Bygglov;Post;2024-01-01;\n", fileTestNow)
	writeFile(t, in, filepath.Base(good2), "Diarienummer;Ärendetyp;Kanal;Inkom;Beslutad\nX 2;Bygglov;Webb;2024-01-01;\n", fileTestNow)
	sink3 := &batchSink{}
	if err := coll.Collect(context.Background(), Request{Tenant: "0120"}, sink3); err != nil {
		t.Fatal(err)
	}
	if len(sink3.batches) != 2 || sink3.batches[0].Cases[0].ID != "X 1" || sink3.batches[1].Cases[0].ID != "X 2" {
		t.Fatalf("after changes: %d batches", len(sink3.batches))
	}
	st, err := os.ReadFile(filepath.Join(dir, "state", "cases_csv-bygg.json"))
	if err != nil || !strings.Contains(string(st), good1) {
		t.Fatalf("state file: %v\n%s", err, st)
	}

	// A deleted file leaves the state; a backfill reads every file again.
	if err := os.Remove(good1); err != nil {
		t.Fatal(err)
	}
	sink4 := &batchSink{}
	if err := coll.Collect(context.Background(), Request{Tenant: "0120", From: sthlm(2024, 1, 1, 0, 0)}, sink4); err != nil {
		t.Fatal(err)
	}
	if len(sink4.batches) != 2 {
		t.Fatalf("backfill wrote %d batches, want 2", len(sink4.batches))
	}
	st, _ = os.ReadFile(filepath.Join(dir, "state", "cases_csv-bygg.json"))
	if strings.Contains(string(st), good1) {
		t.Fatalf("deleted file still in state:\n%s", st)
	}
}

func TestCasesCollectSinkFailure(t *testing.T) {
	dir := t.TempDir()
	copyFixture(t, "testdata/cases/arenden-bom-comma.csv", dir)
	inst := instanceFrom(t, filepath.Join(dir, "malbild.yaml"), "name: bygg\nkind: cases_csv\nglob: '*.csv'\nwatch: true\nstate_dir: st\n")
	coll, err := New(inst)
	if err != nil {
		t.Fatal(err)
	}
	coll.(*casesCollector).now = fixedNow
	sink := &batchSink{err: errors.New("clickhouse down")}
	if err := coll.Collect(context.Background(), Request{Tenant: "0120"}, sink); err == nil || !strings.Contains(err.Error(), "clickhouse down") {
		t.Fatalf("err = %v", err)
	}
	// The file was not written, so the next run reads it again.
	sink.err = nil
	if err := coll.Collect(context.Background(), Request{Tenant: "0120"}, sink); err != nil || len(sink.batches) != 1 {
		t.Fatalf("retry: %v, %d batches", err, len(sink.batches))
	}
	// Canceled: nothing is read.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := coll.Collect(ctx, Request{}, &batchSink{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled run: %v", err)
	}
}

func TestCasesOptions(t *testing.T) {
	wantOptionsError(t, "name: a\nkind: cases_csv\npath: a.csv\ndigital_channels: [Webb, '']\n", "4", "digital_channels: empty value")
	wantOptionsError(t, "name: a\nkind: cases_csv\npath: a.csv\ncolumns:\n  inkom: Inkom\n", "5", `unknown key "inkom"`)
	inst := instanceFrom(t, "/etc/malbild/malbild.yaml", "name: a\nkind: cases_csv\npath: a.csv\napplication_values: [Ansökan, Anmälan]\n")
	c, err := New(inst)
	if err != nil {
		t.Fatal(err)
	}
	o := c.(*casesCollector).opts
	if o.Path != "/etc/malbild/a.csv" || len(o.ApplicationValues) != 2 || len(o.DigitalChannels) != 3 {
		t.Fatalf("options %+v", o)
	}
}

func TestCasesSample(t *testing.T) {
	c := checkFileSample(t, "cases_csv", casesSample)
	o := c.(*casesCollector).opts
	if !o.Watch || o.Columns.Received != "Inkom" || len(o.DigitalChannels) != 3 {
		t.Fatalf("sample options %+v", o)
	}
}

// casesCSV generates n rows of a realistic cases export.
func casesCSV(n int) []byte {
	var sb strings.Builder
	sb.Grow(n * 100)
	sb.WriteString("Diarienummer;Ärendetyp;Ärendeslag;Enhet;Kanal;Inkom;Beslutad\r\n")
	types := []string{"Bygglov", "Försörjningsstöd", "Skolskjuts", "Livsmedelskontroll", "Parkeringstillstånd"}
	units := []string{"Bygg- och miljöenheten", "Socialförvaltningen", "Utbildningsförvaltningen", "Miljöenheten"}
	chans := []string{"E-tjänst", "Post", "E-post", "Mina sidor", "Telefon", "Besök", "Papper", "Webb"}
	kinds := []string{"Ansökan", "Anmälan", "Ansökan", "Övrigt"}
	start := time.Date(2020, 1, 1, 8, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		recv := start.Add(time.Duration(i%1800) * 24 * time.Hour).Add(time.Duration(i%540) * time.Minute)
		dec := ""
		if i%7 != 0 {
			dec = recv.AddDate(0, 0, i%90).Format("2006-01-02")
		}
		fmt.Fprintf(&sb, "BN %d/%06d;%s;%s;%s;%s;%s;%s\r\n", 2020+i%5, i, types[i%len(types)], kinds[i%len(kinds)],
			units[i%len(units)], chans[i%len(chans)], recv.Format("2006-01-02 15:04"), dec)
	}
	return []byte(sb.String())
}

func BenchmarkParseCases(b *testing.B) {
	const n = 100000
	data := casesCSV(n)
	opts := defaultCaseOpts()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cases, err := parseCases(strings.NewReader(string(data)), "bench.csv", caseParse{opts: opts, now: fileTestNow})
		if err != nil || len(cases) != n {
			b.Fatalf("%d cases, %v", len(cases), err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func FuzzParseCases(f *testing.F) {
	for _, p := range []string{"testdata/cases/arenden-2024-cp1252.csv", "testdata/cases/arenden-bom-comma.csv", "testdata/cases/arenden-bad.csv"} {
		f.Add(readFixture(f, p))
	}
	f.Add([]byte("sep=,\nDiarienummer,Ärendetyp,Kanal,Inkom,Beslutad\n\"a\"\"b\",x,Webb,2024-01-01 00:00,2024-01-01\n"))
	opts := defaultCaseOpts()
	f.Fuzz(func(t *testing.T, data []byte) {
		cases, err := parseCases(strings.NewReader(string(data)), "f.csv", caseParse{opts: opts, now: fileTestNow})
		if err != nil && cases != nil {
			t.Fatal("cases returned with an error")
		}
		for _, c := range cases {
			if c.ID == "" || c.Received.After(fileTestNow) || (!c.Decided.IsZero() && c.Decided.After(fileTestNow)) || len(c.Type) > 4*1000 {
				t.Fatalf("invalid case accepted: %+v", c)
			}
		}
		// What the quick pass accepts, the careful pass reads the same.
		tbl, err := openCSV(strings.NewReader(string(data)), "f.csv", &opts.FileOptions, caseColumns(opts))
		if err != nil {
			return
		}
		cr := caseReader{idx: tbl.idx, now: fileTestNow, digital: foldSet(opts.DigitalChannels), application: foldSet(opts.ApplicationValues)}
		quick, _, ok := cr.quickCases(tbl, nil)
		if !ok || clickhouse.SameIDHashes(quick) {
			return
		}
		if err := tbl.rewind(); err != nil {
			t.Fatal(err)
		}
		careful, err := readCases(tbl, &cr, tbl.idx[caseID:caseChannel+1], nil)
		if err != nil || !reflect.DeepEqual(quick, careful) {
			t.Fatalf("quick pass: %+v\ncareful: %+v, %v", quick, careful, err)
		}
	})
}
