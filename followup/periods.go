package followup

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// periodYears is how many years back the period list reaches.
const periodYears = 3

// reportPeriods lists the report periods that have begun (see begun),
// newest first: from the strategy's first year (at most periodYears years
// back) to the one in progress. For a strategy whose period has ended the
// list stops at its last full-year report (its follow-up after the end),
// and reaches back from there; report periods the strategy does not
// report (Strategy.Reports) are left out.
func (s *Service) reportPeriods(st *strategy.Strategy) []strategy.Period {
	now := s.opts.Now()
	return progress.StrategyReportPeriods(st, now, progress.LastReportPeriod(st, now).Year-periodYears+1)
}

// lastReportPeriod is the latest report period of st that has begun
// (progress.LastReportPeriod).
func (s *Service) lastReportPeriod(st *strategy.Strategy) strategy.Period {
	return progress.LastReportPeriod(st, s.opts.Now())
}

// duePeriod is the report period whose report is due: the latest that
// has ended (progress.ClosedReportPeriod), but not past the strategy's
// last one.
func (s *Service) duePeriod(st *strategy.Strategy) strategy.Period {
	due := progress.ClosedReportPeriod(st.Rhythm, s.opts.Now())
	if y := st.LastYear(); y != 0 && due.Year > y {
		return strategy.Period{Kind: strategy.Year, Year: y}
	}
	return due
}

// begun reports whether p is one of st's report periods and has begun as
// a report period: the one in progress (OpenReportPeriod) or an earlier
// one. The full-year report begins after the last tertial or quarter
// report period, in September or October. A period the strategy does not
// report (Strategy.Reports) is none of its report periods. A period
// outside the strategy's own period still counts (reportPeriods does not
// list it): values and assessments written for it before stay reachable.
func (s *Service) begun(st *strategy.Strategy, p strategy.Period) bool {
	open := progress.OpenReportPeriod(st.Rhythm, s.opts.Now())
	return progress.IsReportPeriod(st.Rhythm, p) && !p.End().After(open.End()) && st.Reported(p)
}

// parseReportPeriod reads a report period from a URL: one of the
// strategy's report periods that has begun.
func (s *Service) parseReportPeriod(st *strategy.Strategy, v string) (strategy.Period, bool) {
	p, err := strategy.ParsePeriod(v)
	if err != nil || !s.begun(st, p) {
		return strategy.Period{}, false
	}
	return p, true
}

// states returns the latest state of each period of the strategy's
// municipality that was ever closed or reopened.
func (s *Service) states(ctx context.Context, st *strategy.Strategy) (map[strategy.Period]clickhouse.PeriodState, error) {
	list, err := s.store.PeriodStates(ctx, st.Municipality.Code)
	if err != nil {
		return nil, err
	}
	m := make(map[strategy.Period]clickhouse.PeriodState, len(list))
	for _, p := range list {
		m[p.Period] = p
	}
	return m, nil
}

// errClosed is the answer to a write into a closed period.
func errClosed(p strategy.Period) *Error {
	return refuse(http.StatusConflict,
		fmt.Sprintf("Perioden %s är stängd och kan inte ändras. En administratör kan öppna den igen.", p.Label("sv")),
		fmt.Sprintf("The period %s is closed and cannot be changed. An administrator can reopen it.", p.Label("en")))
}

// checkOpen refuses writes into a closed report period.
func (s *Service) checkOpen(ctx context.Context, st *strategy.Strategy, p strategy.Period) error {
	states, err := s.states(ctx, st)
	if err != nil {
		return err
	}
	if states[p].Closed {
		return errClosed(p)
	}
	return nil
}

// closedCovering returns a closed report period whose report an
// observation for period o feeds: a closed report period of the same year
// that ends no earlier than o (a value for March is part of the closed T1
// report; a value for the whole year only of the closed full-year report).
func closedCovering(states map[strategy.Period]clickhouse.PeriodState, o strategy.Period) (strategy.Period, bool) {
	var found []strategy.Period
	for p, st := range states {
		if st.Closed && p.Year == o.Year && !o.End().After(p.End()) {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		return strategy.Period{}, false
	}
	slices.SortFunc(found, func(a, b strategy.Period) int { return a.End().Compare(b.End()) })
	return found[0], true
}

// ClosePeriod closes report period p of st for writing. Admins only.
func (s *Service) ClosePeriod(ctx context.Context, st *strategy.Strategy, who *auth.Identity, remote string, p strategy.Period) error {
	return s.setClosed(ctx, st, who, remote, p, true, "")
}

// ReopenPeriod opens a closed period again; the reason is required and
// kept in the audit trail. Admins only.
func (s *Service) ReopenPeriod(ctx context.Context, st *strategy.Strategy, who *auth.Identity, remote string, p strategy.Period, reason string) error {
	return s.setClosed(ctx, st, who, remote, p, false, reason)
}

func (s *Service) setClosed(ctx context.Context, st *strategy.Strategy, who *auth.Identity, remote string, p strategy.Period, closed bool, reason string) error {
	if !who.Is(auth.Admin) {
		return errForbidden()
	}
	if !s.begun(st, p) {
		return errNotFound()
	}
	var pr problems
	if !closed {
		reason = checkText(&pr, fieldReason, "", reason)
	}
	if err := pr.err(); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	states, err := s.states(ctx, st)
	if err != nil {
		return err
	}
	cur := states[p]
	if cur.Closed == closed {
		if closed {
			return refuse(http.StatusConflict, fmt.Sprintf("Perioden %s är redan stängd.", p.Label("sv")), fmt.Sprintf("The period %s is already closed.", p.Label("en")))
		}
		return refuse(http.StatusConflict, fmt.Sprintf("Perioden %s är redan öppen.", p.Label("sv")), fmt.Sprintf("The period %s is already open.", p.Label("en")))
	}
	now := s.opts.Now()
	next := clickhouse.PeriodState{Tenant: st.Municipality.Code, Period: p, Closed: closed, Actor: who.Name, Reason: reason, At: now,
		Revision: max(uint64(now.UnixNano()), cur.Revision+1)}
	action := "period.close"
	if !closed {
		action = "period.reopen"
	}
	entry := clickhouse.AuditEntry{Tenant: st.Municipality.Code, Actor: who.Name, Role: string(who.Role), Action: action,
		Subject: "period", SubjectID: p.String(), Period: p.String(), Before: toJSON(periodJSON(cur)), After: toJSON(periodJSON(next)),
		Reason: reason, Remote: remote}
	check := writeCheck{Kind: checkPeriod, Tenant: st.Municipality.Code, Period: p.String(), Version: next.Revision}
	return s.audited(ctx, entry, check, func() error { return s.store.WritePeriodState(ctx, next) })
}

// periodJSON is a period state as the audit trail records it.
func periodJSON(p clickhouse.PeriodState) map[string]any {
	m := map[string]any{"closed": p.Closed}
	if p.Actor != "" {
		m["by"] = p.Actor
		m["at"] = p.At.UTC().Format("2006-01-02T15:04:05Z")
	}
	if p.Reason != "" {
		m["reason"] = p.Reason
	}
	return m
}
