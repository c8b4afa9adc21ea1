package strategy

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Format writes s in the strategy file format, in its canonical long form:
// every default spelled out and every target in the targets list. Parsing
// the result gives back an equal strategy.
func Format(s *Strategy) ([]byte, error) {
	r := yStrategy{
		Municipality: &yMunicipality{Code: s.Municipality.Code, Name: s.Municipality.Name, Slug: s.Municipality.Slug},
		ID:           s.ID,
		Title:        textNode(s.Title),
		Vision:       textNode(s.Vision),
		Description:  textNode(s.Description),
		Adopted:      s.AdoptionDate().String(),
		DecidedBy:    s.DecidedBy,
		Owner:        s.Owner,
		UpperFrom:    s.UpperFrom,
		Follows:      s.Follows,
		Start:        dateString(s.Start),
		End:          dateString(s.End),
		Rhythm:       string(s.Rhythm),
		RollUp:       s.RollUp,
	}
	if s.Adopted.IsZero() && !s.AdoptedOn.Known() {
		r.Adopted = ""
	}
	letter, _ := reportLetter(s.Rhythm)
	for _, n := range s.Reports {
		if n == 0 {
			r.Reports = append(r.Reports, "year")
		} else {
			r.Reports = append(r.Reports, letter+strconv.Itoa(n))
		}
	}
	for _, u := range s.UpperGoals {
		if u.From == "" {
			r.UpperGoals = append(r.UpperGoals, yUpperGoal{ID: u.ID, Level: string(u.Level), Title: textNode(u.Title), Description: textNode(u.Description), Parent: u.Parent})
		}
	}
	if m := s.Maturity; m != nil {
		ym := &yMaturity{Name: textNode(m.Name), Description: textNode(m.Description)}
		for _, d := range m.Dimensions {
			yd := yDimension{ID: d.ID, Title: textNode(d.Title), Survey: d.Survey}
			if d.Survey != "" {
				yd.SurveyShare = formatNumber(d.SurveyShare)
			}
			ym.Dimensions = append(ym.Dimensions, yd)
		}
		r.Maturity = ym
	}
	for _, a := range s.Areas {
		ya := yArea{ID: a.ID, Title: textNode(a.Title), Description: textNode(a.Description), Dimension: a.Dimension, Contributes: a.ContributesTo}
		for _, g := range a.Goals {
			ya.Goals = append(ya.Goals, formatGoal(g))
		}
		for _, id := range a.Refs {
			ya.Goals = append(ya.Goals, yGoal{Ref: id})
		}
		r.Areas = append(r.Areas, ya)
	}
	for _, p := range s.Programmes {
		yp := yProgramme{ID: p.ID, Title: textNode(p.Title), Description: textNode(p.Description), Budget: formatMoney(p.Budget),
			Areas: p.Areas, Owner: p.Owner}
		for _, y := range p.Years {
			if yp.Years == nil {
				yp.Years = map[string]yProgYear{}
			}
			yp.Years[strconv.Itoa(y.Year)] = yProgYear{Budget: formatMoney(y.Budget), Outcome: formatMoney(y.Outcome)}
		}
		for _, pr := range p.Projects {
			yp.Projects = append(yp.Projects, yProject{
				ID: pr.ID, Title: textNode(pr.Title), Description: textNode(pr.Description),
				Budget: formatMoney(pr.Budget), Goals: pr.Goals,
			})
		}
		r.Programmes = append(r.Programmes, yp)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&r); err != nil {
		return nil, fmt.Errorf("formatting strategy %s: %w", s.ID, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("formatting strategy %s: %w", s.ID, err)
	}
	return buf.Bytes(), nil
}

func formatGoal(g *Goal) yGoal {
	public := g.Public
	yg := yGoal{
		ID: g.ID, Continues: g.Continues, Title: textNode(g.Title), Description: textNode(g.Description), Kind: string(g.Kind),
		Public: &public, Owner: g.Owner, Horizon: g.Horizon,
	}
	if m := g.Milestone; m != nil {
		yg.Due = m.DueAs.String()
		if !m.DueAs.Known() {
			yg.Due = dateString(m.Due)
		}
		if m.Done != nil {
			yg.Done = dateString(*m.Done)
		}
	}
	for _, h := range g.History {
		yg.History = append(yg.History, yHistory{Period: h.Period.String(), Level: string(h.Level), Comment: h.Comment})
	}
	if d := g.Dropped; d != nil {
		yg.Dropped = &yDecision{Date: dateString(d.Date), Note: d.Note}
	}
	for _, ind := range g.Indicators {
		yg.Indicators = append(yg.Indicators, formatIndicator(ind))
	}
	yg.Contributes = g.ContributesTo
	for _, b := range g.Bodies {
		yg.Bodies = append(yg.Bodies, yBody{ID: b.ID, Name: b.Name, Kind: b.Kind})
	}
	for _, sg := range g.SubGoals {
		ys := formatGoal(sg)
		yg.SubGoals = append(yg.SubGoals, ys)
	}
	for _, c := range g.Criteria {
		yg.Criteria = append(yg.Criteria, yCriterion{ID: c.ID, Title: textNode(c.Title)})
	}
	for _, a := range g.Activities {
		yg.Activities = append(yg.Activities, yActivity{ID: a.ID, Title: textNode(a.Title), Responsible: a.Responsible,
			Start: a.Start.String(), Due: a.Due.String(), Status: string(a.Status), Budget: formatMoney(a.Budget), Outcome: formatMoney(a.Outcome)})
	}
	return yg
}

func formatIndicator(ind *Indicator) yIndicator {
	public := ind.Public
	yi := yIndicator{
		ID: ind.ID, Continues: ind.Continues, Title: textNode(ind.Title), Description: textNode(ind.Description), Method: textNode(ind.Method),
		Unit: string(ind.Unit), Direction: string(ind.Direction),
		Tolerance: formatNumber(ind.Tolerance), Freshness: FormatDuration(ind.Freshness),
		Public: &public, Owner: ind.Owner, Weight: formatNumber(ind.Weight),
	}
	if b := ind.Baseline; b != nil {
		yi.Baseline = &yBaseline{Value: formatNumber(b.Value), Date: dateString(b.Date), Source: b.Source, Text: b.Text}
		if b.Approx {
			yi.Baseline.Value = "~" + yi.Baseline.Value
		}
	}
	for _, t := range ind.Targets {
		yt := yTarget{Date: dateString(t.Date), Value: t.Spec, Kind: string(t.Kind), Label: t.Label, Decided: dateString(t.Decided)}
		if yt.Value == "" {
			yt.Value = formatNumber(t.Value)
		}
		if t.Years > 0 {
			yt.Years = strconv.Itoa(t.Years)
		}
		yi.Targets = append(yi.Targets, yt)
	}
	src := ind.Source
	yi.Source = &ySource{Measure: src.Measure, Params: src.Params, Series: src.Series, Kolada: src.Kolada, Note: src.Note}
	return yi
}

// textNode writes a Text as a plain string when it has no English version.
func textNode(t Text) yaml.Node {
	if t.SV == "" && t.EN == "" {
		return yaml.Node{}
	}
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	if t.EN == "" {
		return *str(t.SV)
	}
	return yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		str("sv"), str(t.SV), str("en"), str(t.EN),
	}}
}

func dateString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

func formatMoney(v *float64) string {
	if v == nil {
		return ""
	}
	return formatNumber(*v)
}
