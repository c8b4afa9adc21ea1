package strategy

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/internal/strictyaml"
)

// RollUpRules lists the roll_up rules a strategy may name, with what they
// mean; the progress engine implements them.
var RollUpRules = map[string]string{
	"strict":   "all met → met; any not met → not met; otherwise partly",
	"majority": "the level most indicators have; a tie goes to the worse level",
}

// DefaultRollUp is the roll_up rule when the file names none.
const DefaultRollUp = "strict"

// DefaultFreshness is how old an indicator's latest value may be before it
// is stale when the file does not say: one follow-up period and a month.
func DefaultFreshness(r Rhythm) time.Duration {
	if r == RhythmQuarter {
		return 4 * durMonth
	}
	return 5 * durMonth
}

// DefaultToleranceShare is the share of the distance between baseline and
// final target used as tolerance when an indicator sets none.
const DefaultToleranceShare = 0.05

var (
	idRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	slugRE   = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
	codeRE   = regexp.MustCompile(`^[0-9]{4}$`)
	koladaRE = regexp.MustCompile(`^[A-Z][0-9]{5}$`)
	yearRE   = regexp.MustCompile(`^[0-9]{4}$`)
)

// counties holds the two-digit county (län) codes that start a kommunkod.
var counties = map[string]bool{
	"01": true, "03": true, "04": true, "05": true, "06": true, "07": true, "08": true,
	"09": true, "10": true, "12": true, "13": true, "14": true, "17": true, "18": true,
	"19": true, "20": true, "21": true, "22": true, "23": true, "24": true, "25": true,
}

// builder turns the decoded file into domain types, collecting every
// problem with its line.
type builder struct {
	file      string
	errs      strictyaml.Errors
	s         *Strategy
	ids       map[string]int // areas, goals, indicators: id → line
	investIDs map[string]int // programmes and projects: id → line
	actIDs    map[string]int // activities: id → line
	upperIDs  map[string]int // upper goals: id → line
	dims      map[string]bool
	readFile  func(name string) ([]byte, error)
	nested    bool           // parsing the file named by upper_goals_from
	continued map[string]int // previous plan's ids continued → line
	refs      []goalRef
}

func (b *builder) errorf(line int, format string, args ...any) {
	b.errs = append(b.errs, &strictyaml.Error{File: b.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (b *builder) sort() {
	sort.SliceStable(b.errs, func(i, j int) bool { return b.errs[i].Line < b.errs[j].Line })
}

// Node helpers. The decoded structs and the node tree have the same shape
// once strictyaml.Decode succeeded; the helpers still check every step so
// that a mismatch can never panic.

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// field returns the value node of key in mapping m, or nil.
func field(m *yaml.Node, key string) *yaml.Node {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return deref(m.Content[i+1])
		}
	}
	return nil
}

// lineOf is the line of key's value in m, or m's own line when key is absent.
func lineOf(m *yaml.Node, key string) int {
	if v := field(m, key); v != nil {
		return v.Line
	}
	if m != nil {
		return m.Line
	}
	return 0
}

// nodeLine is n's line, or fallback's when n is nil.
func nodeLine(n, fallback *yaml.Node) int {
	if n != nil {
		return n.Line
	}
	if fallback != nil {
		return fallback.Line
	}
	return 0
}

// items returns the elements of the sequence under key in m.
func items(m *yaml.Node, key string) []*yaml.Node {
	v := field(m, key)
	if v == nil || v.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, len(v.Content))
	for i, c := range v.Content {
		out[i] = deref(c)
	}
	return out
}

// at returns list[i], or an empty node carrying parent's line.
func at(list []*yaml.Node, i int, parent *yaml.Node) *yaml.Node {
	if i < len(list) && list[i] != nil {
		return list[i]
	}
	n := &yaml.Node{}
	if parent != nil {
		n.Line = parent.Line
	}
	return n
}

// pairs returns the key and value nodes of the mapping under key in m.
func pairs(m *yaml.Node, key string) [][2]*yaml.Node {
	v := field(m, key)
	if v == nil || v.Kind != yaml.MappingNode {
		return nil
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(v.Content); i += 2 {
		out = append(out, [2]*yaml.Node{v.Content[i], deref(v.Content[i+1])})
	}
	return out
}

// text reads a Text: a plain string (Swedish) or a mapping {sv:, en:}.
func (b *builder) text(n *yaml.Node) Text {
	n = deref(n)
	if n == nil || n.Kind == 0 || n.ShortTag() == "!!null" {
		return Text{}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return Text{SV: strings.TrimSpace(n.Value)}
	case yaml.MappingNode:
		var t Text
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], deref(n.Content[i+1])
			if v == nil || (v.Kind != yaml.ScalarNode) {
				b.errorf(k.Line, "text %q must be a string", k.Value)
				continue
			}
			val := strings.TrimSpace(v.Value)
			if v.ShortTag() == "!!null" {
				val = ""
			}
			switch k.Value {
			case "sv":
				t.SV = val
			case "en":
				t.EN = val
			default:
				b.errorf(k.Line, "unknown key %q in text (want sv and en)", k.Value)
			}
		}
		if t.SV == "" && t.EN != "" {
			b.errorf(n.Line, "text needs a Swedish version (sv)")
		}
		return t
	}
	b.errorf(n.Line, "text must be a string or a mapping with sv and en")
	return Text{}
}

