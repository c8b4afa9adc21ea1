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
	RhythmQuarter  Rhythm = "quarter"
	RhythmTertial  Rhythm = "tertial"
	RhythmHalfYear Rhythm = "half_year" // delår (January–June) and helår
	RhythmMonth    Rhythm = "month"
)

// Rhythms lists the rhythms a strategy file may name.
var Rhythms = []Rhythm{RhythmTertial, RhythmQuarter, RhythmHalfYear, RhythmMonth}

// Body kinds: who decides a strategy, and who answers for a goal.
const (
	BodyCouncil    = "kommunfullmäktige" // KF, the city council
	BodyExecutive  = "kommunstyrelse"    // KS, the executive board
	BodyCommittee  = "nämnd"             // a committee
	BodyManagement = "ledningsgrupp"     // a management group
	BodyDepartment = "förvaltning"       // an administration
	BodyCompany    = "bolag"             // a municipal company
)

// DecidingBodies lists the values of decided_by.
var DecidingBodies = []string{BodyCouncil, BodyExecutive, BodyCommittee, BodyManagement}

// ResponsibleKinds lists the kinds of a goal's responsible bodies.
var ResponsibleKinds = []string{BodyCouncil, BodyExecutive, BodyCommittee, BodyDepartment, BodyCompany, BodyManagement}

