// Package strategy holds Målbild's domain types: a municipality's
// digitalisation strategy (vision, goal areas, goals, indicators, targets)
// and the facts that follow it (observations, assessments). It depends on
// nothing but the standard library and the YAML decoder.
package strategy

import "time"

// Text is a piece of user-facing text, Swedish first, English optional.
type Text struct {
	SV string `json:"sv"`
	EN string `json:"en,omitempty"`
}

// In returns the text in lang ("sv" or "en"), falling back to Swedish.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" {
		return t.EN
	}
	return t.SV
}

// Municipality identifies the tenant: a four-digit kommunkod and a name.
type Municipality struct {
	Code string `json:"code"` // "0120"
	Name string `json:"name"` // "Värmdö kommun"
	Slug string `json:"slug,omitempty"`
}

// Rhythm is how often a strategy is followed up.
type Rhythm string

const (
	RhythmQuarter Rhythm = "quarter"
	RhythmTertial Rhythm = "tertial"
)

// Strategy is one municipality's e- or IT-strategy, loaded from one YAML file.
type Strategy struct {
	File         string         `json:"-"`
	Municipality Municipality   `json:"municipality"`
	ID           string         `json:"id"`
	Title        Text           `json:"title"`
	Vision       Text           `json:"vision"`
	Description  Text           `json:"description,omitempty"`
	Adopted      time.Time      `json:"adopted"`
	Start        time.Time      `json:"start"`         // start of the strategy period
	End          time.Time      `json:"end,omitempty"` // optional end of the strategy period
	Rhythm       Rhythm         `json:"rhythm"`
	Maturity     *MaturityModel `json:"maturity,omitempty"`
	Areas        []*GoalArea    `json:"areas"`
	Programmes   []*Programme   `json:"programmes,omitempty"`
	// RollUp is the rule that rolls indicator assessments up to a goal:
	// "strict" (default: all met → met, any not met → not met, else partly).
	RollUp string `json:"roll_up,omitempty"`
}

// MaturityModel names the dimensions of a digital maturity index. Each
// goal area declares which dimension it belongs to; without a model every
// goal area is its own dimension.
type MaturityModel struct {
	Name        Text                 `json:"name"`
	Description Text                 `json:"description,omitempty"`
	Dimensions  []*MaturityDimension `json:"dimensions"`
}

// MaturityDimension is one axis of the maturity radar (e.g. "e-tjänster").
type MaturityDimension struct {
	ID    string `json:"id"`
	Title Text   `json:"title"`
	// Survey optionally names a series with self-assessment scores (0–100)
	// per year that is blended into this dimension's score.
	Survey      string  `json:"survey,omitempty"`
	SurveyShare float64 `json:"survey_share,omitempty"` // 0–1, weight of the survey score
}

// GoalArea groups goals (a "målområde", "övergripande mål" or dimension).
type GoalArea struct {
	ID          string  `json:"id"`
	Title       Text    `json:"title"`
	Description Text    `json:"description,omitempty"`
	Dimension   string  `json:"dimension,omitempty"` // maturity dimension id
	Goals       []*Goal `json:"goals"`
	Line        int     `json:"-"`
}

// GoalKind says how a goal is followed up.
type GoalKind string

const (
	GoalMeasured    GoalKind = "measured"    // by its indicators
	GoalMilestone   GoalKind = "milestone"   // done by a date
	GoalQualitative GoalKind = "qualitative" // only assessed
)

// Goal is one goal of the strategy.
type Goal struct {
	ID          string       `json:"id"`
	Title       Text         `json:"title"`
	Description Text         `json:"description,omitempty"`
	Kind        GoalKind     `json:"kind"`
	Public      bool         `json:"public"`
	Owner       string       `json:"owner,omitempty"`   // committee, department or role
	Horizon     string       `json:"horizon,omitempty"` // free text, e.g. "near", "long"
	Milestone   *Milestone   `json:"milestone,omitempty"`
	Indicators  []*Indicator `json:"indicators,omitempty"`
	// History holds assessments recorded in the strategy document itself
	// (e.g. Mölndal's status comments); they count as confirmed.
	History []RecordedAssessment `json:"history,omitempty"`
	// Dropped is set when the goal was dropped by a dated decision.
	Dropped *Decision `json:"dropped,omitempty"`
	AreaID  string    `json:"area"`
	Line    int       `json:"-"`
}

