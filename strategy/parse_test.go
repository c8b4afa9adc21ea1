package strategy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/internal/strictyaml"
)

// TestInvalid checks every rejection rule: one fixture per rule, the exact
// message and line.
func TestInvalid(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		// unknown keys
		{"unknown-key", `10: unknown key "titel" (did you mean "title"?)`},
		{"text-key", `10: unknown key "de" in text (want sv and en)`},
		{"wrong-type", `11: public: want true or false, found a list`},
		// ids
		{"duplicate-id", `9: duplicate id "area" (first used at line 6)`},
		{"duplicate-project-id", `23: duplicate id "proj" (first used at line 22)`},
		{"invalid-id", `9: invalid id "Goal_1" (want lower-case letters, digits, "-", "_" or ".", starting with a letter or digit)`},
		{"missing-id", `12: id is required`},
		{"project-unknown-goal", `23: project "proj" refers to unknown goal "gaol"`},
		// municipality
		{"kommunkod", `1: municipality code "120" is not a kommunkod (want four digits as a string, e.g. "0120")`},
		{"kommunkod-county", `1: municipality code "0220" is not a kommunkod: 02 is not a county (län) code`},
		// enumerations
		{"unknown-unit", `14: unknown unit "procent" (want one of percent, count, days, hours, minutes, index, SEK, tkr, MSEK, Mbit/s, ms)`},
		{"unknown-direction", `15: unknown direction "up" (want increase or decrease)`},
		{"unknown-rhythm", `5: unknown rhythm "monthly" (want tertial, quarter, half_year or month)`},
		{"unknown-goal-kind", `11: unknown goal kind "numeric" (want measured, milestone or qualitative)`},
		{"unknown-level", `19: unknown level "klart" (want met, partly, not_met or not_assessed)`},
		// required fields
		{"missing-title", `9: title is required`},
		{"missing-unit", `12: unit is required`},
		{"missing-direction", `12: direction is required (increase or decrease)`},
		{"milestone-without-due", `11: milestone goal "goal" needs a due date (due) or a horizon text (horizon)`},
		{"measured-without-indicators", `9: measured goal "goal" has no indicators (add indicators or set kind: qualitative)`},
		{"due-on-measured", `12: due is only for milestone goals (kind: milestone)`},
		// targets and baselines
		{"target-before-baseline", `18: target dated 2019-06-30 is before the baseline date 2019-12-31`},
		{"target-before-start", `17: target dated 2019-12-31 is before the strategy start 2020-01-01 and not after a baseline`},
		{"percent-baseline", `16: baseline 120 is outside 0–100 (unit percent)`},
		{"percent-target", `17: target "+200%" resolves to 120, which is outside 0–100 (unit percent)`},
		{"relative-without-baseline", `16: relative target "-30%" needs a baseline`},
		{"unsigned-percent", `17: target "60%": a percentage needs a sign (+60% or -60% relative to the baseline; 60 for the absolute value)`},
		{"against-direction", `17: target "-10%" moves against the indicator's direction (increase)`},
		{"duplicate-yearly", `20: duplicate yearly target for 2021 (first at line 18)`},
		// sources
		{"unknown-measure", `18: unknown measure "digital_shar" (did you mean "digital_share"?)`},
		{"unknown-param", `20: measure digital_share has no parameter "topp" (parameters: case_types, department)`},
		{"top-param", `18: measure handling_time_median: top must be a whole number of at least 1, not "0"`},
		{"empty-param", `18: measure digital_share: parameter department is empty`},
		{"unit-measure-mismatch", `14: unit percent does not match measure handling_time_median (days)`},
		{"source-two-kinds", `18: source needs exactly one of measure, series or kolada`},
		{"kolada-id", `18: invalid Kolada KPI id "n15428" (want a capital letter and five digits, e.g. N15428)`},
		// everything else
		{"freshness", `18: freshness: invalid duration "90": missing unit (use h, d, w, mo or y)`},
		{"date", `4: start: invalid date "2020-13-01" (want YYYY-MM-DD)`},
		{"end-before-start", `5: end 2019-12-31 is not after start 2020-01-01`},
		{"history-period", `19: invalid period "2021-T4" (want e.g. 2025, 2025-T2, 2025-Q3 or 2025-03)`},
		{"dimension-without-maturity", `8: dimension "e-tjanster" needs a maturity model`},
		{"unknown-dimension", `12: unknown maturity dimension "e-demokrati"`},
		{"budget-exceeded", `21: projects add up to 110 tkr, more than the programme budget 100 tkr`},
		// goal hierarchies, lifecycle, activities, programmes (issue 12)
		{"partial-date", `5: adopted: invalid date "2012-13" (want YYYY-MM-DD, YYYY-MM, YYYY, YYYY-xx-xx or unknown)`},
		{"decided-by", `5: unknown deciding body "fullmäktige" in decided_by (want kommunfullmäktige, kommunstyrelse, nämnd or ledningsgrupp)`},
		{"report-rhythm", `7: report "T1" does not fit the rhythm half_year (want H1 or year)`},
		{"report-twice", `7: report "T1" is listed twice`},
		{"upper-level", `7: unknown level "vision" of an upper goal (want inriktningsmål or mål)`},
		{"upper-parent", `7: upper goal "kf-1-1": unknown parent "kf-2" (did you mean "kf-1"?)`},
		{"upper-parent-level", `7: upper goal "kf-1-1": its parent "kf-1" is a mål, not an inriktningsmål`},
		{"upper-from-missing", `5: upper_goals_from "kf-saknas.yaml": there is no such file`},
		{"upper-from-invalid", `5: upper_goals_from "invalid-missing-title.yaml" is not a valid strategy file: testdata/invalid-missing-title.yaml:9: title is required`},
		{"upper-from-nested", `5: upper_goals_from "upper-nested.yaml" is not a valid strategy file: testdata/upper-nested.yaml:5: upper_goals_from in a file that is itself read with upper_goals_from: only one level is followed`},
		{"contributes-unknown", `15: contributes_to "kf-2": no upper goal has that id (did you mean "kf-1"?)`},
		{"contributes-without-upper", `8: contributes_to "kf-1": the strategy declares no goals of the level above (upper_goals or upper_goals_from)`},
		{"contributes-twice", `16: contributes_to "kf-1" is listed twice`},
		// strategies in succession (issue 12)
		{"follows-missing", `5: follows "plan-saknas.yaml": there is no such file`},
		{"continues-unknown", `13: continues "e-tjanster-2014": the previous plan (plan-2015.yaml) has no goal with that id (did you mean "e-tjanster-2015"?)`},
		{"continues-without-follows", `12: continues "e-tjanster-2015": the strategy follows no previous plan (add follows: the previous plan's file)`},
		{"continues-twice", `17: continues "e-tjanster-2015": line 13 continues that goal already`},
		{"ref-other-keys", `15: a goal reference (ref: goal) takes no other keys: the goal is defined once, under its first area`},
		{"ref-unknown", `15: goal reference "gaol": no goal of an area has that id`},
		{"ref-same-area", `12: goal reference "goal": the goal is defined under this area already`},
		{"ref-twice", `16: goal reference "goal" is listed twice in area "area2"`},
		{"subgoal-indicators", `15: sub-goal "sub" cannot have indicators of its own: put them on the goal "goal"`},
		{"subgoal-nested", `15: sub-goal "sub" cannot have sub-goals of its own: one level of delmål is supported`},
		{"subgoal-ref", `13: a sub-goal cannot be a reference (ref): define it here`},
		{"body-name", `13: responsible body "un" needs a name (e.g. Utbildningsnämnden)`},
		{"body-kind", `15: unknown kind "styrelse" of a responsible body (want kommunfullmäktige, kommunstyrelse, nämnd, förvaltning, bolag or ledningsgrupp)`},
		{"body-twice", `14: responsible body "un" is listed twice`},
		{"activity-dates", `16: activity "act" is due (2020) before it starts (2021-03)`},
		{"activity-status", `15: unknown activity status "påbörjad" (want ej påbörjad, pågår, klar, försenad or avbruten)`},
		{"activity-money", `16: outcome -20 is negative`},
		{"programme-area", `16: programme "prog" refers to unknown goal area "aera" (did you mean "area"?)`},
		{"programme-year", `16: invalid year "25" in years (want e.g. 2025)`},
		{"programme-year-money", `16: outcome for 2025: invalid number "mycket"`},
		{"threshold", `18: invalid threshold target "> femtio" (want a comparison and a number, e.g. > 50 or ≥ 80)`},
		{"threshold-direction", `18: threshold target "≥ 20" points against the indicator's direction (decrease)`},
		{"baseline-text", `17: baseline needs a value: write the number the text means, e.g. value: ~50 for "ett femtiotal"`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			name := "invalid-" + tc.file + ".yaml"
			s, err := Load(filepath.Join("testdata", name))
			if err == nil {
				t.Fatalf("parsed without error: %+v", s)
			}
			want := filepath.Join("testdata", name) + ":" + tc.want
			if err.Error() != want {
				t.Fatalf("error\n got: %v\nwant: %s", err, want)
			}
			var es strictyaml.Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("want one strictyaml.Errors entry, got %#v", err)
			}
		})
	}
}

