package strategy

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/internal/strictyaml"
)

// This file builds the parts of the format for goal hierarchies as
// municipalities write them (issue 12): partial dates, the deciding body,
// report periods, the goals of the level above, goals referenced from a
// second area, sub-goals, criteria, responsible bodies, activities and
// programme years.

// goalRef is a "- ref: goal-id" entry in an area's goals list.
type goalRef struct {
	id   string
	area *GoalArea
	line int
}

// partialDate reads an optional date that may be partial or unknown.
func (b *builder) partialDate(s string, line int, what string) PartialDate {
	d, err := ParsePartialDate(s)
	if err != nil {
		b.errorf(line, "%s: %v", what, err)
	}
	return d
}

// bad reports whether s is a date ParsePartialDate rejects.
func (b *builder) bad(s string) bool {
	_, err := ParsePartialDate(s)
	return err != nil
}

// decidedBy reads decided_by: one of DecidingBodies ("" when absent).
func (b *builder) decidedBy(s string, line int) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if v, ok := bodyName(s, DecidingBodies); ok {
		return v
	}
	b.errorf(line, "unknown deciding body %q in decided_by (want %s)", s, orList(DecidingBodies))
	return ""
}

// bodyName finds s among names, also when written without å, ä, ö or in
// capitals ("Kommunfullmaktige").
func bodyName(s string, names []string) (string, bool) {
	fold := func(x string) string {
		return strings.NewReplacer("å", "a", "ä", "a", "ö", "o").Replace(strings.ToLower(strings.TrimSpace(x)))
	}
	for _, n := range names {
		if fold(n) == fold(s) {
			return n, true
		}
	}
	return "", false
}

// reportLetter is the letter that names a report period of a rhythm in
// reports: T1, Q2, H1, M3.
func reportLetter(r Rhythm) (letter string, kind PeriodKind) {
	switch r {
	case RhythmQuarter:
		return "Q", Quarter
	case RhythmHalfYear:
		return "H", HalfYear
	case RhythmMonth:
		return "M", Month
	}
	return "T", Tertial
}

// reports reads the list of report periods that get a report.
func (b *builder) reports(list []string, root *yaml.Node) []int {
	if len(list) == 0 {
		return nil
	}
	letter, kind := reportLetter(b.s.Rhythm)
	perYear := 12 / kind.months()
	var want []string
	for i := 1; i < perYear; i++ {
		want = append(want, letter+strconv.Itoa(i))
	}
	want = append(want, "year")
	nodes := items(root, "reports")
	seen := map[int]bool{}
	var out []int
	for i, v := range list {
		line := at(nodes, i, root).Line
		t := strings.ToUpper(strings.TrimSpace(v))
		n := -1
		switch {
		case t == "YEAR" || t == "HELÅR" || t == "FULL_YEAR":
			n = 0
		case strings.HasPrefix(t, letter):
			if x, err := strconv.Atoi(t[len(letter):]); err == nil && x >= 1 && x < perYear {
				n = x
			}
		}
		if n < 0 {
			b.errorf(line, "report %q does not fit the rhythm %s (want %s)", v, b.s.Rhythm, orList(want))
			continue
		}
		if seen[n] {
			b.errorf(line, "report %q is listed twice", v)
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, c int) int {
		if a == 0 || c == 0 { // the full year last
			return c - a
		}
		return a - c
	})
	return out
}

// upperGoals reads upper_goals and upper_goals_from.
func (b *builder) upperGoals(r *yStrategy, root *yaml.Node) {
	s := b.s
	if f := strings.TrimSpace(r.UpperFrom); f != "" {
		s.UpperFrom = f
		line := lineOf(root, "upper_goals_from")
		switch {
		case b.nested:
			b.errorf(line, "upper_goals_from in a file that is itself read with upper_goals_from: only one level is followed")
		default:
			b.upperFromFile(f, line)
		}
	}
	nodes := items(root, "upper_goals")
	for i := range r.UpperGoals {
		u, n := &r.UpperGoals[i], at(nodes, i, root)
		if !b.id(u.ID, n, b.upperIDs) {
			continue
		}
		ug := &UpperGoal{ID: u.ID, Title: b.title(&u.Title, n), Description: b.text(&u.Description), Parent: strings.TrimSpace(u.Parent), Line: n.Line}
		switch strings.TrimSpace(u.Level) {
		case "", "mål", "mal", "goal":
			ug.Level = UpperLevelGoal
		case "inriktningsmål", "inriktningsmal", "direction":
			ug.Level = UpperLevelDirection
		default:
			b.errorf(lineOf(n, "level"), "unknown level %q of an upper goal (want inriktningsmål or mål)", u.Level)
		}
		s.UpperGoals = append(s.UpperGoals, ug)
	}
	for _, ug := range s.UpperGoals {
		if ug.Parent == "" || ug.From != "" {
			continue
		}
		p := s.UpperGoal(ug.Parent)
		switch {
		case p == nil:
			b.errorf(ug.Line, "upper goal %q: unknown parent %q%s", ug.ID, ug.Parent, strictyaml.Suggest(ug.Parent, b.upperList(), 3))
		case p.Level != UpperLevelDirection:
			b.errorf(ug.Line, "upper goal %q: its parent %q is a mål, not an inriktningsmål", ug.ID, ug.Parent)
		}
	}
}

