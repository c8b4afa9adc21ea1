package followup

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// Sources of hand-written observations.
const (
	SourceManual = "manual" // entered in the form
	SourceUpload = "upload" // uploaded in the series template
)

// ValueInput is a value as an editor enters or corrects it.
type ValueInput struct {
	Indicator string
	Period    strategy.Period
	Dimension strategy.Dimension
	Value     float64
	// Comment says where the value comes from or why it was corrected.
	Comment string
	// Base is the version of the value the form was loaded with (0: there
	// was none). If another version was saved since, the save is refused.
	Base uint64
}

// checkValue reports values the indicator's unit cannot take.
func checkValue(p *problems, ind *strategy.Indicator, v float64, where string) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		p.add(where+"Värdet är inte ett tal.", where+"The value is not a number.")
	case ind.Unit == strategy.UnitPercent && (v < 0 || v > 100):
		p.add(fmt.Sprintf("%s%s procent ligger utanför 0–100.", where, progress.FormatNumber(v, "sv")),
			fmt.Sprintf("%s%s percent is outside 0–100.", where, progress.FormatNumber(v, "en")))
	case v < 0 && slices.Contains([]strategy.Unit{strategy.UnitCount, strategy.UnitDays, strategy.UnitHours,
		strategy.UnitMinutes, strategy.UnitMillis, strategy.UnitMbits}, ind.Unit):
		p.add(fmt.Sprintf("%sVärdet kan inte vara negativt (enhet %s).", where, ind.Unit),
			fmt.Sprintf("%sThe value cannot be negative (unit %s).", where, ind.Unit))
	}
}

// checkPeriod requires a valid period that has begun.
func (s *Service) checkPeriod(p *problems, per strategy.Period) {
	switch {
	case !per.Valid():
		p.add("Ange en period, t.ex. 2025, 2025-T2, 2025-Q3 eller 2025-03.", "Give a period, e.g. 2025, 2025-T2, 2025-Q3 or 2025-03.")
	case per.Start().After(s.opts.Now()):
		p.add(fmt.Sprintf("Perioden %s har inte börjat.", per.Label("sv")), fmt.Sprintf("The period %s has not begun.", per.Label("en")))
	case per.Start().Year() < 1970 || per.Year > 2149:
		p.add("Perioden ligger utanför det som kan lagras.", "The period is outside what can be stored.")
	}
}

// currentValue returns the stored value of key for a period and
// dimension, or nil.
func (s *Service) currentValue(ctx context.Context, tenant, key string, p strategy.Period, d strategy.Dimension) (*strategy.Observation, error) {
	obs, err := s.store.Observations(ctx, clickhouse.ObservationFilter{Tenant: tenant, Indicators: []string{key},
		Kind: p.Kind, From: p.Start(), To: p.End(), Dimensions: true})
	if err != nil {
		return nil, err
	}
	for i := range obs {
		if obs[i].Period == p && obs[i].Dimension == d {
			return &obs[i], nil
		}
	}
	return nil, nil
}

// SaveValue enters or corrects one value of an indicator by hand. The old
// version stays in the observation log, so the history shows both. It is
// refused (*Error) for an unknown indicator (404), an identity that may
// not write for it (403), bad input (400), a value in a closed report
// period (409) and a stale form (409, with the current value).
func (s *Service) SaveValue(ctx context.Context, st *strategy.Strategy, who *auth.Identity, remote string, in ValueInput) (strategy.Observation, error) {
	ind := st.Indicator(in.Indicator)
	if ind == nil {
		return strategy.Observation{}, errNotFound()
	}
	own, _ := owners(st, strategy.SubjectIndicator, ind.ID)
	if !who.MayEdit(own...) {
		return strategy.Observation{}, errForbidden()
	}
	var pr problems
	s.checkPeriod(&pr, in.Period)
	checkValue(&pr, ind, in.Value, "")
	in.Comment = checkText(&pr, fieldComment, "", in.Comment)
	in.Dimension = checkDimension(&pr, "", in.Dimension)
	if err := pr.err(); err != nil {
		return strategy.Observation{}, err
	}
	tenant, key := st.Municipality.Code, valueKey(ind)
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	states, err := s.states(ctx, st)
	if err != nil {
		return strategy.Observation{}, err
	}
	if closed, ok := closedCovering(states, in.Period); ok {
		return strategy.Observation{}, errClosed(closed)
	}
	cur, err := s.currentValue(ctx, tenant, key, in.Period, in.Dimension)
	if err != nil {
		return strategy.Observation{}, err
	}
	var curVer uint64
	if cur != nil {
		curVer = cur.Version
	}
	if curVer != in.Base {
		e := refuse(http.StatusConflict,
			"Värdet har ändrats sedan du öppnade formuläret. Jämför och spara igen om ditt värde ska gälla.",
			"The value changed since you opened the form. Compare, and save again if yours should stand.")
		e.CurrentValue = cur
		return strategy.Observation{}, e
	}
	now := s.opts.Now()
	o := strategy.Observation{Tenant: tenant, Indicator: key, Period: in.Period, Dimension: in.Dimension, Value: in.Value,
		Source: SourceManual, Version: max(uint64(now.UnixNano()), curVer+1), Author: who.Name, Comment: in.Comment, Recorded: now}
	action := "value.enter"
	if cur != nil {
		action = "value.correct"
	}
	entry := clickhouse.AuditEntry{Tenant: tenant, Actor: who.Name, Role: string(who.Role), Action: action,
		Subject: "indicator", SubjectID: ind.ID, Period: in.Period.String(),
		Before: toJSON(valueJSON(cur)), After: toJSON(valueJSON(&o)), Reason: in.Comment, Remote: remote}
	check := writeCheck{Kind: checkObservations, Tenant: tenant, Keys: []string{key}, Rows: 1, Version: o.Version}
	if err := s.audited(ctx, entry, check, func() error { return s.store.WriteObservations(ctx, []strategy.Observation{o}) }); err != nil {
		return strategy.Observation{}, err
	}
	return o, nil
}

