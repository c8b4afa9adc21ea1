package demo

import (
	"strings"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/strategy"
)

// Goals without indicators are followed up by people: each report period
// the goal owner judges how far the goal has come and says why. The demo
// gives every such goal its own pace over the strategy's course (a few
// stall), so the follow-up moves from "delvis uppfyllt" towards
// "uppfyllt" rather than repeating one level, and writes a comment from
// phrase banks, different from period to period.
//
// Both are keyed on a subject (the goal's id) and name who reports (the
// goal's owner), not on the goal itself: a responsible body's report is
// the same judgement with the subject goal.ID+"/"+body.ID and the body's
// name (bodyReports), and the activities' statuses follow the same pace
// (activityUpdates).

// qualitativeLevel is the level of the goal (or part of one) subject in
// report period p, the i-th of n assessed, and the forecast for the full
// year (none for a full year).
func (g *generator) qualitativeLevel(subject string, i, n int, p strategy.Period) (level, forecast strategy.Level) {
	h := hashString(subject)
	pace := 0.6 + 0.8*unit(key(g.seed, 'q', h, 0))
	if key(g.seed, 'q', h, 1)%7 == 0 {
		pace = 0.3 // a goal that stalls
	}
	progress := float64(i+1) / float64(max(n, 1))
	noise := 0.16 * (unit(key(g.seed, 'q', h, uint64(unix(p.Start())))) - 0.5)
	level = qualitativeLevelOf(0.04 + progress*pace + noise)
	if p.Kind == strategy.Year {
		return level, strategy.LevelNone
	}
	return level, qualitativeLevelOf(0.24 + progress*pace)
}

func qualitativeLevelOf(score float64) strategy.Level {
	switch {
	case score >= 0.7:
		return strategy.LevelMet
	case score >= 0.1:
		return strategy.LevelPartly
	}
	return strategy.LevelNotMet
}

// Phrase banks for the qualitative goals' comments: what was done, what
// it shows, what comes next. {owner} is the goal's owner.
var (
	qualitativeDone = map[strategy.Level][]string{
		strategy.LevelMet: {
			"Samtliga förvaltningar har redovisat genomförda insatser och arbetssättet är infört i ordinarie verksamhet.",
			"{owner} redovisar att arbetet är genomfört och att rutinerna nu följs upp i linjen.",
			"Det som planerades för målet är på plats; uppföljningen i ledningsgruppen bekräftar förvaltningarnas bild.",
			"Arbetssättet används nu i alla verksamheter och har utvärderats med goda resultat.",
			"Målet nåddes under perioden när de sista förvaltningarna anslöt till det gemensamma arbetssättet.",
		},
		strategy.LevelPartly: {
			"Arbetet pågår i flera förvaltningar men är ännu inte infört i hela organisationen.",
			"{owner} redovisar att en första del är genomförd; resterande delar är planerade till nästa år.",
			"En förstudie är klar och en pilot har startat i två verksamheter.",
			"Flera insatser är gjorda, men resursbrist i IT-enheten har gjort att tidplanen förskjutits.",
			"Riktlinjer är beslutade i kommunledningen, men tillämpningen skiljer sig fortfarande mellan förvaltningarna.",
			"Arbetet har kommit i gång enligt plan; effekterna för invånarna är ännu svåra att se.",
		},
		strategy.LevelNotMet: {
			"Arbetet har inte påbörjats i den omfattning som planerades.",
			"{owner} redovisar att arbetet har fått stå tillbaka för andra prioriterade uppdrag.",
			"Upphandlingen som arbetet bygger på överklagades och har försenat starten.",
			"Ansvaret för målet har varit oklart mellan förvaltningarna, vilket har fördröjt arbetet.",
		},
	}
	qualitativeEvidence = []string{
		"Bedömningen bygger på förvaltningarnas redovisningar och dialog i ledningsgruppen.",
		"Underlaget är förvaltningarnas rapporter för perioden och IT-rådets genomgång.",
		"Bedömningen har stämts av med verksamhetsföreträdarna i digitaliseringsrådet.",
		"Underlaget är en enkät till verksamhetscheferna och IT-enhetens uppföljning.",
		"Bedömningen bygger på stickprov i verksamheterna och samtal med medarbetare.",
		"",
	}
	qualitativeNext = map[strategy.Level][]string{
		strategy.LevelMet: {
			"Fokus framåt är att förvalta arbetssättet och sprida erfarenheterna.",
			"Nästa steg är att följa upp effekterna för invånare och medarbetare.",
			"",
		},
		strategy.LevelPartly: {
			"En handlingsplan för de återstående förvaltningarna tas fram till nästa rapport.",
			"Ledningsgruppen har prioriterat arbetet och avsatt resurser för nästa period.",
			"Erfarenheterna från piloten ska spridas till övriga verksamheter under året.",
			"",
		},
		strategy.LevelNotMet: {
			"Ledningsgruppen har gett {owner} i uppdrag att återkomma med en reviderad tidplan.",
			"Målet lyfts i budgetdialogen inför nästa år.",
			"Arbetet startas om med en ny projektledare under nästa period.",
		},
	}
)