// date reads an optional YYYY-MM-DD date; ok is false when it is absent or bad.
func (b *builder) date(s string, line int, what string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		b.errorf(line, "%s: invalid date %q (want YYYY-MM-DD)", what, s)
		return time.Time{}, false
	}
	return t, true
}

// number reads an optional number; ok is false when it is absent or bad.
func (b *builder) number(s string, line int, what string) (float64, bool) {
	if strings.TrimSpace(s) == "" {
		return 0, false
	}
	v, err := ParseNumber(s)
	if err != nil {
		b.errorf(line, "%s: %v", what, err)
		return 0, false
	}
	return v, true
}

// id checks a required id and records it in namespace ns.
func (b *builder) id(id string, m *yaml.Node, ns map[string]int) bool {
	line := lineOf(m, "id")
	if id == "" {
		b.errorf(line, "id is required")
		return false
	}
	if !idRE.MatchString(id) {
		b.errorf(line, "invalid id %q (want lower-case letters, digits, \"-\", \"_\" or \".\", starting with a letter or digit)", id)
		return false
	}
	if ns == nil {
		return true
	}
	if first, dup := ns[id]; dup {
		b.errorf(line, "duplicate id %q (first used at line %d)", id, first)
		return false
	}
	ns[id] = line
	return true
}

func (b *builder) title(n *yaml.Node, m *yaml.Node) Text {
	before := len(b.errs)
	t := b.text(n)
	if t.SV == "" && t.EN == "" && len(b.errs) == before {
		b.errorf(lineOf(m, "title"), "title is required")
	}
	return t
}

func (b *builder) strategy(r *yStrategy, root *yaml.Node) *Strategy {
	s := &Strategy{File: b.file}
	b.s = s
	b.municipality(r.Municipality, root, &s.Municipality)
	b.id(r.ID, root, nil)
	s.ID = r.ID
	s.Title = b.title(&r.Title, root)
	s.Vision = b.text(&r.Vision)
	s.Description = b.text(&r.Description)
	s.AdoptedOn = b.partialDate(r.Adopted, lineOf(root, "adopted"), "adopted")
	s.Adopted, _ = s.AdoptedOn.Time()
	s.DecidedBy = b.decidedBy(r.DecidedBy, lineOf(root, "decided_by"))
	s.Owner = strings.TrimSpace(r.Owner)
	var ok bool
	s.Start, ok = b.date(r.Start, lineOf(root, "start"), "start")
	if !ok && strings.TrimSpace(r.Start) == "" {
		b.errorf(lineOf(root, "start"), "start is required")
	}
	if end, ok := b.date(r.End, lineOf(root, "end"), "end"); ok {
		s.End = end
		if !s.Start.IsZero() && !end.After(s.Start) {
			b.errorf(lineOf(root, "end"), "end %s is not after start %s", day(end), day(s.Start))
		}
	}
	switch Rhythm(r.Rhythm) {
	case "":
		s.Rhythm = RhythmTertial
	case RhythmQuarter, RhythmTertial, RhythmHalfYear, RhythmMonth:
		s.Rhythm = Rhythm(r.Rhythm)
	default:
		b.errorf(lineOf(root, "rhythm"), "unknown rhythm %q (want tertial, quarter, half_year or month)", r.Rhythm)
	}
	s.Reports = b.reports(r.Reports, root)
	b.upperGoals(r, root)
	b.follows(r, root)
	s.RollUp = DefaultRollUp
	if r.RollUp != "" {
		if _, ok := RollUpRules[r.RollUp]; ok {
			s.RollUp = r.RollUp
		} else {
			b.errorf(lineOf(root, "roll_up"), "unknown roll_up rule %q (want %s)", r.RollUp, orList(sortedKeys(RollUpRules)))
		}
	}
	if r.Maturity != nil {
		s.Maturity = b.maturity(r.Maturity, field(root, "maturity"))
	}
	if len(r.Areas) == 0 {
		b.errorf(lineOf(root, "areas"), "at least one goal area is required (areas)")
	}
	areaNodes := items(root, "areas")
	for i := range r.Areas {
		if a := b.area(&r.Areas[i], at(areaNodes, i, root)); a != nil {
			s.Areas = append(s.Areas, a)
		}
	}
	b.resolveRefs()
	progNodes := items(root, "programmes")
	for i := range r.Programmes {
		if p := b.programme(&r.Programmes[i], at(progNodes, i, root)); p != nil {
			s.Programmes = append(s.Programmes, p)
		}
	}
	return s
}