// checkDimension checks a value's dimension: none, or a kind and a value,
// each one line of free text.
func checkDimension(p *problems, where string, d strategy.Dimension) strategy.Dimension {
	if (d.Kind == "") != (d.Value == "") {
		p.add(where+"Dimensionen ska skrivas typ=värde, t.ex. department=Socialförvaltningen.",
			where+"Write the dimension as kind=value, e.g. department=Socialförvaltningen.")
		return d
	}
	if d.Kind == "" {
		return d
	}
	return strategy.Dimension{Kind: checkText(p, fieldDimKind, where, d.Kind), Value: checkText(p, fieldDimValue, where, d.Value)}
}

// valueJSON is an observation as the audit trail records it.
func valueJSON(o *strategy.Observation) any {
	if o == nil {
		return nil
	}
	m := map[string]any{"indicator": o.Indicator, "period": o.Period.String(), "value": o.Value,
		"source": o.Source, "version": fmt.Sprint(o.Version)}
	if !o.Dimension.IsTotal() {
		m["dimension"] = o.Dimension.Kind + "=" + o.Dimension.Value
	}
	if o.Author != "" {
		m["author"] = o.Author
	}
	if o.Comment != "" {
		m["comment"] = o.Comment
	}
	return m
}

// maxAuditValues bounds how many values of an upload the audit entry
// lists one by one.
const maxAuditValues = 2000