// upperFromFile reads the goal areas (inriktningsmål) and goals (mål) of
// another strategy file as the upper goals.
func (b *builder) upperFromFile(f string, line int) {
	name := f
	if !filepath.IsAbs(name) {
		name = path.Join(filepath.ToSlash(filepath.Dir(b.file)), filepath.ToSlash(f))
	}
	data, err := b.readFile(filepath.FromSlash(name))
	if err != nil {
		why := "cannot read it"
		if errors.Is(err, fs.ErrNotExist) {
			why = "there is no such file"
		}
		b.errorf(line, "upper_goals_from %q: %s", f, why)
		return
	}
	up, err := parse(filepath.FromSlash(name), data, Options{ReadFile: b.readFile}, true)
	if err != nil {
		first := err.Error()
		var es strictyaml.Errors
		if errors.As(err, &es) && len(es) > 0 {
			first = es[0].Error()
		}
		b.errorf(line, "upper_goals_from %q is not a valid strategy file: %s", f, first)
		return
	}
	for _, a := range up.Areas {
		b.upperIDs[a.ID] = line
		b.s.UpperGoals = append(b.s.UpperGoals, &UpperGoal{ID: a.ID, Level: UpperLevelDirection, Title: a.Title, Description: a.Description, From: f, Line: line})
		for _, g := range a.Goals {
			b.upperIDs[g.ID] = line
			b.s.UpperGoals = append(b.s.UpperGoals, &UpperGoal{ID: g.ID, Level: UpperLevelGoal, Title: g.Title, Description: g.Description, Parent: a.ID, From: f, Line: line})
		}
	}
}

func (b *builder) upperList() []string {
	var out []string
	for _, u := range b.s.UpperGoals {
		out = append(out, u.ID)
	}
	return out
}

// contributes reads contributes_to: ids of upper goals.
func (b *builder) contributes(ids []string, n *yaml.Node) []string {
	nodes := items(n, "contributes_to")
	var out []string
	for i, id := range ids {
		line := at(nodes, i, n).Line
		id = strings.TrimSpace(id)
		switch {
		case len(b.s.UpperGoals) == 0:
			b.errorf(line, "contributes_to %q: the strategy declares no goals of the level above (upper_goals or upper_goals_from)", id)
			return nil
		case b.s.UpperGoal(id) == nil:
			b.errorf(line, "contributes_to %q: no upper goal has that id%s", id, strictyaml.Suggest(id, b.upperList(), 3))
		case slices.Contains(out, id):
			b.errorf(line, "contributes_to %q is listed twice", id)
		default:
			out = append(out, id)
		}
	}
	return out
}

// goalRef records a reference to a goal defined under another area.
func (b *builder) goalRef(r *yGoal, n *yaml.Node, a *GoalArea) {
	line := lineOf(n, "ref")
	if n != nil && n.Kind == yaml.MappingNode && len(n.Content) > 2 {
		b.errorf(line, "a goal reference (ref: %s) takes no other keys: the goal is defined once, under its first area", r.Ref)
		return
	}
	b.refs = append(b.refs, goalRef{id: strings.TrimSpace(r.Ref), area: a, line: line})
}

// resolveRefs checks the goal references once every area is read.
func (b *builder) resolveRefs() {
	for _, ref := range b.refs {
		g := b.s.Goal(ref.id)
		switch {
		case g == nil || g.ParentID != "":
			b.errorf(ref.line, "goal reference %q: no goal of an area has that id", ref.id)
		case g.AreaID == ref.area.ID:
			b.errorf(ref.line, "goal reference %q: the goal is defined under this area already", ref.id)
		case slices.Contains(ref.area.Refs, ref.id):
			b.errorf(ref.line, "goal reference %q is listed twice in area %q", ref.id, ref.area.ID)
		default:
			ref.area.Refs = append(ref.area.Refs, ref.id)
		}
	}
}