// Milestone is a goal that is done by a date.
type Milestone struct {
	Due  time.Time  `json:"due"`
	Done *time.Time `json:"done,omitempty"` // when it was done, if it was
}

// Decision is a dated decision with a note.
type Decision struct {
	Date time.Time `json:"date"`
	Note string    `json:"note"`
}

// RecordedAssessment is an assessment written in the strategy file.
type RecordedAssessment struct {
	Period  Period `json:"period"`
	Level   Level  `json:"level"`
	Comment string `json:"comment,omitempty"`
}

// Unit is the unit of an indicator's values.
type Unit string

const (
	UnitPercent Unit = "percent"
	UnitCount   Unit = "count"
	UnitDays    Unit = "days"
	UnitHours   Unit = "hours"
	UnitMinutes Unit = "minutes"
	UnitIndex   Unit = "index"
	UnitSEK     Unit = "SEK"
	UnitTkr     Unit = "tkr"
	UnitMSEK    Unit = "MSEK"
	UnitMbits   Unit = "Mbit/s"
	UnitMillis  Unit = "ms"
)

// Units lists the units a strategy file may use.
var Units = []Unit{UnitPercent, UnitCount, UnitDays, UnitHours, UnitMinutes, UnitIndex, UnitSEK, UnitTkr, UnitMSEK, UnitMbits, UnitMillis}

// Direction says which way is better.
type Direction string

const (
	Increase Direction = "increase"
	Decrease Direction = "decrease"
)

// Indicator is a measurable indicator of a goal.
type Indicator struct {
	ID          string    `json:"id"`
	Title       Text      `json:"title"`
	Description Text      `json:"description,omitempty"`
	Method      Text      `json:"method,omitempty"` // how it is measured
	Unit        Unit      `json:"unit"`
	Direction   Direction `json:"direction"`
	Baseline    *Baseline `json:"baseline,omitempty"`
	Targets     []Target  `json:"targets"`
	// Tolerance is how far from the target (in the indicator's unit) a value
	// may be and still count as "partly met" / "at risk" rather than "not met".
	Tolerance float64 `json:"tolerance"`
	// Freshness is how old the latest observation may be before it is stale.
	Freshness time.Duration `json:"freshness"`
	Public    bool          `json:"public"`
	Owner     string        `json:"owner,omitempty"`
	Weight    float64       `json:"weight,omitempty"` // weight in the maturity index (default 1)
	Source    Source        `json:"source"`
	GoalID    string        `json:"goal"`
	Line      int           `json:"-"`
}

// Baseline is the value an indicator started from (nuläge).
type Baseline struct {
	Value  float64   `json:"value"`
	Date   time.Time `json:"date"`
	Source string    `json:"source,omitempty"`
}

// TargetKind separates the long-term horizon targets from yearly targets.
type TargetKind string

const (
	TargetHorizon TargetKind = "horizon" // e.g. the 3- and 5-year targets
	TargetYearly  TargetKind = "yearly"  // årsmål for ILS-style follow-up
)

// Target is a dated target. Spec keeps what the file said ("80", "-30%",
// "+30", "halve"); Value is resolved against the baseline.
type Target struct {
	Date  time.Time  `json:"date"`
	Value float64    `json:"value"`
	Spec  string     `json:"spec"`
	Kind  TargetKind `json:"kind"`
	Label string     `json:"label,omitempty"` // e.g. "3 år"
	// Years is the horizon in years from the strategy start (3, 5), 0 if none.
	Years int `json:"years,omitempty"`
	// Decided is when this version of the target was decided. A yearly target
	// changed mid-year is a second Target with the same Date and a later
	// Decided; the version in force at a date is the latest decided on or
	// before it.
	Decided time.Time `json:"decided,omitempty"`
}