// Strategy is one municipality's e- or IT-strategy, loaded from one YAML file.
type Strategy struct {
	File         string       `json:"-"`
	Municipality Municipality `json:"municipality"`
	ID           string       `json:"id"`
	Title        Text         `json:"title"`
	Vision       Text         `json:"vision"`
	Description  Text         `json:"description,omitempty"`
	// Adopted is the adoption day when the file gives a whole date; zero
	// otherwise. AdoptedOn holds what the file says, also a year or a
	// month alone ("2012", "2012-12", "2012-xx-xx"), and is unknown when
	// the file says nothing or "unknown".
	Adopted   time.Time   `json:"adopted"`
	AdoptedOn PartialDate `json:"-"`
	// DecidedBy is the body that adopted the strategy: one of
	// DecidingBodies, or "" when the file does not say.
	DecidedBy string    `json:"decided_by,omitempty"`
	Owner     string    `json:"owner,omitempty"` // who answers for the strategy (e.g. "IT-chefen")
	Start     time.Time `json:"start"`           // start of the strategy period
	End       time.Time `json:"end,omitzero"`    // optional end of the strategy period
	Rhythm    Rhythm    `json:"rhythm"`
	// Reports lists which report periods of a year get a report, by their
	// number within the year for the rhythm's period kind (T1 = 1, Q2 = 2,
	// H1 = 1, March = 3) and 0 for the full year. Empty: every report
	// period (see progress.ReportPeriods). ILS: [1, 2, 0] = T1, T2, helår.
	Reports []int `json:"reports,omitempty"`
	// UpperGoals are the goals of the level above (KF's inriktningsmål and
	// mål) that areas and goals contribute to: declared in the file
	// (upper_goals) or read from another strategy file (upper_goals_from),
	// whose goal areas are then the inriktningsmål and its goals the mål.
	UpperGoals []*UpperGoal `json:"upper_goals,omitempty"`
	// UpperFrom is the file the upper goals were read from, as written.
	UpperFrom string `json:"upper_from,omitempty"`

	// Follows is the file of the strategy this one succeeds (the 2015–17
	// plan before the 2018–20 plan), as written; Previous is that
	// strategy, read with it. Goals and indicators that continue one of
	// the previous plan's say so in Continues.
	Follows  string    `json:"follows,omitempty"`
	Previous *Strategy `json:"-"`

	Maturity   *MaturityModel `json:"maturity,omitempty"`
	Areas      []*GoalArea    `json:"areas"`
	Programmes []*Programme   `json:"programmes,omitempty"`
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

// UpperLevel is the kind of a goal of the level above.
type UpperLevel string

const (
	UpperLevelDirection UpperLevel = "inriktningsmål" // a direction goal of KF
	UpperLevelGoal      UpperLevel = "mål"            // a goal of KF, under a direction
)

// UpperGoal is a goal of the level above (kommunfullmäktige's
// inriktningsmål or mål) that the strategy's areas and goals contribute to.
type UpperGoal struct {
	ID          string     `json:"id"`
	Level       UpperLevel `json:"level"`
	Title       Text       `json:"title"`
	Description Text       `json:"description,omitempty"`
	Parent      string     `json:"parent,omitempty"` // for a mål: its inriktningsmål
	From        string     `json:"from,omitempty"`   // the file it was read from; "" when declared here
	Line        int        `json:"-"`
}

// GoalArea groups goals (a "målområde", "övergripande mål" or dimension).
type GoalArea struct {
	ID          string  `json:"id"`
	Title       Text    `json:"title"`
	Description Text    `json:"description,omitempty"`
	Dimension   string  `json:"dimension,omitempty"` // maturity dimension id
	Goals       []*Goal `json:"goals"`
	// Refs are the ids of goals defined under another area that also
	// belong to this one (written "- ref: goal-id" in the goals list). They
	// count once in every roll-up of the strategy, and in this area's.
	Refs []string `json:"refs,omitempty"`
	// ContributesTo lists the ids of upper goals the area contributes to.
	ContributesTo []string `json:"contributes_to,omitempty"`
	Line          int      `json:"-"`
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
	Horizon     string       `json:"horizon,omitempty"` // free text, e.g. "near", "long", "på lång sikt"
	Milestone   *Milestone   `json:"milestone,omitempty"`
	Indicators  []*Indicator `json:"indicators,omitempty"`
	// ContributesTo lists the ids of upper goals the goal contributes to.
	ContributesTo []string `json:"contributes_to,omitempty"`
	// Bodies are the responsible bodies (nämnder, förvaltningar, bolag)
	// that each report on the goal; the Owner confirms the goal's
	// assessment.
	Bodies []Body `json:"bodies,omitempty"`
	// SubGoals (delmål) and Criteria (kriterier) are assessed on their own
	// and rolled up into the goal with the strategy's roll_up rule.
	SubGoals []*Goal      `json:"subgoals,omitempty"`
	Criteria []*Criterion `json:"criteria,omitempty"`
	// Activities are the goal's activities (the yearly IT plan).
	Activities []*Activity `json:"activities,omitempty"`
	// ParentID is the goal a sub-goal belongs to; "" for a goal of an area.
	ParentID string `json:"parent,omitempty"`
	// History holds assessments recorded in the strategy document itself
	// (e.g. Mölndal's status comments); they count as confirmed.
	History []RecordedAssessment `json:"history,omitempty"`
	// Dropped is set when the goal was dropped by a dated decision.
	Dropped *Decision `json:"dropped,omitempty"`
	AreaID  string    `json:"area"`
	Line    int       `json:"-"`

	// Continues is the id of the goal or indicator of the previous plan
	// (Strategy.Follows) this one continues, keeping its history.
	Continues string `json:"continues,omitempty"`
}

// Milestone is a goal that is done by a date. Due is the last day of what
// the file gives ("2027" → 2027-12-31); zero for a milestone with only a
// horizon text (Goal.Horizon, "på lång sikt").
type Milestone struct {
	Due   time.Time   `json:"due,omitzero"`
	DueAs PartialDate `json:"due_as,omitzero"` // the due date as written
	Done  *time.Time  `json:"done,omitempty"`  // when it was done, if it was
}

// Body is a body responsible for a goal: a committee, an administration or
// a company.
type Body struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"` // one of ResponsibleKinds
}

// Criterion is a criterion (kriterium) of a goal: a statement that is
// assessed on its own (Assessment with SubjectGoal and the criterion's id).
type Criterion struct {
	ID     string `json:"id"`
	Title  Text   `json:"title"`
	GoalID string `json:"goal"`
	Line   int    `json:"-"`
}

// ActivityStatus is where an activity stands.
type ActivityStatus string