func (b *builder) municipality(r *yMunicipality, root *yaml.Node, m *Municipality) {
	if r == nil {
		b.errorf(lineOf(root, "municipality"), "municipality is required")
		return
	}
	n := field(root, "municipality")
	code := strings.TrimSpace(r.Code)
	switch {
	case code == "":
		b.errorf(lineOf(n, "code"), "municipality code is required")
	case !codeRE.MatchString(code):
		b.errorf(lineOf(n, "code"), "municipality code %q is not a kommunkod (want four digits as a string, e.g. \"0120\")", code)
	case !counties[code[:2]]:
		b.errorf(lineOf(n, "code"), "municipality code %q is not a kommunkod: %s is not a county (län) code", code, code[:2])
	}
	m.Code = code
	m.Name = strings.TrimSpace(r.Name)
	if m.Name == "" {
		b.errorf(lineOf(n, "name"), "municipality name is required")
	}
	m.Slug = r.Slug
	if m.Slug == "" {
		m.Slug = Slugify(m.Name)
	} else if !slugRE.MatchString(m.Slug) {
		b.errorf(lineOf(n, "slug"), "invalid slug %q (want lower-case letters and digits separated by \"-\")", m.Slug)
	}
}

// Slugify derives a URL slug from a municipality name: "Värmdö kommun" →
// "varmdo", "Mölndals stad" → "molndals".
func Slugify(name string) string {
	s := strings.ToLower(strings.TrimSpace(name))
	for _, suffix := range []string{" kommun", " stad", " municipality"} {
		s = strings.TrimSuffix(s, suffix)
	}
	var out []byte
	dash := false
	for _, r := range s {
		switch r {
		case 'å', 'ä', 'à', 'á', 'â':
			r = 'a'
		case 'ö', 'ø', 'ó', 'ò', 'ô':
			r = 'o'
		case 'é', 'è', 'ê', 'ë':
			r = 'e'
		case 'ü', 'ú':
			r = 'u'
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			out = append(out, byte(r))
			dash = false
		} else if !dash && len(out) > 0 {
			out = append(out, '-')
			dash = true
		}
	}
	return strings.TrimSuffix(string(out), "-")
}

func (b *builder) maturity(r *yMaturity, n *yaml.Node) *MaturityModel {
	m := &MaturityModel{Name: b.text(&r.Name), Description: b.text(&r.Description)}
	if m.Name.SV == "" && m.Name.EN == "" {
		b.errorf(lineOf(n, "name"), "maturity name is required")
	}
	b.dims = map[string]bool{}
	seen := map[string]int{}
	dimNodes := items(n, "dimensions")
	if len(r.Dimensions) == 0 {
		b.errorf(lineOf(n, "dimensions"), "a maturity model needs at least one dimension")
	}
	for i := range r.Dimensions {
		d, dn := &r.Dimensions[i], at(dimNodes, i, n)
		if !b.id(d.ID, dn, seen) {
			continue
		}
		b.dims[d.ID] = true
		md := &MaturityDimension{ID: d.ID, Title: b.title(&d.Title, dn), Survey: d.Survey}
		if d.Survey != "" && !idRE.MatchString(d.Survey) {
			b.errorf(lineOf(dn, "survey"), "invalid series name %q", d.Survey)
		}
		if share, ok := b.number(d.SurveyShare, lineOf(dn, "survey_share"), "survey_share"); ok {
			switch {
			case share < 0 || share > 1:
				b.errorf(lineOf(dn, "survey_share"), "survey_share %s is outside 0–1", formatNumber(share))
			case d.Survey == "":
				b.errorf(lineOf(dn, "survey_share"), "survey_share needs a survey series")
			}
			md.SurveyShare = share
		} else if d.Survey != "" && strings.TrimSpace(d.SurveyShare) == "" {
			b.errorf(lineOf(dn, "survey"), "survey needs a survey_share (0–1)")
		}
		m.Dimensions = append(m.Dimensions, md)
	}
	return m
}

