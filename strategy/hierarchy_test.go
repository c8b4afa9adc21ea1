package strategy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// rich uses every key of goal hierarchies (issue 12).
const rich = `municipality: {code: "0180", name: Stockholms stad}
id: plan
title: Nämndplan
adopted: 2012-xx-xx
decided_by: Kommunfullmaktige
owner: IT-direktören
start: 2025-01-01
end: 2026-12-31
rhythm: half_year
reports: [year, H1]
upper_goals:
  - {id: kf-1, level: inriktningsmål, title: En hållbar stad}
  - {id: kf-1-1, parent: kf-1, title: Digitala tjänster}
areas:
  - id: a
    title: A
    contributes_to: [kf-1]
    goals:
      - id: shared
        title: Delat mål
        kind: qualitative
        owner: Stadsledningskontoret
        contributes_to: [kf-1-1]
        bodies:
          - {id: un, name: Utbildningsnämnden, kind: nämnd}
          - {id: sv, name: Stockholm Vatten AB, kind: bolag}
        subgoals:
          - {id: sub-1, title: Delmål 1}
          - {id: sub-2, title: Delmål 2, due: 2026}
        criteria:
          - {id: crit-1, title: Kriterium 1}
        activities:
          - id: act-1
            title: Införa e-arkiv
            responsible: Arkivet
            start: 2025-03
            due: 2025-12-15
            status: pågår
            budget: 1 200
          - {id: act-2, title: Förstudie, status: ej påbörjad, budget: unknown}
      - id: long
        title: Långsiktigt mål
        kind: milestone
        horizon: på lång sikt
      - id: m
        title: Mätt mål
        indicators:
          - id: ind
            title: Andel
            unit: percent
            direction: increase
            baseline: {value: ca 50, text: ett femtiotal, date: 2024-12-31}
            targets:
              - {date: 2026-12-31, value: '≥ 80'}
              - {date: 2025-12-31, value: '> 60'}
  - id: b
    title: B
    goals:
      - ref: shared
programmes:
  - id: prog
    title: Program
    areas: [a, b]
    years:
      2025: {budget: 1000, outcome: 800}
      2026: {budget: 1200}
    projects:
      - {id: p1, title: P1, budget: 500, goals: [shared]}
      - {id: p2, title: P2, goals: [sub-1]}
`