const (
	ActivityNotStarted ActivityStatus = "not_started" // ej påbörjad
	ActivityOngoing    ActivityStatus = "ongoing"     // pågår
	ActivityDone       ActivityStatus = "done"        // klar
	ActivityDelayed    ActivityStatus = "delayed"     // försenad
	ActivityCancelled  ActivityStatus = "cancelled"   // avbruten
)

// ActivityStatuses lists the statuses in order, with their Swedish names
// (which the file may use as well).
var ActivityStatuses = []struct {
	Status ActivityStatus
	Label  Text
}{
	{ActivityNotStarted, Text{SV: "ej påbörjad", EN: "not started"}},
	{ActivityOngoing, Text{SV: "pågår", EN: "ongoing"}},
	{ActivityDone, Text{SV: "klar", EN: "done"}},
	{ActivityDelayed, Text{SV: "försenad", EN: "delayed"}},
	{ActivityCancelled, Text{SV: "avbruten", EN: "cancelled"}},
}

// Label is the status's name in lang.
func (s ActivityStatus) Label(lang string) string {
	for _, a := range ActivityStatuses {
		if a.Status == s {
			return a.Label.In(lang)
		}
	}
	return string(s)
}

// Activity is one activity of a goal (aktivitet in the yearly IT plan).
// Money is in tkr; nil is unknown, never 0.
type Activity struct {
	ID          string         `json:"id"`
	Title       Text           `json:"title"`
	Responsible string         `json:"responsible,omitempty"`
	Start       PartialDate    `json:"start"`
	Due         PartialDate    `json:"due"`
	Status      ActivityStatus `json:"status"`
	Budget      *float64       `json:"budget"`  // tkr
	Outcome     *float64       `json:"outcome"` // tkr spent
	GoalID      string         `json:"goal"`
	Line        int            `json:"-"`
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

	// Continues is the id of the goal or indicator of the previous plan
	// (Strategy.Follows) this one continues, keeping its history.
	Continues string `json:"continues,omitempty"`
}

// Baseline is the value an indicator started from (nuläge). An approximate
// baseline ("~50", "ca 50") has Approx set; Text keeps the document's own
// words ("ett femtiotal").
type Baseline struct {
	Value  float64   `json:"value"`
	Date   time.Time `json:"date"`
	Source string    `json:"source,omitempty"`
	Approx bool      `json:"approx,omitempty"`
	Text   string    `json:"text,omitempty"`
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
	Decided time.Time `json:"decided,omitzero"`
	// Op is set for a threshold target ("> 50", "≥ 80"): ">", ">=", "<"
	// or "<=". The progress engine reads it as reaching Value; Op keeps
	// whether the value itself counts.
	Op string `json:"op,omitempty"`
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

// Programme is an investment programme or portfolio with projects and
// budgets (Norrtälje's four programmes). Money is in tkr; nil is unknown,
// never 0.
type Programme struct {
	ID          string `json:"id"`
	Title       Text   `json:"title"`
	Description Text   `json:"description,omitempty"`
	// Budget is the programme's whole budget frame: as written, else the
	// sum of its projects' budgets when every project has one, else nil.
	Budget   *float64        `json:"budget"`
	Areas    []string        `json:"areas,omitempty"` // goal areas the programme serves
	Owner    string          `json:"owner,omitempty"`
	Years    []ProgrammeYear `json:"years,omitempty"` // budget frame and outcome per year, by year
	Projects []*Project      `json:"projects,omitempty"`
	Line     int             `json:"-"`
}

// ProgrammeYear is a programme's budget frame and outcome for one year, in
// tkr; nil is unknown.
type ProgrammeYear struct {
	Year    int      `json:"year"`
	Budget  *float64 `json:"budget"`
	Outcome *float64 `json:"outcome"`
}

// Project is one project of a programme.
type Project struct {
	ID          string   `json:"id"`
	Title       Text     `json:"title"`
	Description Text     `json:"description,omitempty"`
	Budget      *float64 `json:"budget"`          // in tkr; nil is unknown
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
