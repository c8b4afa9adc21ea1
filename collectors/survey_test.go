package collectors

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/malbild/malbild/facts"
)

func defaultSurveyOpts() *SurveyOptions {
	return &SurveyOptions{ScaleMin: 1, ScaleMax: 5, SkipValues: defaultSkipValues}
}

func TestParseSurveyWindows1252(t *testing.T) {
	name := "testdata/survey/systemenkat-cp1252.csv"
	got, err := parseSurvey(openFixture(t, name), name, surveyParse{opts: defaultSurveyOpts(), now: fileTestNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d responses, want 4 (Vet ej and empty skipped): %+v", len(got), got)
	}
	// Rows without Svars-id get an id from their content and line: two
	// identical rows stay two responses.
	for _, r := range got[2:] {
		if !strings.HasPrefix(r.ID, "h") || len(r.ID) < 10 {
			t.Fatalf("derived id %q", r.ID)
		}
	}
	if got[2].ID == got[3].ID {
		t.Fatal("identical rows on different lines got the same id")
	}
	want := []facts.SurveyResponse{
		{Survey: "Systemenkät 2024", ID: "R-00017", System: "Procapita", Group: "Handläggare", Score: 4, ScaleMin: 1, ScaleMax: 5, Answered: sthlm(2024, 10, 2, 0, 0)},
		{Survey: "Systemenkät 2024", ID: "R-00018", System: "Procapita", Group: "Chef", Score: 3.5, ScaleMin: 1, ScaleMax: 5, Answered: sthlm(2024, 10, 2, 0, 0)},
		{Survey: "Systemenkät 2024", ID: got[2].ID, System: "Lifecare", Group: "Sjuksköterska", Score: 2, ScaleMin: 1, ScaleMax: 5, Answered: sthlm(2024, 10, 4, 0, 0)},
		{Survey: "Systemenkät 2024", ID: got[3].ID, System: "Lifecare", Group: "Sjuksköterska", Score: 2, ScaleMin: 1, ScaleMax: 5, Answered: sthlm(2024, 10, 4, 0, 0)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
	// Reading the file again derives the same ids.
	again, err := parseSurvey(openFixture(t, name), name, surveyParse{opts: defaultSurveyOpts(), now: fileTestNow})
	if err != nil || again[2].ID != got[2].ID || again[3].ID != got[3].ID {
		t.Fatalf("ids not stable: %v", err)
	}
}

func TestParseSurveyBOMCommaWithoutSurveyColumn(t *testing.T) {
	name := "testdata/survey/enkat-bom-comma.csv"
	_, err := parseSurvey(openFixture(t, name), name, surveyParse{opts: defaultSurveyOpts(), now: fileTestNow})
	wantProblems(t, err, name+`:1: no column "Enkät" in the header (columns: Svars-id, System, Betyg, Datum)`)
	o := defaultSurveyOpts()
	o.Survey = "Medarbetarenkät 2025"
	got, err := parseSurvey(openFixture(t, name), name, surveyParse{opts: o, now: fileTestNow})
	if err != nil {
		t.Fatal(err)
	}
	want := []facts.SurveyResponse{
		{Survey: "Medarbetarenkät 2025", ID: "A1", System: "Procapita", Score: 5, ScaleMin: 1, ScaleMax: 5, Answered: sthlm(2025, 2, 1, 0, 0)},
		{Survey: "Medarbetarenkät 2025", ID: "A2", System: "Treserva", Score: 1.5, ScaleMin: 1, ScaleMax: 5, Answered: sthlm(2025, 2, 2, 0, 0)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseSurveyBadFile(t *testing.T) {
	name := "testdata/survey/enkat-bad.csv"
	got, err := parseSurvey(openFixture(t, name), name, surveyParse{opts: defaultSurveyOpts(), now: fileTestNow})
	if got != nil {
		t.Fatal("a rejected file returned responses")
	}
	wantProblems(t, err,
		name+`:2:5: Betyg: score 6 is outside the scale 1–5`,
		name+`:3:5: Betyg: score 0 is outside the scale 1–5`,
		name+`:4:5: Betyg: invalid number "bra"`,
		name+`:5:6: Datum: 2030-10-02 is in the future`,
		name+`:6:2: Svars-id: the value looks like a personnummer; files with personal data are rejected whole`,
		name+`:7:3: System: empty system`,
		name+`:8:2: Svars-id: response "R-1" appears twice in survey "Systemenkät 2024" (first on line 2)`,
	)
}

func TestParseSurveyScaleAndRejects(t *testing.T) {
	const header = "Enkät;Svars-id;System;Grupp;Betyg;Datum\n"
	o := &SurveyOptions{ScaleMin: 0, ScaleMax: 10, SkipValues: []string{"-"}}
	got, err := parseSurvey(strings.NewReader(header+"E;1;S;G;0;2024-01-01\nE;2;S;G;10;2024-01-01\nE;3;S;G;-;2024-01-01\n"), "s.csv", surveyParse{opts: o, now: fileTestNow})
	if err != nil || len(got) != 2 || got[1].Score != 10 || got[1].ScaleMax != 10 {
		t.Fatalf("0–10 scale: %+v, %v", got, err)
	}
	for _, c := range []struct{ row, want string }{
		{"E;1;S;G;10,5;2024-01-01", "s.csv:2:5: Betyg: score 10,5 is outside the scale 0–10"},
		{"E;1;S;G;-1;2024-01-01", "s.csv:2:5: Betyg: score -1 is outside the scale 0–10"},
		{"E;1;S;G;811218-9876;2024-01-01", "s.csv:2:5: Betyg: the value looks like a personnummer; files with personal data are rejected whole"},
		{"E;1;S;G;5;20241001", `s.csv:2:6: Datum: invalid date "20241001" (want YYYY-MM-DD or YYYY-MM-DD hh:mm)`},
		{";1;S;G;5;2024-01-01", "s.csv:2:1: Enkät: empty survey name"},
		{"E;1;S;701063-2391;5;2024-01-01", "s.csv:2:4: Grupp: the value looks like a samordningsnummer; files with personal data are rejected whole"},
	} {
		_, err := parseSurvey(strings.NewReader(header+c.row+"\n"), "s.csv", surveyParse{opts: o, now: fileTestNow})
		wantProblems(t, err, c.want)
	}
}

func TestSurveyOptions(t *testing.T) {
	wantOptionsError(t, "name: a\nkind: survey_csv\npath: a.csv\nscale_min: 5\nscale_max: 5\n", "5", "scale_max 5: want more than scale_min (5) and at most 100")
	wantOptionsError(t, "name: a\nkind: survey_csv\npath: a.csv\nscale_max: 1000\n", "4", "scale_max 1000")
	wantOptionsError(t, "name: a\nkind: survey_csv\npath: a.csv\nscale_min: -1\n", "4", "scale_min -1: want 0–100")
	wantOptionsError(t, "name: a\nkind: survey_csv\npath: a.csv\nscale_min: one\n", "4", `scale_min: want a number, found "one"`)
	c, err := New(instanceFrom(t, "/etc/malbild/malbild.yaml", "name: a\nkind: survey_csv\npath: a.csv\n"))
	if err != nil {
		t.Fatal(err)
	}
	if o := c.(*surveyCollector).opts; o.ScaleMin != 1 || o.ScaleMax != 5 || len(o.SkipValues) != 2 {
		t.Fatalf("defaults %+v", o)
	}
}

func TestSurveyCollect(t *testing.T) {
	dir := t.TempDir()
	p := copyFixture(t, "testdata/survey/systemenkat-cp1252.csv", dir)
	inst := instanceFrom(t, filepath.Join(dir, "malbild.yaml"), "name: enkat\nkind: survey_csv\npath: "+filepath.Base(p)+"\nscale_max: 5\n")
	c, err := New(inst)
	if err != nil {
		t.Fatal(err)
	}
	c.(*surveyCollector).now = fixedNow
	sink := &batchSink{}
	prog := &fileProgress{}
	if err := c.Collect(context.Background(), Request{Tenant: "0138", Progress: prog}, sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.batches) != 1 {
		t.Fatalf("%d batches", len(sink.batches))
	}
	b := sink.batches[0]
	if b.Tenant != "0138" || b.Source != p || len(b.Responses) != 4 || b.Collector != "enkat" || b.Version == 0 {
		t.Fatalf("batch %+v", b)
	}
	if prog.rows != 6 || len(prog.files) != 1 {
		t.Fatalf("progress %+v", prog)
	}
	// A missing file fails the run.
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := c.Collect(context.Background(), Request{Tenant: "0138"}, sink); err == nil {
		t.Fatal("missing file: no error")
	}
}

func TestSurveySample(t *testing.T) {
	c := checkFileSample(t, "survey_csv", surveySample)
	if o := c.(*surveyCollector).opts; o.ScaleMax != 5 || o.Columns.Score != "Betyg" {
		t.Fatalf("sample options %+v", o)
	}
}

func FuzzParseSurvey(f *testing.F) {
	for _, p := range []string{"testdata/survey/systemenkat-cp1252.csv", "testdata/survey/enkat-bom-comma.csv", "testdata/survey/enkat-bad.csv"} {
		f.Add(readFixture(f, p))
	}
	opts := defaultSurveyOpts()
	opts.Survey = "Fuzz"
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, err := parseSurvey(strings.NewReader(string(data)), "f.csv", surveyParse{opts: opts, now: fileTestNow})
		if err != nil && resp != nil {
			t.Fatal("responses returned with an error")
		}
		for _, r := range resp {
			if r.Score < 1 || r.Score > 5 || r.ID == "" || r.System == "" || r.Survey == "" || r.Answered.After(fileTestNow) {
				t.Fatalf("invalid response accepted: %+v", r)
			}
		}
	})
}