// Upload writes the values of a file in the series template (the format
// of the series_csv collector; indicator ids or series names in the
// indikator column). comment, required, says where the file comes from;
// rows without their own comment get it. The whole file is refused on any
// problem: a parse error (400, file:line:column), an indicator the
// identity may not write for (403) or a value in a closed period (409).
func (s *Service) Upload(ctx context.Context, st *strategy.Strategy, who *auth.Identity, remote, name string, r io.Reader, comment string) ([]strategy.Observation, error) {
	if !who.Is(auth.Editor) {
		return nil, errForbidden()
	}
	var pr problems
	name = checkText(&pr, fieldFileName, "", name)
	comment = checkText(&pr, fieldComment, "", comment)
	if err := pr.err(); err != nil {
		return nil, err
	}
	// Every key a row may use: indicator ids and the series feeding them.
	// A series name stands for every indicator it feeds.
	fed := map[string][]*strategy.Indicator{}
	units := map[string]strategy.Unit{}
	for _, ind := range st.Indicators() {
		fed[ind.ID] = append(fed[ind.ID], ind)
		units[ind.ID] = ind.Unit
		if k := ind.Series(); k != "" && k != ind.ID {
			fed[k] = append(fed[k], ind)
			units[k] = ind.Unit
		}
	}
	known := map[string]bool{}
	for k := range fed {
		known[k] = true
	}
	now := s.opts.Now()
	obs, err := collectors.ParseSeries(r, name, collectors.SeriesCheck{Known: known, Units: units, Now: now})
	if err != nil {
		e := &Error{Status: http.StatusBadRequest}
		for _, line := range strings.Split(err.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				e.Problems = append(e.Problems, strategy.Text{SV: line, EN: line})
			}
		}
		return nil, e
	}
	if len(obs) == 0 {
		return nil, refuse(http.StatusBadRequest, "Filen innehåller inga värden.", "The file holds no values.")
	}
	tenant := st.Municipality.Code
	var rows []strategy.Observation // one per row and indicator it writes
	for i := range obs {
		o := &obs[i]
		where := fmt.Sprintf("%s %s: ", o.Indicator, o.Period)
		for _, ind := range fed[o.Indicator] {
			own, _ := owners(st, strategy.SubjectIndicator, ind.ID)
			if !who.MayEdit(own...) {
				e := errForbidden()
				e.Problems = append(e.Problems, strategy.Text{
					SV: fmt.Sprintf("%sDu får inte skriva värden för indikatorn %s.", where, ind.ID),
					EN: fmt.Sprintf("%sYou may not write values for the indicator %s.", where, ind.ID)})
				return nil, e
			}
			checkValue(&pr, ind, o.Value, where)
		}
		o.Tenant, o.Source, o.Author, o.Recorded = tenant, SourceUpload, who.Name, now
		if o.Comment = checkText(&pr, fieldFileComment, where, o.Comment); o.Comment == "" {
			o.Comment = comment
		}
		o.Dimension = checkDimension(&pr, where, o.Dimension)
		for _, ind := range fed[o.Indicator] {
			r := *o
			r.Indicator = valueKey(ind)
			rows = append(rows, r)
		}
	}
	if err := pr.err(); err != nil {
		return nil, err
	}
	// A row naming an indicator and one naming its series are one value.
	type rk struct {
		ind string
		p   strategy.Period
		d   strategy.Dimension
	}
	seen := map[rk]bool{}
	for _, r := range rows {
		k := rk{r.Indicator, r.Period, r.Dimension}
		if seen[k] {
			return nil, refuse(http.StatusBadRequest,
				fmt.Sprintf("%s %s: värdet står två gånger i filen (under indikatorn och under serien som matar den).", r.Indicator, r.Period),
				fmt.Sprintf("%s %s: the value appears twice in the file (under the indicator and under the series feeding it).", r.Indicator, r.Period))
		}
		seen[k] = true
	}
	obs = rows

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	states, err := s.states(ctx, st)
	if err != nil {
		return nil, err
	}
	for _, o := range obs {
		if closed, ok := closedCovering(states, o.Period); ok {
			e := errClosed(closed)
			e.Problems[0].SV = fmt.Sprintf("%s %s: %s", o.Indicator, o.Period, e.Problems[0].SV)
			e.Problems[0].EN = fmt.Sprintf("%s %s: %s", o.Indicator, o.Period, e.Problems[0].EN)
			return nil, e
		}
	}
	// The values they replace, for the audit trail and the version.
	keys := map[string]bool{}
	for _, o := range obs {
		keys[o.Indicator] = true
	}
	before := []any{}
	var maxVer uint64
	if len(keys) > 0 {
		cur, err := s.store.Observations(ctx, clickhouse.ObservationFilter{Tenant: tenant, Indicators: sortedKeys(keys), Dimensions: true})
		if err != nil {
			return nil, err
		}
		type k struct {
			ind string
			p   strategy.Period
			d   strategy.Dimension
		}
		index := map[k]*strategy.Observation{}
		for i := range cur {
			index[k{cur[i].Indicator, cur[i].Period, cur[i].Dimension}] = &cur[i]
		}
		for _, o := range obs {
			if c := index[k{o.Indicator, o.Period, o.Dimension}]; c != nil {
				maxVer = max(maxVer, c.Version)
				if len(before) < maxAuditValues {
					before = append(before, valueJSON(c))
				}
			}
		}
	}
	version := max(uint64(now.UnixNano()), maxVer+1)
	after := []any{}
	for i := range obs {
		obs[i].Version = version
		if len(after) < maxAuditValues {
			after = append(after, valueJSON(&obs[i]))
		}
	}
	entry := clickhouse.AuditEntry{Tenant: tenant, Actor: who.Name, Role: string(who.Role), Action: "value.upload",
		Subject: "file", SubjectID: name, Reason: comment, Remote: remote,
		Before: toJSON(map[string]any{"values": before}),
		After:  toJSON(map[string]any{"file": name, "rows": len(obs), "values": after})}
	check := writeCheck{Kind: checkObservations, Tenant: tenant, Keys: sortedKeys(keys), Rows: len(obs), Version: version}
	if err := s.audited(ctx, entry, check, func() error { return s.store.WriteObservations(ctx, obs) }); err != nil {
		return nil, err
	}
	return obs, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