func (b *builder) area(r *yArea, n *yaml.Node) *GoalArea {
	okID := b.id(r.ID, n, b.ids)
	a := &GoalArea{ID: r.ID, Title: b.title(&r.Title, n), Description: b.text(&r.Description), Dimension: r.Dimension, Line: n.Line}
	a.ContributesTo = b.contributes(r.Contributes, n)
	switch {
	case r.Dimension != "" && b.s.Maturity == nil:
		b.errorf(lineOf(n, "dimension"), "dimension %q needs a maturity model", r.Dimension)
	case r.Dimension != "" && !b.dims[r.Dimension]:
		b.errorf(lineOf(n, "dimension"), "unknown maturity dimension %q", r.Dimension)
	case r.Dimension == "" && b.dims[r.ID]:
		a.Dimension = r.ID
	}
	goalNodes := items(n, "goals")
	for i := range r.Goals {
		if r.Goals[i].Ref != "" {
			b.goalRef(&r.Goals[i], at(goalNodes, i, n), a)
			continue
		}
		if g := b.goal(&r.Goals[i], at(goalNodes, i, n), a, nil); g != nil {
			a.Goals = append(a.Goals, g)
		}
	}
	if !okID {
		return nil
	}
	return a
}

func (b *builder) goal(r *yGoal, n *yaml.Node, a *GoalArea, parent *Goal) *Goal {
	okID := b.id(r.ID, n, b.ids)
	g := &Goal{
		ID: r.ID, Title: b.title(&r.Title, n), Description: b.text(&r.Description),
		Owner: r.Owner, Horizon: strings.TrimSpace(r.Horizon), AreaID: a.ID, Line: n.Line,
	}
	g.Continues = b.continues(r.Continues, n, "goal")
	if r.Public != nil {
		g.Public = *r.Public
	}
	if parent != nil {
		g.ParentID = parent.ID
		if r.Public == nil {
			g.Public = parent.Public
		}
		if r.Owner == "" {
			g.Owner = parent.Owner
		}
	}
	switch GoalKind(r.Kind) {
	case "":
		g.Kind = GoalMeasured
		if parent != nil && len(r.Indicators) == 0 {
			g.Kind = GoalQualitative
		}
		if r.Due != "" {
			g.Kind = GoalMilestone
		}
	case GoalMeasured, GoalMilestone, GoalQualitative:
		g.Kind = GoalKind(r.Kind)
	default:
		b.errorf(lineOf(n, "kind"), "unknown goal kind %q (want measured, milestone or qualitative)", r.Kind)
	}
	if g.Kind == GoalMilestone {
		dueAs := b.partialDate(r.Due, lineOf(n, "due"), "due")
		if !dueAs.Known() && g.Horizon == "" && !b.bad(r.Due) {
			b.errorf(lineOf(n, "kind"), "milestone goal %q needs a due date (due) or a horizon text (horizon)", r.ID)
		}
		g.Milestone = &Milestone{Due: dueAs.Last(), DueAs: dueAs}
		if done, ok := b.date(r.Done, lineOf(n, "done"), "done"); ok {
			g.Milestone.Done = &done
		}
	} else if g.Kind != "" {
		if r.Due != "" {
			b.errorf(lineOf(n, "due"), "due is only for milestone goals (kind: milestone)")
		}
		if r.Done != "" {
			b.errorf(lineOf(n, "done"), "done is only for milestone goals (kind: milestone)")
		}
	}
	if g.Kind == GoalMeasured && len(r.Indicators) == 0 {
		b.errorf(lineOf(n, "kind"), "measured goal %q has no indicators (add indicators or set kind: qualitative)", r.ID)
	}
	seenPeriods := map[Period]int{}
	histNodes := items(n, "history")
	for i, h := range r.History {
		hn := at(histNodes, i, n)
		ra, ok := b.history(h, hn)
		if !ok {
			continue
		}
		if first, dup := seenPeriods[ra.Period]; dup {
			b.errorf(lineOf(hn, "period"), "duplicate history entry for %s (first at line %d)", ra.Period, first)
			continue
		}
		seenPeriods[ra.Period] = lineOf(hn, "period")
		g.History = append(g.History, ra)
	}
	if r.Dropped != nil {
		dn := field(n, "dropped")
		date, ok := b.date(r.Dropped.Date, lineOf(dn, "date"), "dropped date")
		if !ok && strings.TrimSpace(r.Dropped.Date) == "" {
			b.errorf(lineOf(dn, "date"), "dropped needs a date")
		}
		if ok {
			g.Dropped = &Decision{Date: date, Note: strings.TrimSpace(r.Dropped.Note)}
		}
	}
	indNodes := items(n, "indicators")
	if parent != nil && len(r.Indicators) > 0 {
		b.errorf(keyLine(n, "indicators"), "sub-goal %q cannot have indicators of its own: put them on the goal %q", r.ID, parent.ID)
		r.Indicators = nil
	}
	for i := range r.Indicators {
		if ind := b.indicator(&r.Indicators[i], at(indNodes, i, n), g); ind != nil {
			g.Indicators = append(g.Indicators, ind)
		}
	}
	b.goalExtras(r, n, a, parent, g)
	if !okID {
		return nil
	}
	return g
}

