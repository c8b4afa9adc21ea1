package demo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// maxAssessedPeriods bounds how many report periods get assessments (the
// latest ones), for strategies that run for decades.
const maxAssessedPeriods = 24

// reportPeriods are the report periods the demo assesses, oldest first:
// those of the strategy's period (from its start, or the data's, to its
// end) that are closed by the clock, at most maxAssessedPeriods.
func (g *generator) reportPeriods() []strategy.Period {
	rhythm := g.s.Rhythm
	start := g.s.Start
	if start.IsZero() || start.Before(g.from) {
		start = g.from
	}
	var ps []strategy.Period
	for p := progress.ClosedReportPeriod(rhythm, g.clock); len(ps) < maxAssessedPeriods; p = progress.PrevReportPeriod(rhythm, p) {
		if !p.Valid() || !p.End().After(start) {
			break
		}
		if p.End().After(g.now) {
			continue // after the strategy's end
		}
		ps = append(ps, p)
	}
	slices.Reverse(ps)
	return ps
}

// assessments writes ILS-style assessments for the strategy's closed
// report periods: for each indicator with a target, the engine's proposal
// from the scenario's expected values, confirmed by an analyst with a
// comment; for each measured or milestone goal the roll-up; for each
// qualitative goal a judgement that improves over the strategy's course,
// with a comment. While the strategy runs, of the latest period about a
// third are drafts and a sixth marked ready but not yet confirmed; an
// ended strategy's are all confirmed. One goal assessment of the oldest
// period is revised a week later.
func (g *generator) assessments() []strategy.Assessment {
	ps := g.reportPeriods()
	var out []strategy.Assessment
	revised := false
	for pi, p := range ps {
		latest := pi == len(ps)-1 && g.running()
		for _, goal := range g.s.Goals() {
			var items []progress.GoalItem
			for _, ind := range goal.Indicators {
				pr, ok := g.propose(ind, p)
				if !ok {
					continue
				}
				items = append(items, progress.GoalItem{Kind: "indicator", ID: ind.ID, Level: pr.Level, Forecast: pr.Forecast, Reason: pr.Reason})
				a := g.assessment(strategy.SubjectIndicator, ind.ID, p, pr.Level, pr.Forecast, latest)
				a.Comment = g.indicatorComment(ind, pr)
				out = append(out, a)
			}
			if goal.Kind == strategy.GoalMilestone && goal.Milestone != nil {
				pr := progress.ProposeMilestone(goal.Milestone, p, time.Time{})
				items = append(items, progress.GoalItem{Kind: "milestone", Level: pr.Level, Forecast: pr.Forecast, Reason: pr.Reason})
			}
			gp := progress.ProposeGoal(goal, items, g.s.RollUp, p, time.Time{})
			level, forecast := gp.Level, gp.Forecast
			if goal.Kind == strategy.GoalQualitative && (goal.Dropped == nil || p.End().Before(goal.Dropped.Date)) {
				level, forecast = g.qualitativeLevel(goal.ID, pi, len(ps), p)
			}
			if level == strategy.LevelNotAssessed {
				continue
			}
			a := g.assessment(strategy.SubjectGoal, goal.ID, p, level, forecast, latest)
			a.Proposed = gp.Level
			a.Comment = g.goalComment(goal, p, level, forecast, gp)
			if !revised && pi == 0 {
				// The first goal assessment was revised after the
				// management group's review: revision 1 kept as history.
				revised = true
				first := a
				first.Comment = "Preliminär bedömning inför ledningsgruppens genomgång. " + a.Comment
				out = append(out, first)
				a.Revision = 2
				a.Created = a.Created.AddDate(0, 0, 7)
				if a.Created.After(g.clock) {
					a.Created = g.clock
				}
				a.Comment += " Bedömningen stämdes av i ledningsgruppen."
			}
			out = append(out, a)
		}
	}
	return out
}

// propose is the engine's proposal for ind in report period p, from the
// scenario's expected values; ok is false when it cannot be assessed.
func (g *generator) propose(ind *strategy.Indicator, p strategy.Period) (progress.Proposal, bool) {
	plan := g.plans[ind.ID]
	if plan == nil || plan.Scenario == NoTarget || plan.Facts == "" {
		return progress.Proposal{}, false
	}
	kind := strategy.Month
	switch plan.Facts {
	case "kolada":
		kind = strategy.Year
	case "series":
		for _, s := range g.series {
			if s.name == ind.ID {
				kind = s.kind
			}
		}
	case "survey":
		kind = strategy.Year
	}
	var s progress.Series
	for _, q := range periods(kind, g.from, p.End()) {
		if q.End().After(g.now) {
			break
		}
		// Measures average over the period; series and Kolada values
		// describe its last day.
		at := unix(q.Start()) + (unix(q.End())-unix(q.Start()))/2
		if plan.Facts == "series" || plan.Facts == "kolada" {
			at = unix(lastDay(q))
		}
		s = append(s, progress.NewPoint(q, plan.traj.value(at)))
	}
	pr := progress.ProposeIndicator(ind, progress.Path(ind), s, p, time.Time{})
	return pr, pr.Level != strategy.LevelNotAssessed
}