// goalExtras reads a goal's links, bodies, sub-goals, criteria and
// activities.
func (b *builder) goalExtras(r *yGoal, n *yaml.Node, a *GoalArea, parent *Goal, g *Goal) {
	g.ContributesTo = b.contributes(r.Contributes, n)
	bodyNodes := items(n, "bodies")
	seen := map[string]bool{}
	for i, bd := range r.Bodies {
		bn := at(bodyNodes, i, n)
		if !b.id(bd.ID, bn, nil) {
			continue
		}
		body := Body{ID: bd.ID, Name: strings.TrimSpace(bd.Name)}
		if body.Name == "" {
			b.errorf(lineOf(bn, "name"), "responsible body %q needs a name (e.g. Utbildningsnämnden)", bd.ID)
		}
		if k := strings.TrimSpace(bd.Kind); k != "" {
			if v, ok := bodyName(k, ResponsibleKinds); ok {
				body.Kind = v
			} else {
				b.errorf(lineOf(bn, "kind"), "unknown kind %q of a responsible body (want %s)", bd.Kind, orList(ResponsibleKinds))
			}
		}
		if seen[bd.ID] {
			b.errorf(lineOf(bn, "id"), "responsible body %q is listed twice", bd.ID)
			continue
		}
		seen[bd.ID] = true
		g.Bodies = append(g.Bodies, body)
	}
	subNodes := items(n, "subgoals")
	if parent != nil && len(r.SubGoals) > 0 {
		b.errorf(keyLine(n, "subgoals"), "sub-goal %q cannot have sub-goals of its own: one level of delmål is supported", r.ID)
	} else {
		for i := range r.SubGoals {
			sg := &r.SubGoals[i]
			sn := at(subNodes, i, n)
			if sg.Ref != "" {
				b.errorf(lineOf(sn, "ref"), "a sub-goal cannot be a reference (ref): define it here")
				continue
			}
			if x := b.goal(sg, sn, a, g); x != nil {
				g.SubGoals = append(g.SubGoals, x)
			}
		}
	}
	critNodes := items(n, "criteria")
	for i := range r.Criteria {
		c, cn := &r.Criteria[i], at(critNodes, i, n)
		okID := b.id(c.ID, cn, b.ids)
		crit := &Criterion{ID: c.ID, Title: b.title(&c.Title, cn), GoalID: r.ID, Line: cn.Line}
		if okID {
			g.Criteria = append(g.Criteria, crit)
		}
	}
	actNodes := items(n, "activities")
	for i := range r.Activities {
		if act := b.activity(&r.Activities[i], at(actNodes, i, n), r.ID); act != nil {
			g.Activities = append(g.Activities, act)
		}
	}
}

// activity reads one activity of a goal.
func (b *builder) activity(r *yActivity, n *yaml.Node, goalID string) *Activity {
	okID := b.id(r.ID, n, b.actIDs)
	act := &Activity{ID: r.ID, Title: b.title(&r.Title, n), Responsible: strings.TrimSpace(r.Responsible), GoalID: goalID, Line: n.Line}
	act.Start = b.partialDate(r.Start, lineOf(n, "start"), "start")
	act.Due = b.partialDate(r.Due, lineOf(n, "due"), "due")
	if act.Start.Known() && act.Due.Known() && act.Due.Last().Before(act.Start.First()) {
		b.errorf(lineOf(n, "due"), "activity %q is due (%s) before it starts (%s)", r.ID, act.Due, act.Start)
	}
	if st := strings.TrimSpace(r.Status); st != "" {
		var want []string
		for _, a := range ActivityStatuses {
			if st == string(a.Status) || strings.EqualFold(st, a.Label.SV) {
				act.Status = a.Status
			}
			want = append(want, a.Label.SV)
		}
		if act.Status == "" {
			b.errorf(lineOf(n, "status"), "unknown activity status %q (want %s)", st, orList(want))
		}
	}
	act.Budget = b.money(r.Budget, lineOf(n, "budget"), "budget")
	act.Outcome = b.money(r.Outcome, lineOf(n, "outcome"), "outcome")
	if !okID {
		return nil
	}
	return act
}

// money reads an optional amount in tkr: nil when absent or "unknown".
func (b *builder) money(s string, line int, what string) *float64 {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "unknown", "okänt", "okänd":
		return nil
	}
	v, ok := b.number(s, line, what)
	if !ok {
		return nil
	}
	if v < 0 {
		b.errorf(line, "%s %s is negative", what, formatNumber(v))
	}
	return &v
}