func (b *builder) history(h yHistory, n *yaml.Node) (RecordedAssessment, bool) {
	var ra RecordedAssessment
	ok := true
	if strings.TrimSpace(h.Period) == "" {
		b.errorf(lineOf(n, "period"), "history entry needs a period")
		ok = false
	} else if p, err := ParsePeriod(h.Period); err != nil {
		b.errorf(lineOf(n, "period"), "%v", err)
		ok = false
	} else {
		ra.Period = p
	}
	switch Level(h.Level) {
	case LevelMet, LevelPartly, LevelNotMet, LevelNotAssessed:
		ra.Level = Level(h.Level)
	case "":
		b.errorf(lineOf(n, "level"), "history entry needs a level (met, partly, not_met or not_assessed)")
		ok = false
	default:
		b.errorf(lineOf(n, "level"), "unknown level %q (want met, partly, not_met or not_assessed)", h.Level)
		ok = false
	}
	ra.Comment = strings.TrimSpace(h.Comment)
	return ra, ok
}

func (b *builder) indicator(r *yIndicator, n *yaml.Node, g *Goal) *Indicator {
	okID := b.id(r.ID, n, b.ids)
	ind := &Indicator{
		ID: r.ID, Title: b.title(&r.Title, n), Description: b.text(&r.Description), Method: b.text(&r.Method),
		Public: g.Public, Owner: g.Owner, Weight: 1, GoalID: g.ID, Line: n.Line,
	}
	ind.Continues = b.continues(r.Continues, n, "indicator")
	if r.Public != nil {
		ind.Public = *r.Public
	}
	if r.Owner != "" {
		ind.Owner = r.Owner
	}
	switch {
	case r.Unit == "":
		b.errorf(lineOf(n, "unit"), "unit is required")
	case !slices.Contains(Units, Unit(r.Unit)):
		b.errorf(lineOf(n, "unit"), "unknown unit %q (want one of %s)", r.Unit, unitList())
	default:
		ind.Unit = Unit(r.Unit)
	}
	switch Direction(r.Direction) {
	case Increase, Decrease:
		ind.Direction = Direction(r.Direction)
	case "":
		b.errorf(lineOf(n, "direction"), "direction is required (increase or decrease)")
	default:
		b.errorf(lineOf(n, "direction"), "unknown direction %q (want increase or decrease)", r.Direction)
	}
	b.source(r, n, ind)
	if r.Baseline != nil {
		ind.Baseline = b.baseline(r.Baseline, field(n, "baseline"), ind)
	}
	b.targets(r, n, ind)
	if tol, ok := b.number(r.Tolerance, lineOf(n, "tolerance"), "tolerance"); ok {
		if tol < 0 {
			b.errorf(lineOf(n, "tolerance"), "tolerance %s is negative", formatNumber(tol))
		}
		ind.Tolerance = tol
	} else if strings.TrimSpace(r.Tolerance) == "" {
		ind.Tolerance = defaultTolerance(ind)
	}
	ind.Freshness = DefaultFreshness(b.s.Rhythm)
	if r.Freshness != "" {
		if d, err := ParseDuration(r.Freshness); err != nil {
			b.errorf(lineOf(n, "freshness"), "freshness: %v", err)
		} else {
			ind.Freshness = d
		}
	}
	if w, ok := b.number(r.Weight, lineOf(n, "weight"), "weight"); ok {
		if w < 0 {
			b.errorf(lineOf(n, "weight"), "weight %s is negative", formatNumber(w))
		}
		ind.Weight = w
	}
	if !okID {
		return nil
	}
	return ind
}

