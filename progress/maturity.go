package progress

import (
	"fmt"
	"strings"
	"time"

	"github.com/malbild/malbild/strategy"
)

// maxMaturityYears bounds the history so a stray start date cannot make it
// huge.
const maxMaturityYears = 50

// MaturityIndex is the digital maturity index: a 0–100 score per dimension
// and year, and overall. See MethodText for the method in words.
type MaturityIndex struct {
	Name       strategy.Text        `json:"name"`
	Years      []int                `json:"years"`
	Dimensions []*MaturityDimension `json:"dimensions"`
	Overall    []MaturityScore      `json:"overall"` // one per year, as Years
}

// MaturityDimension is one axis of the index.
type MaturityDimension struct {
	ID          string          `json:"id"`
	Title       strategy.Text   `json:"title"`
	Indicators  []string        `json:"indicators"` // ids of the indicators scored
	Survey      string          `json:"survey,omitempty"`
	SurveyShare float64         `json:"survey_share,omitempty"`
	Scores      []MaturityScore `json:"scores"` // one per year, as MaturityIndex.Years
}

// MaturityScore is a score for one year.
type MaturityScore struct {
	Year int `json:"year"`
	// Score is the blended score (nil when there is nothing to score).
	Score *float64 `json:"score,omitempty"`
	// FromIndicators is the weighted mean of the indicators' scores and
	// Indicators how many contributed; Survey is the survey score.
	FromIndicators *float64 `json:"from_indicators,omitempty"`
	Indicators     int      `json:"indicators"`
	Survey         *float64 `json:"survey,omitempty"`
	// Dimensions is, for the overall index, how many dimensions had a score.
	Dimensions int `json:"dimensions,omitempty"`
	// Partial is set for the year in progress.
	Partial bool `json:"partial,omitempty"`
}

// Latest is the overall score of the last year, nil when there is none.
func (m *MaturityIndex) Latest() *MaturityScore {
	if len(m.Overall) == 0 {
		return nil
	}
	return &m.Overall[len(m.Overall)-1]
}

// Latest is the last year's score, nil when there is none.
func (d *MaturityDimension) Latest() *MaturityScore {
	if len(d.Scores) == 0 {
		return nil
	}
	return &d.Scores[len(d.Scores)-1]
}

// maturityInput is one indicator to score.
type maturityInput struct {
	ind    *strategy.Indicator
	path   *TargetPath
	series Series
}

// MaturityAt computes the maturity index at time now from the strategy and
// the observations (keyed by indicator id; survey series keyed by the
// series name a MaturityDimension gives). Goals dropped before now do not
// count.
func MaturityAt(s *strategy.Strategy, obs map[string][]strategy.Observation, now time.Time) *MaturityIndex {
	var in []maturityInput
	for _, a := range s.Areas {
		for _, g := range a.Goals {
			for _, ind := range g.Indicators {
				in = append(in, maturityInput{ind, Path(ind), SeriesOf(obs[ind.ID]).KnownAt(now)})
			}
		}
	}
	return maturity(s, in, func(name string) Series { return SeriesOf(obs[name]).KnownAt(now) }, now)
}

// maturity computes the index; in must be in strategy order.
func maturity(s *strategy.Strategy, in []maturityInput, survey func(string) Series, now time.Time) *MaturityIndex {
	m := &MaturityIndex{Name: strategy.Text{SV: "Digital mognad", EN: "Digital maturity"}}
	dims := map[string]*MaturityDimension{}
	var areaDim map[string]string // area id → dimension id
	if s.Maturity != nil && len(s.Maturity.Dimensions) > 0 {
		if s.Maturity.Name.SV != "" {
			m.Name = s.Maturity.Name
		}
		areaDim = map[string]string{}
		for _, d := range s.Maturity.Dimensions {
			md := &MaturityDimension{ID: d.ID, Title: d.Title, Survey: d.Survey, SurveyShare: clamp(d.SurveyShare, 0, 1)}
			if !isFinite(d.SurveyShare) {
				md.SurveyShare = 0
			}
			dims[d.ID] = md
			m.Dimensions = append(m.Dimensions, md)
		}
		for _, a := range s.Areas {
			areaDim[a.ID] = a.Dimension
		}
	} else {
		for _, a := range s.Areas {
			md := &MaturityDimension{ID: a.ID, Title: a.Title}
			dims[a.ID] = md
			m.Dimensions = append(m.Dimensions, md)
		}
	}
	byInd := make(map[*strategy.Indicator]maturityInput, len(in))
	for _, x := range in {
		byInd[x.ind] = x
	}
	byDim := map[*MaturityDimension][]maturityInput{}
	for _, a := range s.Areas {
		id := a.ID
		if areaDim != nil {
			id = areaDim[a.ID]
		}
		md := dims[id]
		if md == nil {
			continue
		}
		for _, g := range a.Goals {
			if g.Dropped != nil && g.Dropped.Date.Before(now) {
				continue
			}
			for _, ind := range g.Indicators {
				if x, ok := byInd[ind]; ok {
					byDim[md] = append(byDim[md], x)
					md.Indicators = append(md.Indicators, ind.ID)
				}
			}
		}
	}
	// years
	first := 0
	if !s.Start.IsZero() {
		first = s.Start.In(strategy.Stockholm).Year()
	} else {
		for _, x := range in {
			if len(x.series) > 0 && (first == 0 || x.series[0].Period.Year < first) {
				first = x.series[0].Period.Year
			}
		}
	}
	last := now.In(strategy.Stockholm).Year()
	if first == 0 || first > last {
		return m
	}
	first = max(first, last-maxMaturityYears+1)
	for y := first; y <= last; y++ {
		m.Years = append(m.Years, y)
	}
	for _, md := range m.Dimensions {
		var sv Series
		if md.Survey != "" {
			sv = survey(md.Survey)
		}
		for _, y := range m.Years {
			md.Scores = append(md.Scores, dimensionScore(byDim[md], sv, md.SurveyShare, y, now))
		}
	}
	for i, y := range m.Years {
		o := MaturityScore{Year: y, Partial: y == last}
		var sum float64
		n := 0
		for _, md := range m.Dimensions {
			if sc := md.Scores[i].Score; sc != nil {
				sum += *sc
				n++
			}
		}
		if n > 0 {
			o.Score = ptr(sum / float64(n))
		}
		o.Dimensions = n
		m.Overall = append(m.Overall, o)
	}
	return m
}

