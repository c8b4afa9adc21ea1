package clickhouse

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

const measureTenant = "0120"

// measureStore opens a store on a fresh database with the schema applied.
func mStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func mWrite(t *testing.T, s *Store, version uint64, b facts.Batch) {
	t.Helper()
	b.Tenant, b.Collector, b.Source, b.Version = measureTenant, "test", fmt.Sprintf("test-v%d", version), version
	if err := s.WriteBatch(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
}

// sthlm is a Europe/Stockholm local time "2006-01-02" or "2006-01-02 15:04".
func mLocal(t *testing.T, v string) time.Time {
	t.Helper()
	layout := time.DateOnly
	if len(v) > 10 {
		layout = "2006-01-02 15:04"
	}
	tm, err := time.ParseInLocation(layout, v, strategy.Stockholm)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func mUTC(t *testing.T, v string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", v, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// mWant is one expected observation: period, dimension ("" for the total,
// else "kind=value") and value.
type mWant struct {
	period string
	dim    string
	value  float64
}

func mCompute(t *testing.T, s *Store, name string, kind strategy.PeriodKind, params map[string]string) []strategy.Observation {
	t.Helper()
	obs, err := s.ComputeMeasure(context.Background(), measureTenant, MeasureRequest{Name: name, Kind: kind, Params: params})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return obs
}

func mCheck(t *testing.T, label string, got []strategy.Observation, wants []mWant) {
	t.Helper()
	key := func(period, dim string) string { return period + " " + dim }
	gotM := map[string]float64{}
	var gotKeys []string
	for _, o := range got {
		if o.Tenant != measureTenant {
			t.Errorf("%s: observation for tenant %q", label, o.Tenant)
		}
		dim := ""
		if !o.Dimension.IsTotal() {
			dim = o.Dimension.Kind + "=" + o.Dimension.Value
		}
		k := key(o.Period.String(), dim)
		if _, dup := gotM[k]; dup {
			t.Errorf("%s: %s twice", label, k)
		}
		gotM[k] = o.Value
		gotKeys = append(gotKeys, k)
	}
	sort.Strings(gotKeys)
	for _, w := range wants {
		k := key(w.period, w.dim)
		v, ok := gotM[k]
		if !ok {
			t.Errorf("%s: missing %s (want %g); got %s", label, k, w.value, strings.Join(gotKeys, ", "))
			continue
		}
		if math.Abs(v-w.value) > 1e-9 {
			t.Errorf("%s: %s = %.12g, want %.12g", label, k, v, w.value)
		}
		delete(gotM, k)
	}
	for k, v := range gotM {
		t.Errorf("%s: unexpected %s = %g", label, k, v)
	}
}

// E-service catalogue snapshots, with the category and department of
// each service:
//
//	            A Bygga/Bygg  B Skola/Utb  C Bygga/Bygg  D Skola/Utb  E Omsorg/Soc
//	2024-01-31  act int eid   act eid      act int       -            -
//	2024-03-31  act int eid   retired      act int       act eid      -
//	2024-06-30  act int eid   -            retired int   act eid      act int eid
//
// The June snapshot is imported twice; the first import had E not
// integrated, the second (higher version) corrects it.
func eserviceData(t *testing.T, s *Store) {
	svc := func(snap, id, cat, dep string, integ, eid, active bool) facts.EService {
		return facts.EService{Snapshot: mLocal(t, snap), ID: id, Name: "Tjänst " + id, Category: cat, Department: dep,
			Integrated: integ, EID: eid, Active: active}
	}
	mWrite(t, s, 1, facts.Batch{EServices: []facts.EService{
		svc("2024-01-31", "A", "Bygga", "Bygg", true, true, true),
		svc("2024-01-31", "B", "Skola", "Utb", false, true, true),
		svc("2024-01-31", "C", "Bygga", "Bygg", true, false, true),
	}})
	mWrite(t, s, 2, facts.Batch{EServices: []facts.EService{
		svc("2024-03-31", "A", "Bygga", "Bygg", true, true, true),
		svc("2024-03-31", "B", "Skola", "Utb", false, true, false),
		svc("2024-03-31", "C", "Bygga", "Bygg", true, false, true),
		svc("2024-03-31", "D", "Skola", "Utb", false, true, true),
	}})
	june := func(eIntegrated bool) facts.Batch {
		return facts.Batch{EServices: []facts.EService{
			svc("2024-06-30", "A", "Bygga", "Bygg", true, true, true),
			svc("2024-06-30", "C", "Bygga", "Bygg", true, false, false),
			svc("2024-06-30", "D", "Skola", "Utb", false, true, true),
			svc("2024-06-30", "E", "Omsorg", "Soc", eIntegrated, true, true),
		}}
	}
	mWrite(t, s, 3, june(false))
	mWrite(t, s, 4, june(true))
}

func TestMeasureEServicesActive(t *testing.T) {
	s := mStore(t)
	eserviceData(t, s)
	// T1's last snapshot is 03-31: A, C, D active (B retired).
	// T2's is 06-30: A, D, E active (C retired); counted once although
	// imported twice.
	mCheck(t, "tertial", mCompute(t, s, "eservices_active", strategy.Tertial, nil), []mWant{
		{"2024-T1", "", 3},
		{"2024-T1", "category=Bygga", 2}, // A, C
		{"2024-T1", "category=Skola", 1}, // D (B retired)
		{"2024-T1", "department=Bygg", 2},
		{"2024-T1", "department=Utb", 1},
		{"2024-T2", "", 3},
		{"2024-T2", "category=Bygga", 1}, // A (C retired)
		{"2024-T2", "category=Skola", 1},
		{"2024-T2", "category=Omsorg", 1},
		{"2024-T2", "department=Bygg", 1},
		{"2024-T2", "department=Utb", 1},
		{"2024-T2", "department=Soc", 1},
	})
	// Months with a snapshot: January A, B, C; March A, C, D; June A, D, E.
	month := mCompute(t, s, "eservices_active", strategy.Month, map[string]string{"category": "Bygga"})
	var totals []mWant
	for _, o := range month {
		if o.Dimension.IsTotal() {
			totals = append(totals, mWant{o.Period.String(), "", o.Value})
		}
	}
	// Bygga only: January A, C = 2; March A, C = 2; June A = 1.
	if fmt.Sprint(totals) != fmt.Sprint([]mWant{{"2024-01", "", 2}, {"2024-03", "", 2}, {"2024-06", "", 1}}) {
		t.Errorf("monthly Bygga totals = %v", totals)
	}
	// The year's last snapshot is June's.
	mCheck(t, "year", mTotals(mCompute(t, s, "eservices_active", strategy.Year, nil)), []mWant{{"2024", "", 3}})
}

func mTotals(obs []strategy.Observation) []strategy.Observation {
	var out []strategy.Observation
	for _, o := range obs {
		if o.Dimension.IsTotal() {
			out = append(out, o)
		}
	}
	return out
}

func TestMeasureEServicesShares(t *testing.T) {
	s := mStore(t)
	eserviceData(t, s)
	// T1 (03-31): active A, C, D; integrated A, C = 2/3; e-ID A, D = 2/3.
	// T2 (06-30): active A, D, E; integrated A, E = 2/3 (E corrected to
	// integrated by the second import); e-ID A, D, E = 3/3.
	mCheck(t, "integrated", mCompute(t, s, "eservices_integrated_share", strategy.Tertial, nil), []mWant{
		{"2024-T1", "", 200.0 / 3},
		{"2024-T1", "category=Bygga", 100}, // A, C
		{"2024-T1", "category=Skola", 0},   // D
		{"2024-T1", "department=Bygg", 100},
		{"2024-T1", "department=Utb", 0},
		{"2024-T2", "", 200.0 / 3},
		{"2024-T2", "category=Bygga", 100}, // A
		{"2024-T2", "category=Skola", 0},   // D
		{"2024-T2", "category=Omsorg", 100},
		{"2024-T2", "department=Bygg", 100},
		{"2024-T2", "department=Utb", 0},
		{"2024-T2", "department=Soc", 100},
	})
	mCheck(t, "eid", mTotals(mCompute(t, s, "eservices_eid_share", strategy.Tertial, nil)), []mWant{
		{"2024-T1", "", 200.0 / 3},
		{"2024-T2", "", 100},
	})
}

func TestMeasureEServicesAddedRetired(t *testing.T) {
	s := mStore(t)
	eserviceData(t, s)
	// Tertials: T1 has no snapshot before it, so no value. T2 compares
	// 06-30 with 03-31: E added, C retired.
	mCheck(t, "added T", mCompute(t, s, "eservices_added", strategy.Tertial, nil), []mWant{{"2024-T2", "", 1}})
	mCheck(t, "retired T", mCompute(t, s, "eservices_retired", strategy.Tertial, nil), []mWant{{"2024-T2", "", 1}})
	// Months: March compares with January: D added, B retired. June
	// compares with March: E added, C retired.
	mCheck(t, "added M", mCompute(t, s, "eservices_added", strategy.Month, nil), []mWant{{"2024-03", "", 1}, {"2024-06", "", 1}})
	mCheck(t, "retired M", mCompute(t, s, "eservices_retired", strategy.Month, nil), []mWant{{"2024-03", "", 1}, {"2024-06", "", 1}})
	// Only Bygga: March nothing added (D is Skola), nothing retired (B is
	// Skola); June C retired.
	mCheck(t, "retired Bygga", mCompute(t, s, "eservices_retired", strategy.Month, map[string]string{"category": "Bygga"}),
		[]mWant{{"2024-03", "", 0}, {"2024-06", "", 1}})
	mCheck(t, "added Bygga", mCompute(t, s, "eservices_added", strategy.Month, map[string]string{"category": "Bygga"}),
		[]mWant{{"2024-03", "", 0}, {"2024-06", "", 0}})
	// From/To pick whole periods.
	got, err := s.ComputeMeasure(context.Background(), measureTenant, MeasureRequest{Name: "eservices_added", Kind: strategy.Month,
		From: mLocal(t, "2024-04-15"), To: mLocal(t, "2024-12-01")})
	if err != nil {
		t.Fatal(err)
	}
	mCheck(t, "added from April", got, []mWant{{"2024-06", "", 1}})
}

// Application cases (received, Stockholm time unless noted):
//
//	c1 Bygglov              Bygg    digital   2024-01-10
//	c2 Bygglov              Bygg    paper     2024-01-20
//	c3 Bygglov              Bygg    digital   2024-01-31 23:30 UTC = 02-01 00:30 Stockholm → February
//	c4 Förhandsbesked       Bygg    digital   2024-01-15
//	c5 Parkeringstillstånd  Trafik  paper     2024-01-05 (first imported as digital, corrected)
//	c6 Bygglov              Bygg    digital   2024-01-07, not an application: not counted
//	c7 Parkeringstillstånd  Trafik  digital   2024-02-10
func caseData(t *testing.T, s *Store) {
	c := func(id, typ, dep string, digital, app bool, received time.Time) facts.Case {
		ch := "Post"
		if digital {
			ch = "E-tjänst"
		}
		return facts.Case{ID: id, Type: typ, Department: dep, Channel: ch, Digital: digital, Application: app, Received: received}
	}
	mWrite(t, s, 1, facts.Batch{Cases: []facts.Case{
		c("c1", "Bygglov", "Bygg", true, true, mLocal(t, "2024-01-10 10:00")),
		c("c2", "Bygglov", "Bygg", false, true, mLocal(t, "2024-01-20 10:00")),
		c("c3", "Bygglov", "Bygg", true, true, mUTC(t, "2024-01-31 23:30")),
		c("c4", "Förhandsbesked", "Bygg", true, true, mLocal(t, "2024-01-15 10:00")),
		c("c5", "Parkeringstillstånd", "Trafik", true, true, mLocal(t, "2024-01-05 10:00")),
		c("c6", "Bygglov", "Bygg", true, false, mLocal(t, "2024-01-07 10:00")),
		c("c7", "Parkeringstillstånd", "Trafik", true, true, mLocal(t, "2024-02-10 10:00")),
	}})
	mWrite(t, s, 2, facts.Batch{Cases: []facts.Case{
		c("c5", "Parkeringstillstånd", "Trafik", false, true, mLocal(t, "2024-01-05 10:00")),
	}})
}

func TestMeasureDigitalShare(t *testing.T) {
	s := mStore(t)
	caseData(t, s)
	// January: c1 d, c2 p, c4 d, c5 p → 2/4. February: c3 d, c7 d → 2/2.
	mCheck(t, "month", mCompute(t, s, "digital_share", strategy.Month, nil), []mWant{
		{"2024-01", "", 50},
		{"2024-01", "case_type=Bygglov", 50},              // c1, c2
		{"2024-01", "case_type=Förhandsbesked", 100},      // c4
		{"2024-01", "case_type=Parkeringstillstånd", 0},   // c5
		{"2024-01", "department=Bygg", 200.0 / 3},         // c1, c2, c4
		{"2024-01", "department=Trafik", 0},               // c5
		{"2024-02", "", 100},                              // c3, c7
		{"2024-02", "case_type=Bygglov", 100},             // c3
		{"2024-02", "case_type=Parkeringstillstånd", 100}, // c7
		{"2024-02", "department=Bygg", 100},
		{"2024-02", "department=Trafik", 100},
	})
	// Q1: 4 digital (c1, c3, c4, c7) of 6.
	mCheck(t, "quarter", mTotals(mCompute(t, s, "digital_share", strategy.Quarter, nil)), []mWant{{"2024-Q1", "", 400.0 / 6}})
	// Bygglov and Förhandsbesked only: January c1, c2, c4 → 2/3; February c3.
	mCheck(t, "case_types", mTotals(mCompute(t, s, "digital_share", strategy.Month,
		map[string]string{"case_types": "Bygglov, Förhandsbesked"})), []mWant{{"2024-01", "", 200.0 / 3}, {"2024-02", "", 100}})
	mCheck(t, "department", mTotals(mCompute(t, s, "digital_share", strategy.Month,
		map[string]string{"department": "Trafik"})), []mWant{{"2024-01", "", 0}, {"2024-02", "", 100}})
	got, err := s.ComputeMeasure(context.Background(), measureTenant, MeasureRequest{Name: "digital_share", Kind: strategy.Month,
		From: mLocal(t, "2024-02-20"), To: mLocal(t, "2024-02-21")})
	if err != nil {
		t.Fatal(err)
	}
	mCheck(t, "from/to", mTotals(got), []mWant{{"2024-02", "", 100}})
}

// Decided cases (Stockholm dates), days from received to decided:
//
//	h1 Bygglov         Bygg   01-02 → 01-12   10  T1
//	h2 Bygglov         Bygg   01-03 → 01-23   20  T1
//	h3 Bygglov         Bygg   01-05 → 02-04   30  T1
//	h4 Bygglov         Bygg   02-01 → 03-12   40  T1 (first imported undecided)
//	h5 Bygglov         Bygg   03-01 → -           (first imported decided, then reopened)
//	h6 Förhandsbesked  Bygg   01-10 → 01-15    5  T1
//	h7 Förhandsbesked  Bygg   02-10 → 05-10   90  T2
//	h8 Strandskydd     Miljö  01-01 → 04-30  120  T1
//	h9 Bygglov         Bygg   04-30 22:30 UTC (05-01 00:30 Stockholm) → 05-03 12:00  2  T2
//
// quantileExact(q) takes the value at index ⌊q·n⌋ of the sorted list.
func handlingData(t *testing.T, s *Store) {
	c := func(id, typ, dep string, received, decided time.Time) facts.Case {
		return facts.Case{ID: id, Type: typ, Department: dep, Channel: "E-tjänst", Digital: true, Application: true,
			Received: received, Decided: decided}
	}
	none := time.Time{}
	mWrite(t, s, 1, facts.Batch{Cases: []facts.Case{
		c("h1", "Bygglov", "Bygg", mLocal(t, "2024-01-02 09:00"), mLocal(t, "2024-01-12")),
		c("h2", "Bygglov", "Bygg", mLocal(t, "2024-01-03 09:00"), mLocal(t, "2024-01-23")),
		c("h3", "Bygglov", "Bygg", mLocal(t, "2024-01-05 09:00"), mLocal(t, "2024-02-04")),
		c("h4", "Bygglov", "Bygg", mLocal(t, "2024-02-01 09:00"), none),
		c("h5", "Bygglov", "Bygg", mLocal(t, "2024-03-01 09:00"), mLocal(t, "2024-03-05")),
		c("h6", "Förhandsbesked", "Bygg", mLocal(t, "2024-01-10 09:00"), mLocal(t, "2024-01-15")),
		c("h7", "Förhandsbesked", "Bygg", mLocal(t, "2024-02-10 09:00"), mLocal(t, "2024-05-10")),
		c("h8", "Strandskydd", "Miljö", mLocal(t, "2024-01-01 10:00"), mLocal(t, "2024-04-30")),
		c("h9", "Bygglov", "Bygg", mUTC(t, "2024-04-30 22:30"), mLocal(t, "2024-05-03 12:00")),
	}})
	mWrite(t, s, 2, facts.Batch{Cases: []facts.Case{
		c("h4", "Bygglov", "Bygg", mLocal(t, "2024-02-01 09:00"), mLocal(t, "2024-03-12")),
		c("h5", "Bygglov", "Bygg", mLocal(t, "2024-03-01 09:00"), none),
	}})
}

func TestMeasureHandlingTime(t *testing.T) {
	s := mStore(t)
	handlingData(t, s)
	// T1: [5 10 20 30 40 120], n=6: median index 3 → 30, p90 index 5 → 120.
	// T2: [2 90], n=2: index 1 → 90 for both.
	mCheck(t, "median", mCompute(t, s, "handling_time_median", strategy.Tertial, nil), []mWant{
		{"2024-T1", "", 30},
		{"2024-T1", "case_type=Bygglov", 30},        // [10 20 30 40] index 2
		{"2024-T1", "case_type=Förhandsbesked", 5},  // [5]
		{"2024-T1", "case_type=Strandskydd", 120},   // [120]
		{"2024-T1", "department=Bygg", 20},          // [5 10 20 30 40] index 2
		{"2024-T1", "department=Miljö", 120},        // [120]
		{"2024-T2", "", 90},                         // [2 90] index 1
		{"2024-T2", "case_type=Bygglov", 2},         // [2]: Stockholm dates, not UTC (3)
		{"2024-T2", "case_type=Förhandsbesked", 90}, // [90]
		{"2024-T2", "department=Bygg", 90},          // [2 90]
	})
	mCheck(t, "p90", mCompute(t, s, "handling_time_p90", strategy.Tertial, nil), []mWant{
		{"2024-T1", "", 120},
		{"2024-T1", "case_type=Bygglov", 40}, // [10 20 30 40] index ⌊3.6⌋ = 3
		{"2024-T1", "case_type=Förhandsbesked", 5},
		{"2024-T1", "case_type=Strandskydd", 120},
		{"2024-T1", "department=Bygg", 40}, // [5 10 20 30 40] index ⌊4.5⌋ = 4
		{"2024-T1", "department=Miljö", 120},
		{"2024-T2", "", 90},
		{"2024-T2", "case_type=Bygglov", 2},
		{"2024-T2", "case_type=Förhandsbesked", 90},
		{"2024-T2", "department=Bygg", 90},
	})
	// Case counts over all data: Bygglov 6 (h1–h5, h9), Förhandsbesked 2,
	// Strandskydd 1. top=1 keeps Bygglov: T1 [10 20 30 40] → 30, T2 [2].
	mCheck(t, "top 1", mTotals(mCompute(t, s, "handling_time_median", strategy.Tertial, map[string]string{"top": "1"})),
		[]mWant{{"2024-T1", "", 30}, {"2024-T2", "", 2}})
	// top=2 adds Förhandsbesked: T1 [5 10 20 30 40] → 20, T2 [2 90] → 90.
	mCheck(t, "top 2", mTotals(mCompute(t, s, "handling_time_median", strategy.Tertial, map[string]string{"top": "2"})),
		[]mWant{{"2024-T1", "", 20}, {"2024-T2", "", 90}})
	// The year: [2 5 10 20 30 40 90 120], n=8: median index 4 → 30.
	mCheck(t, "year", mTotals(mCompute(t, s, "handling_time_median", strategy.Year, nil)), []mWant{{"2024", "", 30}})
	mCheck(t, "department", mTotals(mCompute(t, s, "handling_time_median", strategy.Tertial, map[string]string{"department": "Miljö"})),
		[]mWant{{"2024-T1", "", 120}})
}

// Survey responses (answered 2024 unless noted):
//
//	Procapita  Handläggare 4, Handläggare 5, Chef 2 (first imported as 3)
//	Lifecare   Handläggare 3, Chef 4
//	Visma      Chef 5
//	2023: Procapita 1, Lifecare 5 (survey "Systemenkät 2023")
func surveyData(t *testing.T, s *Store) {
	r := func(survey, id, system, group string, score float64, answered string) facts.SurveyResponse {
		return facts.SurveyResponse{Survey: survey, ID: id, System: system, Group: group, Score: score,
			ScaleMin: 1, ScaleMax: 5, Answered: mLocal(t, answered)}
	}
	const s24, s23 = "Systemenkät 2024", "Systemenkät 2023"
	mWrite(t, s, 1, facts.Batch{Responses: []facts.SurveyResponse{
		r(s24, "R-1", "Procapita", "Handläggare", 4, "2024-10-02"),
		r(s24, "R-2", "Procapita", "Handläggare", 5, "2024-10-03"),
		r(s24, "R-3", "Procapita", "Chef", 3, "2024-10-03"),
		r(s24, "R-4", "Lifecare", "Handläggare", 3, "2024-10-04"),
		r(s24, "R-5", "Lifecare", "Chef", 4, "2024-10-05"),
		r(s24, "R-6", "Visma", "Chef", 5, "2024-10-06"),
		r(s23, "R-1", "Procapita", "Chef", 1, "2023-10-02"),
		r(s23, "R-2", "Lifecare", "Chef", 5, "2023-10-02"),
	}})
	mWrite(t, s, 2, facts.Batch{Responses: []facts.SurveyResponse{
		r(s24, "R-3", "Procapita", "Chef", 2, "2024-10-03"),
	}})
}

func TestMeasureSatisfaction(t *testing.T) {
	s := mStore(t)
	surveyData(t, s)
	// 2024: scores 4 5 2 3 4 5 → mean 23/6; 2023: 1 5 → 3.
	mCheck(t, "mean", mCompute(t, s, "satisfaction_mean", strategy.Year, nil), []mWant{
		{"2023", "", 3},
		{"2023", "system=Procapita", 1},
		{"2023", "system=Lifecare", 5},
		{"2023", "group=Chef", 3},
		{"2024", "", 23.0 / 6},
		{"2024", "system=Procapita", 11.0 / 3}, // 4 5 2
		{"2024", "system=Lifecare", 3.5},       // 3 4
		{"2024", "system=Visma", 5},
		{"2024", "group=Handläggare", 4}, // 4 5 3
		{"2024", "group=Chef", 11.0 / 3}, // 2 4 5
	})
	// Score ≥ 4: 2024 4 5 4 5 = 4 of 6; 2023 5 = 1 of 2.
	mCheck(t, "top share", mCompute(t, s, "satisfaction_top_share", strategy.Year, map[string]string{"survey": "Systemenkät 2024"}), []mWant{
		{"2024", "", 400.0 / 6},
		{"2024", "system=Procapita", 200.0 / 3},
		{"2024", "system=Lifecare", 50},
		{"2024", "system=Visma", 100},
		{"2024", "group=Handläggare", 200.0 / 3},
		{"2024", "group=Chef", 200.0 / 3},
	})
	mCheck(t, "top share min 5", mTotals(mCompute(t, s, "satisfaction_top_share", strategy.Year, map[string]string{"min": "5"})),
		[]mWant{{"2023", "", 50}, {"2024", "", 200.0 / 6}})
	mCheck(t, "responses", mCompute(t, s, "satisfaction_responses", strategy.Year, map[string]string{"system": "Procapita"}), []mWant{
		{"2023", "", 1},
		{"2023", "system=Procapita", 1},
		{"2023", "group=Chef", 1},
		{"2024", "", 3},
		{"2024", "system=Procapita", 3},
		{"2024", "group=Handläggare", 2},
		{"2024", "group=Chef", 1},
	})
	// System means 2024: Procapita 3.67, Lifecare 3.5, Visma 5 → 1 of 3
	// at ≥ 4, all 3 at ≥ 3.5. 2023: Procapita 1, Lifecare 5 → 1 of 2.
	mCheck(t, "systems", mCompute(t, s, "satisfaction_systems_top_share", strategy.Year, nil),
		[]mWant{{"2023", "", 50}, {"2024", "", 100.0 / 3}})
	mCheck(t, "systems min 3,5", mCompute(t, s, "satisfaction_systems_top_share", strategy.Year, map[string]string{"min": "3,5"}),
		[]mWant{{"2023", "", 50}, {"2024", "", 100}})
}

// Probe results, March 2024 (Stockholm is UTC+1 until 31 March 02:00):
//
//	Mina sidor: 10 results 2024-03-01 00:00–09:00 UTC, hourly, i = 0…9,
//	  duration (i+1)·100 ms, failed at i = 3 (first imported as ok) and
//	  i = 7. Maintenance 06:30–08:30 UTC (first imported ending 07:30)
//	  covers i = 7 and 8.
//	Bygglov: 4 results 2024-03-15 12:00–15:00 UTC, durations 50 60 70 80,
//	  failed at the first. A Mina sidor window over the same hours does
//	  not apply to it.
//	Bygglov: 1 ok result 2024-03-31 22:30 UTC = 04-01 00:30 Stockholm, 90 ms.
func probeData(t *testing.T, s *Store) {
	var probes []facts.ProbeResult
	for i := range 10 {
		probes = append(probes, facts.ProbeResult{Service: "Mina sidor", URL: "https://minasidor.example",
			Time: mUTC(t, "2024-03-01 00:00").Add(time.Duration(i) * time.Hour), OK: i != 7, Status: 200,
			Duration: time.Duration(i+1) * 100 * time.Millisecond})
	}
	for i := range 4 {
		probes = append(probes, facts.ProbeResult{Service: "Bygglov", URL: "https://bygglov.example",
			Time: mUTC(t, "2024-03-15 12:00").Add(time.Duration(i) * time.Hour), OK: i != 0, Status: 200,
			Duration: time.Duration(50+10*i) * time.Millisecond})
	}
	probes = append(probes, facts.ProbeResult{Service: "Bygglov", Time: mUTC(t, "2024-03-31 22:30"), OK: true, Status: 200, Duration: 90 * time.Millisecond})
	mWrite(t, s, 1, facts.Batch{Probes: probes, Maintenance: []facts.MaintenanceWindow{
		{Service: "Mina sidor", Start: mUTC(t, "2024-03-01 06:30"), End: mUTC(t, "2024-03-01 07:30")},
		{Service: "Mina sidor", Start: mUTC(t, "2024-03-15 11:00"), End: mUTC(t, "2024-03-15 17:00")},
		{Service: "Annat", Start: mUTC(t, "2024-03-01 00:00"), End: mUTC(t, "2024-03-02 00:00")},
	}})
	mWrite(t, s, 2, facts.Batch{
		Probes: []facts.ProbeResult{{Service: "Mina sidor", URL: "https://minasidor.example",
			Time: mUTC(t, "2024-03-01 03:00"), OK: false, Status: 503, Duration: 400 * time.Millisecond, Error: "503"}},
		Maintenance: []facts.MaintenanceWindow{{Service: "Mina sidor", Start: mUTC(t, "2024-03-01 06:30"), End: mUTC(t, "2024-03-01 08:30")}},
	})
}

func TestMeasureAvailability(t *testing.T) {
	s := mStore(t)
	probeData(t, s)
	// Mina sidor outside maintenance: i = 0…6, 9 (8 results), failed i = 3
	// → 7/8. Bygglov March: 3/4. Total March: 10/12.
	mCheck(t, "uptime", mCompute(t, s, "availability_uptime", strategy.Month, nil), []mWant{
		{"2024-03", "", 1000.0 / 12},
		{"2024-03", "service=Mina sidor", 87.5},
		{"2024-03", "service=Bygglov", 75},
		{"2024-04", "", 100},
		{"2024-04", "service=Bygglov", 100},
	})
	mCheck(t, "uptime one service", mTotals(mCompute(t, s, "availability_uptime", strategy.Month, map[string]string{"service": "Bygglov"})),
		[]mWant{{"2024-03", "", 75}, {"2024-04", "", 100}})
	// In maintenance: 2 of Mina sidor's 10; 2 of all 14 in March.
	mCheck(t, "maintenance", mCompute(t, s, "availability_maintenance_share", strategy.Month, nil), []mWant{
		{"2024-03", "", 200.0 / 14},
		{"2024-03", "service=Mina sidor", 20},
		{"2024-03", "service=Bygglov", 0},
		{"2024-04", "", 0},
		{"2024-04", "service=Bygglov", 0},
	})
	// Mean of Mina sidor outside maintenance: (100+…+700 + 1000)/8 = 3800/8;
	// Bygglov (50+60+70+80)/4 = 65; together 4060/12.
	mCheck(t, "mean", mCompute(t, s, "response_time_mean", strategy.Month, nil), []mWant{
		{"2024-03", "", 4060.0 / 12},
		{"2024-03", "service=Mina sidor", 475},
		{"2024-03", "service=Bygglov", 65},
		{"2024-04", "", 90},
		{"2024-04", "service=Bygglov", 90},
	})
	// p95: Mina sidor [100…700 1000] index ⌊7.6⌋ = 7 → 1000; Bygglov
	// [50 60 70 80] index 3 → 80; all 12 index ⌊11.4⌋ = 11 → 1000.
	mCheck(t, "p95", mCompute(t, s, "response_time_p95", strategy.Month, nil), []mWant{
		{"2024-03", "", 1000},
		{"2024-03", "service=Mina sidor", 1000},
		{"2024-03", "service=Bygglov", 80},
		{"2024-04", "", 90},
		{"2024-04", "service=Bygglov", 90},
	})
	// The tertial holds both months: 11/13 ok outside maintenance.
	mCheck(t, "tertial", mTotals(mCompute(t, s, "availability_uptime", strategy.Tertial, nil)), []mWant{{"2024-T1", "", 1100.0 / 13}})
}

// A window for service "*" applies to every service: one over Bygglov's
// failed 12:00 result on 15 March leaves 3 of 3 ok; Mina sidor (results on
// 1 March only) is unaffected.
func TestMeasureMaintenanceForEveryService(t *testing.T) {
	s := mStore(t)
	probeData(t, s)
	mWrite(t, s, 3, facts.Batch{Maintenance: []facts.MaintenanceWindow{
		{Service: "*", Start: mUTC(t, "2024-03-15 11:59"), End: mUTC(t, "2024-03-15 12:01"), Note: "veckovis"},
	}})
	mCheck(t, "uptime", mCompute(t, s, "availability_uptime", strategy.Month, nil), []mWant{
		{"2024-03", "", 1000.0 / 11},
		{"2024-03", "service=Mina sidor", 87.5},
		{"2024-03", "service=Bygglov", 100},
		{"2024-04", "", 100},
		{"2024-04", "service=Bygglov", 100},
	})
}

func TestMeasureTenantsApart(t *testing.T) {
	s := mStore(t)
	caseData(t, s)
	obs, err := s.ComputeMeasure(context.Background(), "0180", MeasureRequest{Name: "digital_share", Kind: strategy.Month})
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 0 {
		t.Fatalf("another tenant sees %d observations", len(obs))
	}
}

func TestMeasureBadRequests(t *testing.T) {
	s := mStore(t)
	ctx := context.Background()
	for _, c := range []struct {
		req  MeasureRequest
		want string
	}{
		{MeasureRequest{Name: "no_such", Kind: strategy.Month}, `unknown measure "no_such"`},
		{MeasureRequest{Name: "digital_share", Kind: "week"}, `invalid period kind "week"`},
		{MeasureRequest{Name: "digital_share", Kind: strategy.Month, Params: map[string]string{"system": "x"}}, `unknown parameter "system"`},
		{MeasureRequest{Name: "handling_time_median", Kind: strategy.Month, Params: map[string]string{"top": "-2"}}, `parameter top "-2" is not a positive whole number`},
		{MeasureRequest{Name: "satisfaction_top_share", Kind: strategy.Year, Params: map[string]string{"min": "fyra"}}, `parameter min "fyra" is not a number`},
	} {
		_, err := s.ComputeMeasure(ctx, measureTenant, c.req)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, mWant %q", c.req, err, c.want)
		}
	}
	// A value that tries to break out of its quote is only a value.
	obs, err := s.ComputeMeasure(ctx, measureTenant, MeasureRequest{Name: "digital_share", Kind: strategy.Month,
		Params: map[string]string{"department": `x' OR '1'='1`, "case_types": `a'), 1) OR (1`}})
	if err != nil || len(obs) != 0 {
		t.Fatalf("quoted parameter: %v, %d observations", err, len(obs))
	}
}

func TestMeasureAllImplemented(t *testing.T) {
	s := mStore(t)
	for _, m := range Measures {
		for _, k := range []strategy.PeriodKind{strategy.Month, strategy.Quarter, strategy.Tertial, strategy.Year} {
			if _, err := s.ComputeMeasure(context.Background(), measureTenant, MeasureRequest{Name: m.Name, Kind: k}); err != nil {
				t.Errorf("%s (%s facts) per %s on an empty database: %v", m.Name, m.Facts, k, err)
			}
		}
	}
}

// measureFacts fills a store with the fixture of each kind of raw facts.
var measureFacts = map[facts.Kind]func(*testing.T, *Store){
	facts.KindEServices: eserviceData,
	facts.KindCases:     func(t *testing.T, s *Store) { caseData(t, s); handlingData(t, s) },
	facts.KindSurvey:    surveyData,
	facts.KindProbes:    probeData,
}

// TestMeasureRegistry: every registered measure has its facts kind,
// parameters, SQL and documentation, and is known to the strategy parser
// as it is defined here; its SQL computes values from its own kind of
// raw facts and from no other, so Facts (which decides what a collector
// run recomputes) tells the truth.
func TestMeasureRegistry(t *testing.T) {
	cols := map[facts.Kind]map[string]string{facts.KindEServices: eserviceCols, facts.KindCases: caseCols,
		facts.KindSurvey: surveyCols, facts.KindProbes: probeCols}
	if len(Measures) == 0 {
		t.Fatal("no measures")
	}
	for _, m := range Measures {
		if m.Name == "" || m.Unit == "" || m.Title.SV == "" || m.Title.EN == "" || strings.TrimSpace(m.Doc) == "" || m.compute == nil {
			t.Errorf("measure %q lacks a name, unit, title, doc or SQL: %+v", m.Name, m)
		}
		if _, ok := measureFacts[m.Facts]; !ok {
			t.Errorf("measure %s: unknown facts kind %q", m.Name, m.Facts)
		}
		for _, d := range m.Dimensions {
			if _, ok := cols[m.Facts][d]; !ok {
				t.Errorf("measure %s: %s facts have no dimension %s", m.Name, m.Facts, d)
			}
		}
		if spec, ok := strategy.Measures[m.Name]; !ok || !reflect.DeepEqual(spec, m.MeasureSpec) {
			t.Errorf("measure %s: strategy knows it as %+v (%v)", m.Name, spec, ok)
		}
		if got, ok := LookupMeasure(m.Name); !ok || got.Name != m.Name {
			t.Errorf("LookupMeasure(%s) = %v, %v", m.Name, got.Name, ok)
		}
	}
	if len(strategy.Measures) != len(Measures) {
		t.Errorf("strategy knows %d measures, the registry has %d", len(strategy.Measures), len(Measures))
	}
	for kind, fill := range measureFacts {
		s := mStore(t)
		fill(t, s)
		for _, m := range Measures {
			obs, err := s.ComputeMeasure(context.Background(), measureTenant, MeasureRequest{Name: m.Name, Kind: strategy.Month})
			if err != nil {
				t.Errorf("%s on %s facts: %v", m.Name, kind, err)
				continue
			}
			if own := m.Facts == kind; own != (len(obs) > 0) {
				t.Errorf("%s (registered as reading %s facts) gives %d values from %s facts alone", m.Name, m.Facts, len(obs), kind)
			}
		}
	}
}

var updateDocs = flag.Bool("update-docs", false, "rewrite the measure table in docs/strategy-format.md from the registry")

// measureDocs is the table of built-in measures in the strategy format's
// documentation, generated from the registry.
func measureDocs() string {
	var b strings.Builder
	b.WriteString("| measure | title (sv / en) | unit | raw facts | parameters | also by | definition |\n|---|---|---|---|---|---|---|\n")
	code := func(xs []string) string {
		if len(xs) == 0 {
			return ""
		}
		return "`" + strings.Join(xs, "`, `") + "`"
	}
	for _, m := range Measures {
		fmt.Fprintf(&b, "| `%s` | %s / %s | %s | %s | %s | %s | %s |\n", m.Name, m.Title.SV, m.Title.EN, m.Unit, m.Facts,
			code(m.Params), strings.Join(m.Dimensions, ", "), strings.ReplaceAll(m.Doc, "|", "\\|"))
	}
	return b.String()
}

// TestMeasureDocs: docs/strategy-format.md lists every built-in measure,
// as the registry defines it (go test ./clickhouse -run TestMeasureDocs
// -update-docs rewrites the table).
func TestMeasureDocs(t *testing.T) {
	const (
		path  = "../docs/strategy-format.md"
		begin = "<!-- measures: generated from clickhouse.Measures by `go test ./clickhouse -run TestMeasureDocs -update-docs` -->\n"
		end   = "<!-- end of measures -->\n"
	)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no generated measure table (between %q and %q)", path, strings.TrimSpace(begin), strings.TrimSpace(end))
	}
	want := measureDocs()
	if got := doc[i+len(begin) : j]; got != want {
		if *updateDocs {
			if err := os.WriteFile(path, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s lists other measures than the registry; run go test ./clickhouse -run TestMeasureDocs -update-docs\n got:\n%s\nwant:\n%s", path, got, want)
	}
	for _, m := range Measures {
		if !strings.Contains(doc[i:j], "| `"+m.Name+"` |") {
			t.Errorf("%s does not list measure %s", path, m.Name)
		}
	}
}