// assessment fills the common fields. In the latest period some are
// drafts (not ready) and some ready but not yet confirmed.
func (g *generator) assessment(kind strategy.SubjectKind, id string, p strategy.Period, level, forecast strategy.Level, latest bool) strategy.Assessment {
	h := key(g.seed, 'a', hashString(string(kind)+"/"+id), uint64(unix(p.Start())))
	created := p.End().AddDate(0, 0, 5+int(h%15)).Add(time.Duration(9*60+int(h>>8%420)) * time.Minute)
	if created.After(g.clock) {
		created = g.clock.Add(-time.Duration(1+h%48) * time.Hour)
	}
	a := strategy.Assessment{
		Tenant: g.s.Municipality.Code, Subject: kind, SubjectID: id, Period: p,
		Level: level, Forecast: forecast, Proposed: level,
		Ready: true, Confirmed: true,
		Author:  analysts[h>>16%uint64(len(analysts))],
		Created: created.In(strategy.Stockholm), Revision: 1,
	}
	if p.Kind == strategy.Year {
		a.Forecast = strategy.LevelNone
	}
	if latest {
		switch h >> 24 % 6 {
		case 0, 1:
			a.Ready, a.Confirmed = false, false
		case 2:
			a.Confirmed = false
		}
	}
	return a
}

// Phrases for the analysis comments, by facts and level.
var commentPhrases = map[string]map[strategy.Level][]string{
	"cases": {
		strategy.LevelMet: {
			"Fler ansökningar kommer in digitalt sedan e-tjänsterna integrerades med verksamhetssystemen.",
			"Automatiserad registrering och kompletteringar via Mina sidor har kortat ledtiderna.",
		},
		strategy.LevelPartly: {
			"Utvecklingen går åt rätt håll men takten behöver öka; sommarperioden gav längre handläggningstider.",
			"Flera förvaltningar ligger i fas, men ärendetyper med pappersblanketter drar ned utfallet.",
		},
		strategy.LevelNotMet: {
			"Utfallet står i stort sett still. Personalomsättning och ett eftersatt systembyte har påverkat.",
			"Pappersblanketterna finns kvar för flera stora ärendetyper; en handlingsplan tas fram till nästa tertial.",
		},
	},
	"eservices": {
		strategy.LevelMet:    {"Nya e-tjänster har lanserats enligt plan och flera har integrerats med verksamhetssystemen."},
		strategy.LevelPartly: {"Lanseringarna har gått långsammare än planerat; två e-tjänster väntar på integration."},
		strategy.LevelNotMet: {"Plattformsbytet har försenat nya e-tjänster. Prioriteringen ses över med förvaltningarna."},
	},
	"survey": {
		strategy.LevelMet:    {"Systemenkäten visar att utbildningsinsatserna och de nya arbetssätten har gett effekt."},
		strategy.LevelPartly: {"Nöjdheten har ökat för flera system men sjunkit för ärendehanteringen efter uppgraderingen."},
		strategy.LevelNotMet: {"Enkätsvaren pekar på brister i stöd och prestanda; en åtgärdsplan tas fram med systemförvaltningen."},
	},
	"probes": {
		strategy.LevelMet:    {"Tillgängligheten har varit god; planerade servicefönster räknas inte in."},
		strategy.LevelPartly: {"Några driftstörningar under perioden, främst nattetid. Övervakningen har skärpts."},
		strategy.LevelNotMet: {"Återkommande avbrott i e-tjänsteplattformen. Leverantören har fått ett åtgärdskrav."},
	},
	"series": {
		strategy.LevelMet:    {"Arbetet går enligt plan och målet för året är nått."},
		strategy.LevelPartly: {"Arbetet pågår men är något försenat jämfört med planen."},
		strategy.LevelNotMet: {"Arbetet har inte kommit i gång som planerat; resurser har behövts i andra uppdrag."},
	},
	"kolada": {
		strategy.LevelMet:    {"Kommunen ligger över jämförbara kommuner enligt Kolada."},
		strategy.LevelPartly: {"Kommunen ligger i nivå med jämförbara kommuner enligt Kolada."},
		strategy.LevelNotMet: {"Kommunen ligger efter jämförbara kommuner enligt Kolada."},
	},
}

func (g *generator) indicatorComment(ind *strategy.Indicator, pr progress.Proposal) string {
	var b strings.Builder
	b.WriteString(pr.Reason.SV)
	facts := g.plans[ind.ID].Facts
	if phrases := commentPhrases[facts][pr.Level]; len(phrases) > 0 {
		b.WriteString(" ")
		b.WriteString(phrases[key(g.seed, 'c', hashString(ind.ID), uint64(unix(pr.Period.Start())))%uint64(len(phrases))])
	}
	if pr.Forecast != strategy.LevelNone && pr.ForecastReason.SV != "" {
		b.WriteString(" ")
		b.WriteString(pr.ForecastReason.SV)
	}
	return b.String()
}

func (g *generator) goalComment(goal *strategy.Goal, p strategy.Period, level, forecast strategy.Level, gp progress.GoalProposal) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Målet bedöms som %s för %s.", progress.LevelLabel(level, "sv"), p.Label("sv"))
	switch {
	case goal.Kind == strategy.GoalQualitative:
		b.WriteString(" ")
		b.WriteString(g.qualitativeComment(goal.ID, goal.Owner, p, level))
	case len(gp.Items) > 0:
		b.WriteString(" ")
		b.WriteString(gp.Reason.SV)
	}
	if forecast != strategy.LevelNone && p.Kind != strategy.Year {
		fmt.Fprintf(&b, " Prognos för helåret: %s.", progress.LevelLabel(forecast, "sv"))
	}
	return b.String()
}