// dimensionScore scores one dimension for year y.
func dimensionScore(in []maturityInput, survey Series, share float64, y int, now time.Time) MaturityScore {
	yearP := strategy.Period{Kind: strategy.Year, Year: y}
	at := yearP.End()
	partial := now.Before(at)
	if partial {
		at = now
	}
	sc := MaturityScore{Year: y, Partial: partial}
	var sum, wsum float64
	for _, x := range in {
		v, ok := indicatorScore(x, LastDay(yearP), at)
		if !ok {
			continue
		}
		w := x.ind.Weight
		if !isFinite(w) || w <= 0 {
			w = 1
		}
		sum += w * v
		wsum += w
		sc.Indicators++
	}
	if wsum > 0 {
		sc.FromIndicators = ptr(sum / wsum)
	}
	if p, ok := survey.On(LastDay(yearP)); ok && p.Period.Year == y && p.begin().Before(at) {
		sc.Survey = ptr(clamp(p.Value, 0, 100))
	}
	switch {
	case sc.FromIndicators != nil && sc.Survey != nil:
		sc.Score = ptr((1-share)**sc.FromIndicators + share**sc.Survey)
	case sc.FromIndicators != nil:
		sc.Score = sc.FromIndicators
	case sc.Survey != nil && share > 0:
		sc.Score = sc.Survey
	}
	return sc
}

// indicatorScore is an indicator's 0–100 score at the end of a year (last
// day d, looking at time at): the share of the way from its start
// (baseline, else first value) to its last horizon target that the latest
// value by then has come, clamped to 0–100.
func indicatorScore(x maturityInput, d, at time.Time) (float64, bool) {
	t, ok := x.path.Final(at)
	if !ok {
		return 0, false
	}
	s := x.series.KnownAt(at)
	p, ok := s.On(d)
	if !ok {
		return 0, false
	}
	if x.ind.Freshness > 0 && at.Sub(p.finish()) > x.ind.Freshness {
		return 0, false
	}
	start := s[0].Value
	if b := x.ind.Baseline; b != nil && isFinite(b.Value) {
		if !b.Date.IsZero() && d.Before(day(b.Date)) {
			return 0, false
		}
		start = b.Value
	}
	return clamp(Covered(x.ind, start, t.Value, p.Value), 0, 100), true
}

// MethodText describes in plain language how the index is computed, for the
// public page; lang is "sv" or "en".
func (m *MaturityIndex) MethodText(lang string) string {
	en := lang == "en"
	var b strings.Builder
	if en {
		b.WriteString("The digital maturity index runs from 0 to 100. ")
		b.WriteString("Each dimension gets a score per year from its indicators: for each indicator we take how far its latest value that year has come from its starting point (the baseline, or its first value) towards its long-term target. At the starting point or further away the indicator scores 0; at or beyond the target it scores 100. ")
		b.WriteString("The dimension's score is the weighted mean of its indicators' scores (each indicator weighs 1 unless the strategy says otherwise). Values older than an indicator's freshness limit are left out. ")
	} else {
		b.WriteString("Index för digital mognad går från 0 till 100. ")
		b.WriteString("Varje dimension får ett värde per år utifrån sina indikatorer: för varje indikator räknar vi hur stor del av vägen från utgångsläget (nulägesvärdet, eller första mätvärdet) till det långsiktiga målet som årets senaste värde har kommit. Vid utgångsläget eller längre bort får indikatorn 0, vid målet eller bortom det 100. ")
		b.WriteString("Dimensionens värde är ett vägt medelvärde av indikatorernas värden (varje indikator väger 1 om strategin inte säger annat). Värden som är äldre än indikatorns aktualitetsgräns räknas inte. ")
	}
	for _, d := range m.Dimensions {
		if d.Survey == "" || d.SurveyShare <= 0 {
			continue
		}
		pct := FormatNumber(d.SurveyShare*100, lang)
		title := d.Title.In(lang)
		if en {
			fmt.Fprintf(&b, "For %s, the year's self-assessment survey score weighs %s %% and the indicators the rest. ", title, pct)
		} else {
			fmt.Fprintf(&b, "För %s väger årets självskattning i enkäten %s %% och indikatorerna resten. ", title, pct)
		}
	}
	if en {
		b.WriteString("The overall index is the mean of the dimensions that have a score. The current year's figures are preliminary and change as new values come in.")
	} else {
		b.WriteString("Det samlade indexet är medelvärdet av de dimensioner som har ett värde. Innevarande års siffror är preliminära och ändras när nya värden kommer in.")
	}
	return b.String()
}