func (b *builder) source(r *yIndicator, n *yaml.Node, ind *Indicator) {
	if r.Source == nil {
		ind.Source = Source{Series: r.ID}
		return
	}
	src, sn := r.Source, field(n, "source")
	ind.Source = Source{Measure: src.Measure, Series: src.Series, Kolada: src.Kolada, Note: strings.TrimSpace(src.Note)}
	set := 0
	for _, v := range []string{src.Measure, src.Series, src.Kolada} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		b.errorf(nodeLine(sn, n), "source needs exactly one of measure, series or kolada")
	}
	if len(src.Params) > 0 && src.Measure == "" {
		b.errorf(lineOf(sn, "params"), "params are only allowed with a measure")
	}
	switch {
	case src.Measure != "":
		spec, ok := Measures[src.Measure]
		if !ok {
			b.errorf(lineOf(sn, "measure"), "unknown measure %q%s", src.Measure, suggestMeasure(src.Measure))
			return
		}
		if ind.Unit != "" && ind.Unit != spec.Unit {
			b.errorf(lineOf(n, "unit"), "unit %s does not match measure %s (%s)", ind.Unit, spec.Name, spec.Unit)
		}
		for _, kv := range pairs(sn, "params") {
			k, v := kv[0].Value, kv[1]
			if !slices.Contains(spec.Params, k) {
				b.errorf(kv[0].Line, "measure %s has no parameter %q (parameters: %s)", spec.Name, k, strings.Join(spec.Params, ", "))
				continue
			}
			b.param(spec.Name, k, v)
		}
		if len(src.Params) > 0 {
			ind.Source.Params = map[string]string{}
			for k, v := range src.Params {
				ind.Source.Params[k] = strings.TrimSpace(v)
			}
		}
	case src.Series != "":
		if !idRE.MatchString(src.Series) {
			b.errorf(lineOf(sn, "series"), "invalid series name %q (want lower-case letters, digits, \"-\", \"_\" or \".\")", src.Series)
		}
	case src.Kolada != "":
		if !koladaRE.MatchString(src.Kolada) {
			b.errorf(lineOf(sn, "kolada"), "invalid Kolada KPI id %q (want a capital letter and five digits, e.g. N15428)", src.Kolada)
		}
	}
}

// param checks the values of the measure parameters that have a fixed form.
func (b *builder) param(measure, key string, v *yaml.Node) {
	if v == nil {
		return
	}
	val := strings.TrimSpace(v.Value)
	switch key {
	case "top":
		if n, err := strconv.Atoi(val); err != nil || n < 1 {
			b.errorf(v.Line, "measure %s: top must be a whole number of at least 1, not %q", measure, val)
		}
	case "min":
		if _, err := ParseNumber(val); err != nil {
			b.errorf(v.Line, "measure %s: min must be a number, not %q", measure, val)
		}
	default:
		if val == "" {
			b.errorf(v.Line, "measure %s: parameter %s is empty", measure, key)
		}
	}
}

func (b *builder) baseline(r *yBaseline, n *yaml.Node, ind *Indicator) *Baseline {
	bl := &Baseline{Source: strings.TrimSpace(r.Source), Text: strings.TrimSpace(r.Text)}
	value, approx := cutApprox(r.Value)
	bl.Approx = approx
	v, okV := b.number(value, lineOf(n, "value"), "baseline value")
	if !okV && strings.TrimSpace(value) == "" {
		if bl.Text != "" {
			b.errorf(lineOf(n, "value"), "baseline needs a value: write the number the text means, e.g. value: ~50 for %q", bl.Text)
		} else {
			b.errorf(lineOf(n, "value"), "baseline needs a value")
		}
	}
	d, okD := b.date(r.Date, lineOf(n, "date"), "baseline date")
	if !okD && strings.TrimSpace(r.Date) == "" {
		b.errorf(lineOf(n, "date"), "baseline needs a date")
	}
	if !okV || !okD {
		return nil
	}
	bl.Value, bl.Date = v, d
	b.checkRange(ind, v, lineOf(n, "value"), fmt.Sprintf("baseline %s", formatNumber(v)))
	return bl
}

// checkRange reports values the indicator's unit cannot take.
func (b *builder) checkRange(ind *Indicator, v float64, line int, what string) {
	switch ind.Unit {
	case UnitPercent:
		if v < 0 || v > 100 {
			b.errorf(line, "%s is outside 0–100 (unit percent)", what)
		}
	case UnitCount, UnitDays, UnitHours, UnitMinutes, UnitMillis, UnitMbits:
		if v < 0 {
			b.errorf(line, "%s is negative (unit %s)", what, ind.Unit)
		}
	}
}

// rawTarget is one target as written, before resolution.
type rawTarget struct {
	date, decided time.Time
	value         string
	kind          TargetKind
	label         string
	years         int
	line          int // line of the value (or of the entry)
	dateLine      int
}