// Relative reports whether the target was given relative to the baseline.
func (t Target) Relative() bool {
	return len(t.Spec) > 0 && (t.Spec[0] == '+' || t.Spec[0] == '-' || t.Spec == "halve" || t.Spec == "double" || t.Spec[len(t.Spec)-1] == '%')
}

// Source is where an indicator's values come from: a built-in measure
// computed from raw facts, a series written by a collector or by hand, or a
// Kolada key figure.
type Source struct {
	Measure string            `json:"measure,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
	Series  string            `json:"series,omitempty"`
	Kolada  string            `json:"kolada,omitempty"`
	Note    string            `json:"note,omitempty"` // free text shown as "Källa"
}

// Programme is an investment programme with projects and budgets
// (Norrtälje's four programmes).
type Programme struct {
	ID          string     `json:"id"`
	Title       Text       `json:"title"`
	Description Text       `json:"description,omitempty"`
	Budget      float64    `json:"budget"` // in tkr
	Projects    []*Project `json:"projects,omitempty"`
	Line        int        `json:"-"`
}

// Project is one project of a programme.
type Project struct {
	ID          string   `json:"id"`
	Title       Text     `json:"title"`
	Description Text     `json:"description,omitempty"`
	Budget      float64  `json:"budget"`          // in tkr
	Goals       []string `json:"goals,omitempty"` // goal ids the project serves
	ProgrammeID string   `json:"programme"`
	Line        int      `json:"-"`
}

// Dimension breaks an observation down (department, case type, service,
// system, respondent group). The zero Dimension is the total.
type Dimension struct {
	Kind  string `json:"kind,omitempty"`
	Value string `json:"value,omitempty"`
}

// IsTotal reports whether d is the overall value.
func (d Dimension) IsTotal() bool { return d.Kind == "" && d.Value == "" }

// Observation is one value of an indicator for a period and dimension.
// Version orders re-imports and corrections: the highest version wins.
type Observation struct {
	Tenant    string    `json:"tenant"`
	Indicator string    `json:"indicator"`
	Period    Period    `json:"period"`
	Dimension Dimension `json:"dimension"`
	Value     float64   `json:"value"`
	Source    string    `json:"source"`
	Version   uint64    `json:"version"`
	Author    string    `json:"author,omitempty"`
	Comment   string    `json:"comment,omitempty"`
	Recorded  time.Time `json:"recorded"`
}

// Level is an ILS-style assessment level.
type Level string

const (
	LevelMet         Level = "met"
	LevelPartly      Level = "partly"
	LevelNotMet      Level = "not_met"
	LevelNotAssessed Level = "not_assessed"
	LevelNone        Level = "" // no forecast given
)

// SubjectKind is what an assessment is about.
type SubjectKind string

const (
	SubjectIndicator SubjectKind = "indicator"
	SubjectGoal      SubjectKind = "goal"
)

// Assessment is a person's (or the document's) assessment of a goal or an
// indicator for a period, with an analysis comment. Assessments are
// append-only: a later Revision supersedes an earlier one for the same
// subject and period.
type Assessment struct {
	Tenant    string      `json:"tenant"`
	Subject   SubjectKind `json:"subject"`
	SubjectID string      `json:"subject_id"`
	Period    Period      `json:"period"`
	Level     Level       `json:"level"`
	Forecast  Level       `json:"forecast,omitempty"` // full-year forecast at T1/T2 or Q1–Q3
	Proposed  Level       `json:"proposed,omitempty"` // what the engine proposed
	Comment   string      `json:"comment"`
	Ready     bool        `json:"ready"`     // klarmarkerad
	Confirmed bool        `json:"confirmed"` // published: a person confirmed it
	Author    string      `json:"author"`
	Created   time.Time   `json:"created"`
	Revision  uint64      `json:"revision"`
}