// TestInvalidFixturesCovered makes sure no fixture is left out of TestInvalid.
func TestInvalidFixturesCovered(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil || len(files) < 40 {
		t.Fatalf("fixtures: %v, %d files", err, len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(f, data); err == nil {
			t.Errorf("%s parses without error", f)
		}
	}
}

// TestCollectsAllProblems checks that content problems in different parts
// of a file are all reported, in line order.
func TestCollectsAllProblems(t *testing.T) {
	_, err := Load("testdata/invalid-many.yaml")
	want := []string{
		`testdata/invalid-many.yaml:1: municipality code "12345" is not a kommunkod (want four digits as a string, e.g. "0120")`,
		`testdata/invalid-many.yaml:5: unknown rhythm "weekly" (want tertial, quarter, half_year or month)`,
		`testdata/invalid-many.yaml:12: milestone goal "goal" needs a due date (due) or a horizon text (horizon)`,
		`testdata/invalid-many.yaml:16: duplicate id "goal" (first used at line 10)`,
		`testdata/invalid-many.yaml:19: unknown direction "sideways" (want increase or decrease)`,
		`testdata/invalid-many.yaml:20: relative target "-20%" needs a baseline`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("errors\n got: %v\nwant: %s", err, strings.Join(want, "\n"))
	}
}

func TestSyntaxAndFormErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"empty", "", "f.yaml: file is empty"},
		{"syntax", "id: [a\n", "f.yaml:"},
		{"scalar document", "hello\n", `f.yaml:1: want a mapping (key: value lines), found "hello"`},
		{"two documents", "id: a\n---\nid: b\n", "f.yaml:2: more than one YAML document"},
		{"duplicate key", "id: a\nid: b\n", `f.yaml:2: mapping key "id" already defined at line 1`},
		{"unknown keys everywhere", "idd: a\nareas:\n  - id: x\n    goalz: []\n", "f.yaml:1: unknown key \"idd\" (did you mean \"id\"?)\nf.yaml:4: unknown key \"goalz\" (did you mean \"goals\"?)"},
		{"missing everything", "areas: []\n", "f.yaml:1: municipality is required\nf.yaml:1: id is required\nf.yaml:1: title is required\nf.yaml:1: start is required\nf.yaml:1: at least one goal area is required (areas)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.src))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error = %v, want prefix %q", err, tc.want)
			}
			var es strictyaml.Errors
			if !errors.As(err, &es) {
				t.Fatalf("error is %T, want strictyaml.Errors", err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load("testdata/does-not-exist.yaml"); err == nil || !strings.Contains(err.Error(), "does-not-exist.yaml") {
		t.Fatalf("missing file: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#\n", MaxFileSize/2+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.HasSuffix(err.Error(), "big.yaml: file is larger than 4 MiB") {
		t.Fatalf("big file: %v", err)
	}
}

// minimal is a valid strategy the smaller tests extend.
const minimal = `municipality: {code: "0120", name: Värmdö kommun}
id: test
title: Test
start: 2020-01-01
areas:
  - id: area
    title: Område
    goals:
      - id: goal
        title: Mål
        public: true
        owner: IT-enheten
        indicators:
          - id: ind
            title: Indikator
            unit: count
            direction: increase
            baseline: {value: 50, date: 2019-12-31}
`

func mustParse(t *testing.T, src string) *Strategy {
	t.Helper()
	s, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return s
}

func TestText(t *testing.T) {
	src := strings.Replace(minimal, "title: Test\n", `title: Bara svenska
vision:
  sv: "  Vision  "
  en: Vision in English
description: >
  Flera
  rader
`, 1)
	s := mustParse(t, src)
	if s.Title != (Text{SV: "Bara svenska"}) {
		t.Errorf("plain title = %+v", s.Title)
	}
	if s.Vision != (Text{SV: "Vision", EN: "Vision in English"}) {
		t.Errorf("mapping vision = %+v", s.Vision)
	}
	if s.Description.SV != "Flera rader" {
		t.Errorf("folded description = %q", s.Description.SV)
	}
	if got := s.Vision.In("en"); got != "Vision in English" {
		t.Errorf("In(en) = %q", got)
	}
	if got := s.Title.In("en"); got != "Bara svenska" {
		t.Errorf("In(en) without English = %q", got)
	}

	for _, tc := range []struct{ title, want string }{
		{"title: {en: Only English}", "t.yaml:3: text needs a Swedish version (sv)"},
		{"title: [a, b]", "t.yaml:3: text must be a string or a mapping with sv and en"},
		{"title: {sv: [a]}", `t.yaml:3: text "sv" must be a string`},
		{"title: \"\"", "t.yaml:3: title is required"},
	} {
		_, err := Parse("t.yaml", []byte(strings.Replace(minimal, "title: Test", tc.title, 1)))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error = %v, want %s", tc.title, err, tc.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	s := mustParse(t, minimal+`          - id: internal
            title: Intern
            unit: percent
            direction: decrease
            public: false
            owner: Ekonomi
            targets:
              - {date: 2021-12-31, value: 20}
      - id: milestone
        title: Milstolpe
        due: 2021-06-30
        done: 2021-05-02
`)
	if s.Rhythm != RhythmTertial || s.RollUp != "strict" || s.Municipality.Slug != "varmdo" {
		t.Errorf("rhythm %q, roll_up %q, slug %q", s.Rhythm, s.RollUp, s.Municipality.Slug)
	}
	ind := s.Indicator("ind")
	if !ind.Public || ind.Owner != "IT-enheten" || ind.Weight != 1 || ind.GoalID != "goal" {
		t.Errorf("inherited: public %v, owner %q, weight %v, goal %q", ind.Public, ind.Owner, ind.Weight, ind.GoalID)
	}
	if ind.Freshness != 155*24*time.Hour {
		t.Errorf("freshness = %v, want 155 days for a tertial rhythm", ind.Freshness)
	}
	if ind.Source.Series != "ind" || ind.Source.Measure != "" || ind.Source.Params != nil || ind.Series() != "ind" {
		t.Errorf("source = %+v, series %q", ind.Source, ind.Series())
	}
	if ind.Tolerance != 0 {
		t.Errorf("tolerance without targets = %v", ind.Tolerance)
	}
	in := s.Indicator("internal")
	if in.Public || in.Owner != "Ekonomi" {
		t.Errorf("overrides: public %v, owner %q", in.Public, in.Owner)
	}
	if in.Tolerance != 1 { // 5 % of |20 - 0|, no baseline
		t.Errorf("default tolerance = %v, want 1", in.Tolerance)
	}
	m := s.Goal("milestone")
	if m.Kind != GoalMilestone || m.Public || m.Milestone == nil || m.Milestone.Due != date(2021, 6, 30) ||
		m.Milestone.Done == nil || *m.Milestone.Done != date(2021, 5, 2) {
		t.Errorf("milestone = %+v %+v", m, m.Milestone)
	}
	if s.Goal("goal").Line != 9 || ind.Line != 14 || s.Area("area").Line != 6 {
		t.Errorf("lines: goal %d, indicator %d, area %d", s.Goal("goal").Line, ind.Line, s.Area("area").Line)
	}

	// An unquoted kommunkod keeps its leading zero.
	if got := mustParse(t, strings.Replace(minimal, `code: "0120"`, "code: 0120", 1)).Municipality.Code; got != "0120" {
		t.Errorf("unquoted code = %q", got)
	}
	q := mustParse(t, strings.Replace(minimal, "start: 2020-01-01\n", "start: 2020-01-01\nrhythm: quarter\n", 1))
	if got := q.Indicator("ind").Freshness; got != 124*24*time.Hour {
		t.Errorf("quarter freshness = %v", got)
	}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestRelativeTargets(t *testing.T) {
	for _, tc := range []struct {
		spec, canon string
		unit        string
		baseline    float64
		want        float64
	}{
		{"80", "80", "percent", 40, 80},
		{"-30%", "-30%", "days", 42, 29.4},
		{"−30 %", "-30%", "days", 42, 29.4}, // U+2212 minus and a space, as Swedish documents write it
		{"+10%", "+10%", "count", 50, 55},
		{`"+30"`, "+30", "count", 50, 80},
		{"+30", "+30", "count", 50, 80}, // unquoted: the sign still means a change
		{"-5", "-5", "count", 50, 45},
		{"halve", "halve", "count", 1600000, 800000},
		{"Halve", "halve", "count", 7, 3.5},
		{"double", "double", "count", 6000, 12000},
		{"12,5", "12.5", "hours", 20, 12.5},
		{"1 600 000", "1600000", "count", 2000000, 1600000},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			dir := "increase"
			if tc.want < tc.baseline {
				dir = "decrease"
			}
			src := strings.NewReplacer("unit: count", "unit: "+tc.unit, "direction: increase", "direction: "+dir,
				"value: 50,", "value: "+formatNumber(tc.baseline)+",").Replace(minimal) +
				"            target_3y: " + tc.spec + "\n"
			s := mustParse(t, src)
			tg := s.Indicator("ind").Targets
			if len(tg) != 1 {
				t.Fatalf("targets = %+v", tg)
			}
			if tg[0].Value != tc.want || tg[0].Spec != tc.canon {
				t.Errorf("value %v spec %q, want %v %q", tg[0].Value, tg[0].Spec, tc.want, tc.canon)
			}
			if _, err := ParseNumber(tc.canon); tg[0].Relative() != (err != nil || strings.ContainsAny(tc.canon, "+-")) {
				t.Errorf("Relative() = %v for %q", tg[0].Relative(), tc.canon)
			}
		})
	}
}

func TestConvenienceTargets(t *testing.T) {
	s := mustParse(t, minimal+`            target_3y: "+30"
            target_5y: double
            yearly: {2021: 60, 2022: "+20"}
            tolerance: 2
`)
	ind := s.Indicator("ind")
	want := []Target{
		{Date: date(2021, 12, 31), Value: 60, Spec: "60", Kind: TargetYearly, Label: "2021"},
		{Date: date(2022, 12, 31), Value: 80, Spec: "+30", Kind: TargetHorizon, Label: "3 år", Years: 3},
		{Date: date(2022, 12, 31), Value: 70, Spec: "+20", Kind: TargetYearly, Label: "2022"},
		{Date: date(2024, 12, 31), Value: 100, Spec: "double", Kind: TargetHorizon, Label: "5 år", Years: 5},
	}
	if len(ind.Targets) != len(want) {
		t.Fatalf("targets = %+v", ind.Targets)
	}
	for i := range want {
		if ind.Targets[i] != want[i] {
			t.Errorf("target %d = %+v, want %+v", i, ind.Targets[i], want[i])
		}
	}
	h := ind.HorizonTargets()
	if len(h) != 2 || h[0].Years != 3 || h[1].Years != 5 {
		t.Errorf("HorizonTargets = %+v", h)
	}
	if ind.Tolerance != 2 {
		t.Errorf("tolerance = %v", ind.Tolerance)
	}
	// A target before the strategy start is fine when it lies after the baseline.
	early := strings.Replace(minimal, "date: 2019-12-31}", "date: 2019-06-30}", 1)
	if got := mustParse(t, early+"            targets: [{date: 2019-12-31, value: 52}]\n").Indicator("ind").Targets; len(got) != 1 {
		t.Errorf("early target = %+v", got)
	}
}

func TestYearlyTargetVersions(t *testing.T) {
	s := mustParse(t, minimal+`            targets:
              - {date: 2025-12-31, value: 60, kind: yearly, decided: 2024-11-20}
              - {date: 2025-12-31, value: 65, kind: yearly, decided: 2025-06-12, label: "2025 (reviderat)"}
              - {date: 2026-12-31, value: 70, kind: yearly}
              - {date: 2027-12-31, value: 90, years: 7}
`)
	ind := s.Indicator("ind")
	for _, tc := range []struct {
		year int
		at   time.Time
		want float64
		ok   bool
	}{
		{2025, date(2024, 6, 1), 0, false},   // not decided yet
		{2025, date(2024, 11, 20), 60, true}, // the decision day
		{2025, date(2025, 3, 1), 60, true},   // T1: the first version
		{2025, date(2025, 6, 12), 65, true},  // changed mid-year
		{2025, date(2026, 2, 1), 65, true},   // later on, the revised version
		{2026, date(2020, 1, 1), 70, true},   // no decided date: in force from the start
		{2027, date(2030, 1, 1), 0, false},   // 2027 has only a horizon target
		{2024, time.Now().AddDate(9, 0, 0), 0, false},
	} {
		got, ok := ind.YearlyTarget(tc.year, tc.at)
		if ok != tc.ok || got.Value != tc.want {
			t.Errorf("YearlyTarget(%d, %s) = %v, %v; want %v, %v", tc.year, day(tc.at), got.Value, ok, tc.want, tc.ok)
		}
	}
	if got, _ := ind.YearlyTarget(2025, date(2025, 7, 1)); got.Label != "2025 (reviderat)" {
		t.Errorf("label = %q", got.Label)
	}
	if h := ind.HorizonTargets(); len(h) != 1 || h[0].Label != "7 år" {
		t.Errorf("horizon = %+v", h)
	}
	// The same year decided on the same day twice is a duplicate.
	_, err := Parse("t.yaml", []byte(minimal+`            targets:
              - {date: 2025-12-31, value: 60, kind: yearly, decided: 2024-11-20}
              - {date: 2025-06-30, value: 65, kind: yearly, decided: 2024-11-20}
`))
	if err == nil || err.Error() != "t.yaml:21: duplicate yearly target for 2025 decided 2024-11-20 (first at line 20)" {
		t.Errorf("duplicate version: %v", err)
	}
}

func TestLookups(t *testing.T) {
	s := mustParse(t, minimal+`      - id: second
        title: Andra
        kind: qualitative
  - id: area2
    title: Område 2
    goals:
      - id: third
        title: Tredje
        public: true
        indicators:
          - {id: a2, title: A2, unit: index, direction: increase, source: {kolada: N15428}}
          - {id: a1, title: A1, unit: percent, direction: increase, source: {measure: digital_share}}
programmes:
  - id: prog
    title: Program
    projects:
      - {id: p1, title: P1, budget: 10.5, goals: [third, goal]}
      - {id: p2, title: P2, budget: 4, goals: [third]}
`)
	var ids []string
	for _, ind := range s.Indicators() {
		ids = append(ids, ind.ID)
	}
	if strings.Join(ids, ",") != "ind,a2,a1" {
		t.Errorf("Indicators() = %v", ids)
	}
	ids = nil
	for _, g := range s.Goals() {
		ids = append(ids, g.ID)
	}
	if strings.Join(ids, ",") != "goal,second,third" {
		t.Errorf("Goals() = %v", ids)
	}
	ids = nil
	for _, g := range s.PublicGoals() {
		ids = append(ids, g.ID)
	}
	if strings.Join(ids, ",") != "goal,third" {
		t.Errorf("PublicGoals() = %v", ids)
	}
	if s.Goal("third").AreaID != "area2" || s.AreaOf(s.Goal("third")) != s.Area("area2") {
		t.Errorf("area of third")
	}
	if g := s.GoalOf(s.Indicator("a1")); g == nil || g.ID != "third" {
		t.Errorf("GoalOf(a1) = %v", g)
	}
	if s.Goal("nope") != nil || s.Indicator("nope") != nil || s.Area("nope") != nil || s.GoalOf(nil) != nil {
		t.Errorf("unknown ids should give nil")
	}
	if s.Indicator("a2").Series() != "" || s.Indicator("a1").Series() != "" {
		t.Errorf("measure and Kolada indicators have no series")
	}
	if p := s.Programmes[0]; p.Budget == nil || *p.Budget != 14.5 || len(p.Projects) != 2 || p.Projects[0].ProgrammeID != "prog" {
		t.Errorf("programme = %+v", p)
	}
	if got := s.ProjectsFor("third"); len(got) != 2 {
		t.Errorf("ProjectsFor(third) = %v", got)
	}
	if got := s.ProjectsFor("goal"); len(got) != 1 || got[0].ID != "p1" {
		t.Errorf("ProjectsFor(goal) = %v", got)
	}
}

func TestMaturity(t *testing.T) {
	s := mustParse(t, strings.Replace(minimal, "start: 2020-01-01\n", `start: 2020-01-01
maturity:
  name: {sv: Digital mognad, en: Digital maturity}
  dimensions:
    - {id: area, title: Område}
    - {id: survey-only, title: Enkät, survey: mognadsenkat, survey_share: 0.4}
`, 1))
	if s.Area("area").Dimension != "area" {
		t.Errorf("dimension defaults to the area id when it names a dimension: %q", s.Area("area").Dimension)
	}
	d := s.Maturity.Dimensions[1]
	if d.Survey != "mognadsenkat" || d.SurveyShare != 0.4 {
		t.Errorf("dimension = %+v", d)
	}
	for _, tc := range []struct{ dim, want string }{
		{"{id: x, title: X, survey: s}", "survey needs a survey_share (0–1)"},
		{"{id: x, title: X, survey: s, survey_share: 1.5}", "survey_share 1.5 is outside 0–1"},
		{"{id: x, title: X, survey_share: 0.5}", "survey_share needs a survey series"},
	} {
		src := strings.Replace(minimal, "start: 2020-01-01\n", "start: 2020-01-01\nmaturity:\n  name: M\n  dimensions:\n    - "+tc.dim+"\n", 1)
		_, err := Parse("t.yaml", []byte(src))
		if err == nil || err.Error() != "t.yaml:8: "+tc.want {
			t.Errorf("%s: %v", tc.dim, err)
		}
	}
}

func TestHistoryAndDropped(t *testing.T) {
	s := mustParse(t, strings.Replace(minimal, "        owner: IT-enheten\n", `        owner: IT-enheten
        history:
          - {period: "2016", level: met, comment: "  Klart.  "}
          - {period: T2 2017, level: partly}
        dropped: {date: 2017-09-01, note: Ej prioriterat}
`, 1))
	g := s.Goal("goal")
	if len(g.History) != 2 || g.History[0].Period != (Period{Kind: Year, Year: 2016}) || g.History[0].Comment != "Klart." ||
		g.History[1].Period != (Period{Kind: Tertial, Year: 2017, N: 2}) || g.History[1].Level != LevelPartly {
		t.Errorf("history = %+v", g.History)
	}
	if g.Dropped == nil || g.Dropped.Date != date(2017, 9, 1) || g.Dropped.Note != "Ej prioriterat" {
		t.Errorf("dropped = %+v", g.Dropped)
	}
}

// loadExample parses one of the shipped example strategies.
func loadExample(t *testing.T, name string) *Strategy {
	t.Helper()
	s, err := Load(filepath.Join("..", "examples", "strategies", name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

func near(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }

func TestExampleVarmdo(t *testing.T) {
	s := loadExample(t, "varmdo.yaml")
	if s.Municipality.Code != "0120" || s.Rhythm != RhythmTertial || len(s.Areas) != 3 || len(s.Maturity.Dimensions) != 3 {
		t.Fatalf("strategy = %+v", s)
	}
	for _, a := range s.Areas {
		if a.Dimension != a.ID {
			t.Errorf("area %s dimension %q", a.ID, a.Dimension)
		}
	}
	ht := s.Indicator("handlaggningstid-20-vanligaste")
	if ht.Source.Measure != "handling_time_median" || ht.Source.Params["top"] != "20" || ht.Direction != Decrease {
		t.Errorf("handling time source %+v", ht.Source)
	}
	h := ht.HorizonTargets()
	if len(h) != 2 || !near(h[0].Value, ht.Baseline.Value*0.7) || !near(h[1].Value, ht.Baseline.Value*0.5) ||
		h[0].Date != date(2013, 4, 30) || h[1].Date != date(2015, 4, 30) || h[0].Label != "3 år" {
		t.Errorf("handling time targets = %+v (baseline %v)", h, ht.Baseline.Value)
	}
	if !near(h[0].Value, 29.4) {
		t.Errorf("-30%% of 42 days = %v", h[0].Value)
	}
	measures := map[string]bool{}
	kolada := 0
	for _, ind := range s.Indicators() {
		measures[ind.Source.Measure] = true
		if ind.Source.Kolada != "" {
			kolada++
		}
	}
	for _, m := range []string{"digital_share", "handling_time_median", "eservices_active", "satisfaction_mean", "availability_uptime"} {
		if !measures[m] {
			t.Errorf("measure %s not used", m)
		}
	}
	if kolada == 0 {
		t.Errorf("no Kolada indicator")
	}
	milestones := 0
	for _, g := range s.Goals() {
		if g.Kind == GoalMilestone {
			milestones++
			if g.Milestone.Due != date(2011, 12, 31) {
				t.Errorf("%s due %v", g.ID, g.Milestone.Due)
			}
		}
	}
	if milestones != 3 {
		t.Errorf("milestones = %d, want 3", milestones)
	}
	internal := 0
	for _, ind := range s.Indicators() {
		if !ind.Public {
			internal++
		}
	}
	if internal < 2 || internal > len(s.Indicators())/2 {
		t.Errorf("internal indicators = %d of %d", internal, len(s.Indicators()))
	}
	ds := s.Indicator("andel-ansokningar-e-tjanst")
	if got, _ := ds.YearlyTarget(2012, date(2012, 3, 1)); got.Value != 60 {
		t.Errorf("2012 target in March = %v", got.Value)
	}
	if got, _ := ds.YearlyTarget(2012, date(2012, 9, 1)); got.Value != 65 {
		t.Errorf("2012 target in September = %v", got.Value)
	}
	for _, ind := range s.Indicators() {
		if len(ind.Targets) > 0 && ind.Source.Kolada == "" && !hasYearly(ind) && ind.ID != "antal-e-tjanster" && ind.ID != "tillganglighet-e-tjanster" && ind.ID != "nojdhet-verksamhetssystem" {
			t.Errorf("%s: core indicator without yearly targets", ind.ID)
		}
	}
}

func hasYearly(ind *Indicator) bool {
	for _, t := range ind.Targets {
		if t.Kind == TargetYearly {
			return true
		}
	}
	return false
}

func TestExampleMolndal(t *testing.T) {
	s := loadExample(t, "molndal.yaml")
	if s.Municipality.Code != "1481" || s.Adopted != date(2012, 12, 12) || len(s.Areas) != 3 {
		t.Fatalf("strategy = %+v", s)
	}
	levels := map[Level]int{}
	for _, g := range s.Goals() {
		if len(g.History) == 0 && g.ID != "it-kostnad-andel" {
			t.Errorf("%s has no recorded status", g.ID)
		}
		for _, h := range g.History {
			levels[h.Level]++
		}
	}
	for _, l := range []Level{LevelMet, LevelPartly, LevelNotMet, LevelNotAssessed} {
		if levels[l] == 0 {
			t.Errorf("no %s in history: %v", l, levels)
		}
	}
	sla := s.Goal("sla-alla-system")
	if sla.Dropped == nil || sla.Dropped.Date != date(2016, 2, 18) || !strings.Contains(sla.Dropped.Note, "Ej prioriterat") {
		t.Errorf("SLA goal dropped = %+v", sla.Dropped)
	}
	if v := s.Indicator("it-leverantorer-2014").Targets[0].Value; v != 120 {
		t.Errorf("suppliers -20%% of 150 = %v", v)
	}
	if v := s.Indicator("it-leverantorer-2016").Targets[0].Value; v != 75 {
		t.Errorf("suppliers -50%% of 150 = %v", v)
	}
	if s.Indicator("it-leverantorer-2014").Series() != "it-leverantorer" || s.Indicator("it-leverantorer-2016").Series() != "it-leverantorer" {
		t.Errorf("near and long supplier indicators should share a series")
	}
	sys := s.Indicator("andel-system-betyg-4-5")
	if sys.Source.Measure != "satisfaction_systems_top_share" || sys.Targets[0].Value != 50 {
		t.Errorf("systems rated 4-5 = %+v", sys)
	}
	if g := s.Goal("minst-20-e-tjanster"); g.Horizon != "near" || s.GoalOf(g.Indicators[0]) != g || g.Indicators[0].Targets[0].Value != 20 {
		t.Errorf("e-services goal = %+v", g)
	}
	if s.Indicator("system-med-sso-2016").Targets[0].Value != 30 || s.Indicator("system-med-sso-2014").Targets[0].Value != 10 {
		t.Errorf("SSO targets")
	}
	if s.Indicator("andel-forvaltningar-bpmn-2016").Targets[0].Value != 100 {
		t.Errorf("BPMN long-term target")
	}
	if got := s.Indicator("it-kostnad-andel-av-omsattning"); got.Baseline.Value != 1.7 || got.Targets[0].Value != 2.0 {
		t.Errorf("IT spend = %+v", got)
	}
}

func TestExampleNorrtalje(t *testing.T) {
	s := loadExample(t, "norrtalje.yaml")
	if s.Municipality.Code != "0188" || s.Rhythm != RhythmQuarter || s.RollUp != "majority" {
		t.Fatalf("strategy = %+v", s)
	}
	budgets := map[string]float64{"superservice": 6300, "arbetsplats-2-0": 2200, "gransloes-infrastruktur": 4000, "digital-verksamhet": 11000}
	var total float64
	projects := 0
	for _, p := range s.Programmes {
		if p.Budget == nil || budgets[p.ID] != *p.Budget {
			t.Errorf("programme %s budget %v", p.ID, p.Budget)
		}
		var sum float64
		for _, pr := range p.Projects {
			sum += *pr.Budget
			projects++
		}
		if sum != *p.Budget {
			t.Errorf("programme %s: projects add up to %v, budget %v", p.ID, sum, p.Budget)
		}
		total += *p.Budget
	}
	if len(s.Programmes) != 4 || projects != 22 || total != 23500 {
		t.Errorf("%d programmes, %d projects, %v tkr", len(s.Programmes), projects, total)
	}
	for id, want := range map[string]float64{
		"inkommande-telefonsamtal":       800000,
		"antal-e-tjanster":               80,
		"nedladdningar-norrtaljeappen":   8000,
		"verksamheter-direkt-feedback":   5,
		"verksamheter-visuell-styrning":  4,
		"antal-automatiserade-processer": 15,
		"andel-pdf-blanketter-omgjorda":  100,
	} {
		ind := s.Indicator(id)
		if ind == nil || len(ind.Targets) != 1 || ind.Targets[0].Value != want {
			t.Errorf("%s targets = %+v, want %v", id, ind, want)
		}
	}
	if s.Indicator("inkommande-telefonsamtal").Targets[0].Spec != "halve" {
		t.Errorf("calls target spec")
	}
	var names []string
	for _, p := range s.ProjectsFor("halvera-samtal") {
		names = append(names, p.ID)
	}
	if strings.Join(names, ",") != "framtidens-webb,chat" {
		t.Errorf("projects for halving calls = %v", names)
	}
}

// TestRoundTrip formats each example and parses it again: the strategy
// must come back unchanged.
func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"varmdo.yaml", "molndal.yaml", "norrtalje.yaml", "ils-kf.yaml", "ils-utbildningsnamnden.yaml", "ils-it-plan.yaml", "grastorp-e-strategi.yaml"} {
		t.Run(name, func(t *testing.T) {
			s := loadExample(t, name)
			out, err := Format(s)
			if err != nil {
				t.Fatal(err)
			}
			// Named as the example, so that upper_goals_from resolves.
			back, err := Parse(filepath.Join("..", "examples", "strategies", name), out)
			if err != nil {
				t.Fatalf("formatted file does not parse: %v\n%s", err, out)
			}
			a, _ := json.Marshal(s)
			b, _ := json.Marshal(back)
			if string(a) != string(b) {
				t.Fatalf("round trip changed the strategy\nbefore: %s\nafter:  %s", a, b)
			}
			again, err := Format(back)
			if err != nil || string(again) != string(out) {
				t.Fatalf("Format is not stable: %v", err)
			}
		})
	}
}

// TestDocExample parses the commented example in docs/strategy-format.md,
// so the documentation cannot drift from the parser.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/strategy-format.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml example in the document")
	}
	s, err := Parse("strategy-format.md", []byte(example))
	if err != nil {
		t.Fatalf("documented example: %v", err)
	}
	ind := s.Indicator("andel-ansokningar-e-tjanst")
	if got, _ := ind.YearlyTarget(2012, date(2012, 7, 1)); got.Value != 65 {
		t.Errorf("2012 target after the June decision = %v", got.Value)
	}
	if got, _ := ind.YearlyTarget(2012, date(2012, 1, 1)); got.Value != 60 {
		t.Errorf("2012 target before it = %v", got.Value)
	}
	if len(s.Programmes) != 1 || s.Goal("sla-alla-system").Dropped == nil || s.Area("e-tjanster").Dimension != "e-tjanster" {
		t.Errorf("example = %+v", s)
	}
}

func TestSlugAndRollUp(t *testing.T) {
	for name, want := range map[string]string{
		"Värmdö kommun": "varmdo", "Mölndals stad": "molndals", "Norrtälje kommun": "norrtalje",
		"Upplands Väsby kommun": "upplands-vasby", "  Håbo  ": "habo", "Malung-Sälens kommun": "malung-salens",
	} {
		if got := Slugify(name); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", name, got, want)
		}
	}
	for _, tc := range []struct{ replace, want string }{
		{"roll_up: weighted", `t.yaml:5: unknown roll_up rule "weighted" (want majority or strict)`},
		{"roll_up: majority", ""},
		{"municipality: {code: \"0120\", name: X, slug: Bad_Slug}", `t.yaml:5: invalid slug "Bad_Slug" (want lower-case letters and digits separated by "-")`},
	} {
		src := minimal
		if strings.HasPrefix(tc.replace, "municipality") {
			src = strings.Replace(src, "municipality: {code: \"0120\", name: Värmdö kommun}\n", "", 1) + tc.replace + "\n"
			tc.want = strings.Replace(tc.want, ":5:", fmt.Sprintf(":%d:", strings.Count(src, "\n")), 1)
		} else {
			src = strings.Replace(src, "start: 2020-01-01\n", "start: 2020-01-01\n"+tc.replace+"\n", 1)
		}
		_, err := Parse("t.yaml", []byte(src))
		if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || err.Error() != tc.want)) {
			t.Errorf("%s: error = %v, want %q", tc.replace, err, tc.want)
		}
	}
}