func (b *builder) targets(r *yIndicator, n *yaml.Node, ind *Indicator) {
	var raws []rawTarget
	tNodes := items(n, "targets")
	for i, t := range r.Targets {
		tn := at(tNodes, i, n)
		rt := rawTarget{value: t.Value, label: strings.TrimSpace(t.Label), line: lineOf(tn, "value"), dateLine: lineOf(tn, "date")}
		ok := true
		if strings.TrimSpace(t.Value) == "" {
			b.errorf(lineOf(tn, "value"), "target needs a value")
			ok = false
		}
		var dok bool
		rt.date, dok = b.date(t.Date, rt.dateLine, "target date")
		if !dok {
			if strings.TrimSpace(t.Date) == "" {
				b.errorf(rt.dateLine, "target needs a date")
			}
			ok = false
		}
		switch TargetKind(t.Kind) {
		case "":
			rt.kind = TargetHorizon
		case TargetHorizon, TargetYearly:
			rt.kind = TargetKind(t.Kind)
		default:
			b.errorf(lineOf(tn, "kind"), "unknown target kind %q (want horizon or yearly)", t.Kind)
			ok = false
		}
		if y := strings.TrimSpace(t.Years); y != "" {
			if v, err := strconv.Atoi(y); err != nil || v < 1 || v > 100 {
				b.errorf(lineOf(tn, "years"), "years must be a whole number from 1 to 100, not %q", y)
				ok = false
			} else {
				rt.years = v
			}
		}
		if t.Decided != "" {
			if d, dok := b.date(t.Decided, lineOf(tn, "decided"), "decided"); dok {
				rt.decided = d
			} else {
				ok = false
			}
		}
		if ok {
			raws = append(raws, rt)
		}
	}
	for _, h := range []struct {
		key, value string
		years      int
	}{{"target_3y", r.Target3y, 3}, {"target_5y", r.Target5y, 5}} {
		if h.value == "" {
			continue
		}
		if b.s.Start.IsZero() {
			continue // start is missing or bad, reported already
		}
		raws = append(raws, rawTarget{
			date:  b.s.Start.AddDate(h.years, 0, -1),
			value: h.value, kind: TargetHorizon, label: fmt.Sprintf("%d år", h.years), years: h.years,
			line: lineOf(n, h.key), dateLine: lineOf(n, h.key),
		})
	}
	for _, kv := range pairs(n, "yearly") {
		k, v := kv[0], kv[1]
		y, err := strconv.Atoi(k.Value)
		if !yearRE.MatchString(k.Value) || err != nil || y < 1900 {
			b.errorf(k.Line, "invalid year %q in yearly (want e.g. 2025)", k.Value)
			continue
		}
		if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
			b.errorf(k.Line, "yearly target for %d needs a value", y)
			continue
		}
		raws = append(raws, rawTarget{
			date:  time.Date(y, time.December, 31, 0, 0, 0, 0, time.UTC),
			value: v.Value, kind: TargetYearly, label: strconv.Itoa(y), line: v.Line, dateLine: k.Line,
		})
	}
	// Check in file order, so a duplicate is reported where it comes second.
	sort.SliceStable(raws, func(i, j int) bool { return raws[i].dateLine < raws[j].dateLine })
	type key struct {
		kind          TargetKind
		date, decided time.Time
	}
	seen := map[key]int{}
	for _, rt := range raws {
		t, ok := b.target(rt, ind)
		if !ok {
			continue
		}
		k := key{t.Kind, t.Date, t.Decided}
		if t.Kind == TargetYearly {
			k.date = time.Date(t.Date.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		}
		if first, dup := seen[k]; dup {
			what := fmt.Sprintf("horizon target dated %s", day(t.Date))
			if t.Kind == TargetYearly {
				what = fmt.Sprintf("yearly target for %d", t.Date.Year())
			}
			if !t.Decided.IsZero() {
				what += " decided " + day(t.Decided)
			}
			b.errorf(rt.dateLine, "duplicate %s (first at line %d)", what, first)
			continue
		}
		seen[k] = rt.dateLine
		ind.Targets = append(ind.Targets, t)
	}
	// Order: by date; on the same date horizon before yearly; versions by
	// when they were decided.
	sort.SliceStable(ind.Targets, func(i, j int) bool {
		a, c := ind.Targets[i], ind.Targets[j]
		switch {
		case !a.Date.Equal(c.Date):
			return a.Date.Before(c.Date)
		case a.Kind != c.Kind:
			return a.Kind == TargetHorizon
		}
		return a.Decided.Before(c.Decided)
	})
}