func TestGoalHierarchyFormat(t *testing.T) {
	s, err := Parse("plan.yaml", []byte(rich))
	if err != nil {
		t.Fatal(err)
	}
	if s.AdoptedOn.String() != "2012" || !s.Adopted.IsZero() || s.DecidedBy != BodyCouncil || s.Owner != "IT-direktören" {
		t.Errorf("lifecycle: adopted %q (%v), decided by %q, owner %q", s.AdoptedOn, s.Adopted, s.DecidedBy, s.Owner)
	}
	if s.Rhythm != RhythmHalfYear || len(s.Reports) != 2 || s.Reports[0] != 1 || s.Reports[1] != 0 {
		t.Errorf("rhythm %s, reports %v", s.Rhythm, s.Reports)
	}
	if !s.Reported(Period{Kind: HalfYear, Year: 2025, N: 1}) || !s.Reported(Period{Kind: Year, Year: 2025}) {
		t.Errorf("H1 and the full year are reported")
	}
	if u := s.UpperGoal("kf-1-1"); u == nil || u.Level != UpperLevelGoal || u.Parent != "kf-1" {
		t.Errorf("upper goal = %+v", u)
	}
	g := s.Goal("shared")
	if len(s.Goals()) != 3 || len(s.AllGoals()) != 5 || len(s.AreasOf(g)) != 2 || s.Area("b").Refs[0] != "shared" {
		t.Errorf("%d goals, %d with sub-goals, shared under %d areas", len(s.Goals()), len(s.AllGoals()), len(s.AreasOf(g)))
	}
	if len(g.Bodies) != 2 || g.Bodies[1].Kind != BodyCompany || len(s.Bodies()) != 2 {
		t.Errorf("bodies = %+v", g.Bodies)
	}
	if sg := s.Goal("sub-2"); sg == nil || sg.ParentID != "shared" || sg.Kind != GoalMilestone || day(sg.Milestone.Due) != "2026-12-31" || sg.Owner != "Stadsledningskontoret" {
		t.Errorf("sub-goal = %+v", sg)
	}
	if s.Goal("sub-1").Kind != GoalQualitative || s.Criterion("crit-1") == nil {
		t.Errorf("sub-goal without indicators is qualitative; criterion found")
	}
	acts := s.Activities()
	if len(acts) != 2 || acts[0].Status != ActivityOngoing || *acts[0].Budget != 1200 || acts[0].Outcome != nil ||
		acts[0].Start.String() != "2025-03" || acts[0].Due.String() != "2025-12-15" || acts[1].Budget != nil || acts[1].Status.Label("sv") != "ej påbörjad" {
		t.Errorf("activities = %+v %+v", acts[0], acts[1])
	}
	if m := s.Goal("long").Milestone; m == nil || !m.Due.IsZero() || s.Goal("long").Horizon != "på lång sikt" {
		t.Errorf("milestone without date = %+v", m)
	}
	ind := s.Indicator("ind")
	if !ind.Baseline.Approx || ind.Baseline.Value != 50 || ind.Baseline.Text != "ett femtiotal" {
		t.Errorf("baseline = %+v", ind.Baseline)
	}
	if ind.Targets[0].Op != ">" || ind.Targets[0].Spec != "> 60" || ind.Targets[1].Op != ">=" || ind.Targets[1].Value != 80 {
		t.Errorf("targets = %+v", ind.Targets)
	}
	p := s.Programme("prog")
	if p.Budget != nil || len(p.Areas) != 2 || *p.Year(2025).Outcome != 800 || p.Year(2026).Outcome != nil || p.Year(2030).Budget != nil {
		t.Errorf("programme = %+v (a project without a budget leaves the frame unknown)", p)
	}
	if got := s.Contributors("kf-1"); len(got) != 3 {
		t.Errorf("kf-1 has %d contributors, want the three goals of area a", len(got))
	}

	// Unknown is null, never 0 or year 1.
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"adopted":"2012"`, `"budget":null`, `"outcome":null`, `"due":"2025-12-15"`, `"start":"2025-03"`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
	if strings.Contains(string(js), "0001-01-01") {
		t.Errorf("JSON has the zero date: %s", js)
	}

	// The JSON reads back.
	var fromJSON Strategy
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if fromJSON.AdoptedOn.String() != "2012" || fromJSON.Programme("prog").Year(2025).Outcome == nil {
		t.Errorf("from JSON: adopted %q", fromJSON.AdoptedOn)
	}
	if again, _ := json.Marshal(&fromJSON); string(again) != string(js) {
		t.Errorf("JSON round trip changed the strategy\nbefore: %s\nafter:  %s", js, again)
	}

	// Format writes it all back.
	out, err := Format(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("plan.yaml", out)
	if err != nil {
		t.Fatalf("formatted file does not parse: %v\n%s", err, out)
	}
	b1, _ := json.Marshal(back)
	if string(b1) != string(js) {
		t.Errorf("round trip changed the strategy\nbefore: %s\nafter:  %s", js, b1)
	}
}

func TestUpperGoalsFromFile(t *testing.T) {
	dir := t.TempDir()
	kf := "municipality: {code: \"0180\", name: Stockholms stad}\nid: kf\ntitle: KF\nstart: 2025-01-01\nareas:\n  - id: hallbar\n    title: En hållbar stad\n    goals:\n      - {id: digital, title: Digitala tjänster, kind: qualitative}\n"
	os.WriteFile(filepath.Join(dir, "kf.yaml"), []byte(kf), 0o644)
	plan := strings.Replace(rich, "upper_goals:\n  - {id: kf-1, level: inriktningsmål, title: En hållbar stad}\n  - {id: kf-1-1, parent: kf-1, title: Digitala tjänster}\n", "upper_goals_from: kf.yaml\n", 1)
	plan = strings.NewReplacer("kf-1-1", "digital", "kf-1", "hallbar").Replace(plan)
	s, err := Parse(filepath.Join(dir, "plan.yaml"), []byte(plan))
	if err != nil {
		t.Fatal(err)
	}
	if u := s.UpperGoal("digital"); u == nil || u.Level != UpperLevelGoal || u.Parent != "hallbar" || u.From != "kf.yaml" || s.UpperGoal("hallbar").Level != UpperLevelDirection {
		t.Errorf("upper goals = %+v", s.UpperGoals)
	}
	// ReadFile reads from elsewhere (an embedded file system).
	read := func(name string) ([]byte, error) {
		if filepath.Base(name) != "kf.yaml" {
			t.Errorf("read %s", name)
		}
		return []byte(kf), nil
	}
	if _, err := ParseWith("examples/plan.yaml", []byte(plan), Options{ReadFile: read}); err != nil {
		t.Fatal(err)
	}
}

func TestPartialDates(t *testing.T) {
	for in, want := range map[string]string{
		"2012": "2012", "2012-12": "2012-12", "2012-xx-xx": "2012", "2012-12-xx": "2012-12", "2012-12-03": "2012-12-03",
		"unknown": "", "okänt": "", "": "",
	} {
		d, err := ParsePartialDate(in)
		if err != nil || d.String() != want {
			t.Errorf("ParsePartialDate(%q) = %q, %v; want %q", in, d, err, want)
		}
	}
	for _, bad := range []string{"12", "2012-13", "2012-02-30", "2012-xx-03", "20121", "next year"} {
		if _, err := ParsePartialDate(bad); err == nil {
			t.Errorf("ParsePartialDate(%q) accepted", bad)
		}
	}
	d, _ := ParsePartialDate("2012-02")
	if day(d.Last()) != "2012-02-29" || day(d.First()) != "2012-02-01" || d.Label("sv") != "februari 2012" {
		t.Errorf("2012-02: %s–%s %q", day(d.First()), day(d.Last()), d.Label("sv"))
	}
}

func TestStrategyLifecycle(t *testing.T) {
	s, err := Parse("t.yaml", []byte(strings.Replace(minimal, "start: 2020-01-01\n", "start: 2015-01-01\nend: 2017-12-31\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Ended(date(2017, 12, 31)) || !s.Ended(date(2018, 1, 1)) {
		t.Errorf("a 2015–2017 strategy ends after 31 December 2017")
	}
	if got := s.FollowUpEnd(); got.Year() != 2019 || got.YearDay() != 1 {
		t.Errorf("follow-up ends %v, want the start of 2019 (a year of follow-up)", got)
	}
	if !s.InPeriod(Period{Kind: Tertial, Year: 2017, N: 3}) || s.InPeriod(Period{Kind: Tertial, Year: 2018, N: 1}) || s.InPeriod(Period{Kind: Year, Year: 2014}) {
		t.Errorf("InPeriod")
	}
	var open Strategy
	if open.Ended(date(2100, 1, 1)) || !open.FollowUpEnd().IsZero() {
		t.Errorf("a strategy without an end never ends")
	}
}

// TestExampleILS: the ILS-style set — the committee plans read the city
// council's goals from ils-kf.yaml, and the IT plan's shared goal has a
// committee and a company as responsible bodies.
func TestExampleILS(t *testing.T) {
	s := loadExample(t, "ils-it-plan.yaml")
	if len(s.UpperGoals) != 8 || s.UpperGoal("kf-digitala-tjanster").Parent != "kf-enkel-service" {
		t.Errorf("upper goals = %d", len(s.UpperGoals))
	}
	g := s.Goal("it-inloggning")
	if len(g.Bodies) != 2 || g.Bodies[0].Kind != BodyCommittee || g.Bodies[1].Kind != BodyCompany {
		t.Errorf("bodies = %+v", g.Bodies)
	}
	if len(g.SubGoals) != 2 || len(g.Criteria) != 2 || len(g.Activities) != 2 || len(s.AreasOf(g)) != 2 {
		t.Errorf("shared goal: %d sub-goals, %d criteria, %d activities, %d areas", len(g.SubGoals), len(g.Criteria), len(g.Activities), len(s.AreasOf(g)))
	}
	if len(s.Contributors("kf-enkel-service")) != 2 {
		t.Errorf("contributors to kf-enkel-service = %d", len(s.Contributors("kf-enkel-service")))
	}
	u := loadExample(t, "ils-utbildningsnamnden.yaml")
	if len(u.Contributors("kf-likvardig-skola")) != 2 || u.DecidedBy != BodyCommittee {
		t.Errorf("education plan: %d contributors", len(u.Contributors("kf-likvardig-skola")))
	}
	q := loadExample(t, "grastorp-e-strategi.yaml")
	if len(q.Goals()) != 16 || len(q.Areas) != 4 || len(q.Indicators()) != 0 || q.AdoptedOn.String() != "2012" {
		t.Errorf("qualitative e-strategy: %d goals in %d areas", len(q.Goals()), len(q.Areas))
	}
}

// TestDocCoversEveryKey: docs/strategy-format.md names every key of the
// file format (as `key`).
func TestDocCoversEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/strategy-format.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] || ty.PkgPath() != reflect.TypeOf(yStrategy{}).PkgPath() {
			return
		}
		seen[ty] = true
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if key != "" && !strings.Contains(string(doc), "`"+key+"`") {
				t.Errorf("docs/strategy-format.md does not name the key `%s` (%s.%s)", key, ty.Name(), f.Name)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(yStrategy{}))
}