// qualitativeComment is the analysis of subject by owner in period p at
// level: what was done, on what it rests, and what comes next, drawn
// from the phrase banks by subject and period.
func (g *generator) qualitativeComment(subject, owner string, p strategy.Period, level strategy.Level) string {
	if owner == "" {
		owner = "ansvarig förvaltning"
	}
	h := key(g.seed, 'k', hashString(subject), uint64(unix(p.Start())))
	pick := func(xs []string, salt uint64) string {
		if len(xs) == 0 {
			return ""
		}
		return xs[mix(h^salt)%uint64(len(xs))]
	}
	var parts []string
	for _, s := range []string{pick(qualitativeDone[level], 1), pick(qualitativeEvidence, 2), pick(qualitativeNext[level], 3)} {
		if s != "" {
			parts = append(parts, upperFirst(strings.ReplaceAll(s, "{owner}", owner)))
		}
	}
	return strings.Join(parts, " ")
}

// upperFirst capitalises s's first letter.
func upperFirst(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}

// bodyReports are the responsible bodies' own reports on their goals for
// the report periods: one loop over each goal's bodies, each body at its
// own pace. While the strategy runs, about a third of the bodies have not
// yet reported for the latest period, so the follow-up shows "1 av 2".
func (g *generator) bodyReports() []clickhouse.BodyReport {
	ps := g.reportPeriods()
	var out []clickhouse.BodyReport
	for pi, p := range ps {
		latest := pi == len(ps)-1 && g.running()
		for _, goal := range g.s.Goals() {
			if goal.Dropped != nil && !p.End().Before(goal.Dropped.Date) {
				continue
			}
			for _, b := range goal.Bodies {
				subject := goal.ID + "/" + b.ID
				h := key(g.seed, 'b', hashString(subject), uint64(unix(p.Start())))
				if latest && h%3 == 0 {
					continue
				}
				level, _ := g.qualitativeLevel(subject, pi, len(ps), p)
				created := p.End().AddDate(0, 0, 2+int(h>>8%10)).Add(time.Duration(8*60+int(h>>16%480)) * time.Minute)
				if created.After(g.clock) {
					created = g.clock.Add(-time.Duration(1+h>>24%48) * time.Hour)
				}
				out = append(out, clickhouse.BodyReport{Tenant: g.s.Municipality.Code, Goal: goal.ID, Body: b.ID, Period: p,
					Level: level, Comment: g.qualitativeComment(subject, b.Name, p, level),
					Author: analysts[h>>32%uint64(len(analysts))], Created: created.In(strategy.Stockholm), Revision: 1})
			}
		}
	}
	return out
}

// activityUpdates follow each goal's activities over the report periods
// from the strategy file's values: not started before the activity's
// start, then ongoing, done or delayed at the goal's pace (a cancelled
// activity stays cancelled), with the money spent growing towards the
// budget (unknown when the budget is).
func (g *generator) activityUpdates() []clickhouse.ActivityUpdate {
	ps := g.reportPeriods()
	var out []clickhouse.ActivityUpdate
	for pi, p := range ps {
		for _, goal := range g.s.Goals() {
			for _, a := range goal.Activities {
				status := strategy.ActivityNotStarted
				level, _ := g.qualitativeLevel(goal.ID+"/"+a.ID, pi, len(ps), p)
				switch {
				case a.Status == strategy.ActivityCancelled:
					status = strategy.ActivityCancelled
				case a.Start.Known() && !a.Start.First().Before(p.End()):
				case level == strategy.LevelMet:
					status = strategy.ActivityDone
				case level == strategy.LevelNotMet || (a.Due.Known() && a.Due.Last().Before(p.End())):
					status = strategy.ActivityDelayed
				default:
					status = strategy.ActivityOngoing
				}
				u := clickhouse.ActivityUpdate{Tenant: g.s.Municipality.Code, Goal: goal.ID, Activity: a.ID, Period: p, Status: status,
					Author: analysts[key(g.seed, 'u', hashString(a.ID), uint64(unix(p.Start())))%uint64(len(analysts))], Revision: 1}
				if a.Budget != nil && status != strategy.ActivityNotStarted {
					spent := float64(int(*a.Budget*float64(pi+1)/float64(len(ps))*0.95 + 0.5))
					if status == strategy.ActivityDone {
						spent = float64(int(*a.Budget*0.97 + 0.5))
					}
					u.Outcome = &spent
				}
				if status != strategy.ActivityNotStarted {
					u.Comment = g.qualitativeComment(goal.ID+"/"+a.ID, a.Responsible, p, level)
				}
				u.Created = p.End().AddDate(0, 0, 3)
				if u.Created.After(g.clock) {
					u.Created = g.clock.Add(-time.Hour)
				}
				u.Created = u.Created.In(strategy.Stockholm)
				out = append(out, u)
			}
		}
	}
	return out
}