// target resolves and checks one target.
func (b *builder) target(rt rawTarget, ind *Indicator) (Target, bool) {
	spec, err := parseTargetSpec(rt.value)
	if err != nil {
		b.errorf(rt.line, "%v", err)
		return Target{}, false
	}
	t := Target{Date: rt.date, Spec: spec.text, Kind: rt.kind, Label: rt.label, Years: rt.years, Decided: rt.decided, Op: spec.op}
	if spec.op != "" && ind.Direction != "" {
		up := spec.op[0] == '>'
		if up != (ind.Direction == Increase) {
			b.errorf(rt.line, "threshold target %q points against the indicator's direction (%s)", spec.text, ind.Direction)
			return Target{}, false
		}
	}
	switch {
	case t.Label != "":
	case t.Kind == TargetYearly:
		t.Label = strconv.Itoa(t.Date.Year())
	case t.Years > 0:
		t.Label = fmt.Sprintf("%d år", t.Years)
	}
	bl := ind.Baseline
	if bl != nil && rt.date.Before(bl.Date) {
		b.errorf(rt.dateLine, "target dated %s is before the baseline date %s", day(rt.date), day(bl.Date))
		return Target{}, false
	}
	if start := b.s.Start; !start.IsZero() && rt.date.Before(start) && (bl == nil || !rt.date.After(bl.Date)) {
		b.errorf(rt.dateLine, "target dated %s is before the strategy start %s and not after a baseline", day(rt.date), day(start))
		return Target{}, false
	}
	if !spec.relative() {
		t.Value = spec.n
		b.checkRange(ind, t.Value, rt.line, fmt.Sprintf("target %s", spec.text))
		return t, true
	}
	if bl == nil {
		b.errorf(rt.line, "relative target %q needs a baseline", spec.text)
		return Target{}, false
	}
	t.Value = spec.resolve(bl.Value)
	if (ind.Direction == Increase && t.Value < bl.Value) || (ind.Direction == Decrease && t.Value > bl.Value) {
		b.errorf(rt.line, "target %q moves against the indicator's direction (%s)", spec.text, ind.Direction)
		return Target{}, false
	}
	b.checkRange(ind, t.Value, rt.line, fmt.Sprintf("target %q resolves to %s, which", spec.text, formatNumber(t.Value)))
	return t, true
}

// defaultTolerance is DefaultToleranceShare of the distance from the
// baseline to the final target (the latest horizon target, else the latest
// yearly target), or of the final target itself without a baseline.
func defaultTolerance(ind *Indicator) float64 {
	var last *Target
	for i := range ind.Targets {
		t := &ind.Targets[i]
		if last == nil || (t.Kind == TargetHorizon && last.Kind != TargetHorizon) ||
			(t.Kind == last.Kind && !t.Date.Before(last.Date)) {
			last = t
		}
	}
	if last == nil {
		return 0
	}
	if ind.Baseline != nil {
		return DefaultToleranceShare * math.Abs(last.Value-ind.Baseline.Value)
	}
	return DefaultToleranceShare * math.Abs(last.Value)
}

func (b *builder) programme(r *yProgramme, n *yaml.Node) *Programme {
	okID := b.id(r.ID, n, b.investIDs)
	p := &Programme{ID: r.ID, Title: b.title(&r.Title, n), Description: b.text(&r.Description), Owner: strings.TrimSpace(r.Owner), Line: n.Line}
	budgetP := b.money(r.Budget, lineOf(n, "budget"), "budget")
	budget, hasBudget := 0.0, budgetP != nil
	if hasBudget {
		budget = *budgetP
	}
	b.programmeExtras(r, n, p)
	var sum float64
	allKnown := len(r.Projects) > 0
	projNodes := items(n, "projects")
	for i := range r.Projects {
		pr, pn := &r.Projects[i], at(projNodes, i, n)
		okP := b.id(pr.ID, pn, b.investIDs)
		proj := &Project{ID: pr.ID, Title: b.title(&pr.Title, pn), Description: b.text(&pr.Description), ProgrammeID: r.ID, Line: pn.Line}
		if v := b.money(pr.Budget, lineOf(pn, "budget"), "budget"); v != nil {
			proj.Budget = v
			sum += *v
		} else {
			allKnown = false
		}
		goalNodes := items(pn, "goals")
		for j, gid := range pr.Goals {
			line := at(goalNodes, j, pn).Line
			if g := b.s.Goal(gid); g == nil {
				b.errorf(line, "project %q refers to unknown goal %q", pr.ID, gid)
				continue
			}
			proj.Goals = append(proj.Goals, gid)
		}
		if okP {
			p.Projects = append(p.Projects, proj)
		}
	}
	switch {
	case !hasBudget && allKnown:
		p.Budget = &sum
	case !hasBudget:
	case sum > budget+1e-9:
		b.errorf(lineOf(n, "budget"), "projects add up to %s tkr, more than the programme budget %s tkr", formatNumber(sum), formatNumber(budget))
		p.Budget = budgetP
	default:
		p.Budget = budgetP
	}
	if !okID {
		return nil
	}
	return p
}

func day(t time.Time) string { return t.Format("2006-01-02") }

func unitList() string {
	s := make([]string, len(Units))
	for i, u := range Units {
		s[i] = string(u)
	}
	return strings.Join(s, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orList(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// suggestMeasure names the closest built-in measure to a misspelt name.
func suggestMeasure(name string) string {
	if len(Measures) == 0 {
		// A programming error: the program did not load the registry.
		return " (no built-in measures are registered: the program must import package clickhouse)"
	}
	return strictyaml.Suggest(name, sortedKeys(Measures), 3)
}