// programmeExtras reads a programme's areas and years.
func (b *builder) programmeExtras(r *yProgramme, n *yaml.Node, p *Programme) {
	areaNodes := items(n, "areas")
	for i, id := range r.Areas {
		line := at(areaNodes, i, n).Line
		if b.s.Area(id) == nil {
			var ids []string
			for _, a := range b.s.Areas {
				ids = append(ids, a.ID)
			}
			b.errorf(line, "programme %q refers to unknown goal area %q%s", r.ID, id, strictyaml.Suggest(id, ids, 3))
			continue
		}
		p.Areas = append(p.Areas, id)
	}
	for _, kv := range pairs(n, "years") {
		k, v := kv[0], kv[1]
		y, err := strconv.Atoi(k.Value)
		if !yearRE.MatchString(k.Value) || err != nil || y < 1900 {
			b.errorf(k.Line, "invalid year %q in years (want e.g. 2025)", k.Value)
			continue
		}
		py := ProgrammeYear{Year: y}
		ry := r.Years[k.Value]
		py.Budget = b.money(ry.Budget, lineOf(v, "budget"), fmt.Sprintf("budget for %d", y))
		py.Outcome = b.money(ry.Outcome, lineOf(v, "outcome"), fmt.Sprintf("outcome for %d", y))
		p.Years = append(p.Years, py)
	}
	slices.SortFunc(p.Years, func(a, c ProgrammeYear) int { return a.Year - c.Year })
}

// keyLine is the line of key in mapping m (where a list under it starts
// to be written), or m's own line when key is absent.
func keyLine(m *yaml.Node, key string) int {
	m = deref(m)
	if m != nil && m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i].Line
			}
		}
	}
	return nodeLine(m, nil)
}

// follows reads follows: the file of the strategy this one succeeds. Only
// one level is followed: the previous plan's own follows (or
// upper_goals_from) is not read.
func (b *builder) follows(r *yStrategy, root *yaml.Node) {
	f := strings.TrimSpace(r.Follows)
	if f == "" {
		return
	}
	b.s.Follows = f
	line := lineOf(root, "follows")
	if b.nested {
		b.errorf(line, "follows in a file that is itself read with follows or upper_goals_from: only one level is followed")
		return
	}
	name := f
	if !filepath.IsAbs(name) {
		name = path.Join(filepath.ToSlash(filepath.Dir(b.file)), filepath.ToSlash(f))
	}
	data, err := b.readFile(filepath.FromSlash(name))
	if err != nil {
		why := "cannot read it"
		if errors.Is(err, fs.ErrNotExist) {
			why = "there is no such file"
		}
		b.errorf(line, "follows %q: %s", f, why)
		return
	}
	prev, err := parse(filepath.FromSlash(name), data, Options{ReadFile: b.readFile}, true)
	if err != nil {
		first := err.Error()
		var es strictyaml.Errors
		if errors.As(err, &es) && len(es) > 0 {
			first = es[0].Error()
		}
		b.errorf(line, "follows %q is not a valid strategy file: %s", f, first)
		return
	}
	if prev.Municipality.Code != b.s.Municipality.Code {
		b.errorf(line, "follows %q: that strategy is for municipality %s, this one for %s", f, prev.Municipality.Code, b.s.Municipality.Code)
		return
	}
	b.s.Previous = prev
}

// continues reads continues: the id of the previous plan's goal (what is
// "goal") or indicator (what is "indicator") this one continues.
func (b *builder) continues(id string, n *yaml.Node, what string) string {
	id = strings.TrimSpace(id)
	if id == "" {
		return ""
	}
	line := lineOf(n, "continues")
	prev := b.s.Previous
	if prev == nil {
		if b.s.Follows == "" {
			b.errorf(line, "continues %q: the strategy follows no previous plan (add follows: the previous plan's file)", id)
		}
		return id
	}
	var ids []string
	if what == "goal" {
		for _, g := range prev.Goals() {
			ids = append(ids, g.ID)
		}
	} else {
		for _, ind := range prev.Indicators() {
			ids = append(ids, ind.ID)
		}
	}
	if !slices.Contains(ids, id) {
		b.errorf(line, "continues %q: the previous plan (%s) has no %s with that id%s", id, b.s.Follows, what, strictyaml.Suggest(id, ids, 3))
		return id
	}
	if b.continued == nil {
		b.continued = map[string]int{}
	}
	key := what + ":" + id
	if l, ok := b.continued[key]; ok {
		b.errorf(line, "continues %q: line %d continues that %s already", id, l, what)
		return id
	}
	b.continued[key] = line
	return id
}
