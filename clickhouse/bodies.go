package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/malbild/malbild/strategy"
)

// BodyReport is one responsible body's own assessment and comment of a
// goal for a report period (one revision of it).
type BodyReport struct {
	Tenant   string
	Goal     string
	Body     string // the body's id in the strategy
	Period   strategy.Period
	Level    strategy.Level
	Comment  string
	Author   string
	Created  time.Time
	Revision uint64
}

// ActivityUpdate is the follow-up of one activity for a report period
// (one revision of it): its status, outcome in tkr (nil: unknown) and a
// comment.
type ActivityUpdate struct {
	Tenant   string
	Goal     string
	Activity string
	Period   strategy.Period
	Status   strategy.ActivityStatus
	Outcome  *float64
	Comment  string
	Author   string
	Created  time.Time
	Revision uint64
}

var (
	bodyReportCols = []string{"tenant", "goal_id", "body_id", "period_kind", "period_start", "level",
		"comment", "author", "created", "revision"}
	activityUpdateCols = []string{"tenant", "goal_id", "activity_id", "period_kind", "period_start", "status",
		"has_outcome", "outcome", "comment", "author", "created", "revision"}
)

func validStatus(s strategy.ActivityStatus) bool {
	for _, a := range strategy.ActivityStatuses {
		if a.Status == s {
			return true
		}
	}
	return false
}

func checkBodyReport(r *BodyReport) error {
	switch {
	case r.Tenant == "":
		return errors.New("no tenant")
	case r.Goal == "" || r.Body == "":
		return fmt.Errorf("no goal or body (goal %q, body %q)", r.Goal, r.Body)
	case !r.Period.Valid():
		return fmt.Errorf("goal %s body %s: invalid period %+v", r.Goal, r.Body, r.Period)
	case !validLevel(r.Level) || r.Level == strategy.LevelNone:
		return fmt.Errorf("goal %s body %s %s: unknown level %q", r.Goal, r.Body, r.Period, r.Level)
	}
	if err := checkDate("period start", r.Period.Start()); err != nil {
		return fmt.Errorf("goal %s body %s: %w", r.Goal, r.Body, err)
	}
	return checkDateTime("created", r.Created)
}

func checkActivityUpdate(u *ActivityUpdate) error {
	switch {
	case u.Tenant == "":
		return errors.New("no tenant")
	case u.Goal == "" || u.Activity == "":
		return fmt.Errorf("no goal or activity (goal %q, activity %q)", u.Goal, u.Activity)
	case !u.Period.Valid():
		return fmt.Errorf("activity %s: invalid period %+v", u.Activity, u.Period)
	case !validStatus(u.Status):
		return fmt.Errorf("activity %s %s: unknown status %q", u.Activity, u.Period, u.Status)
	case u.Outcome != nil && (*u.Outcome < 0 || math.IsNaN(*u.Outcome) || math.IsInf(*u.Outcome, 0)):
		return fmt.Errorf("activity %s %s: outcome %v is not a sum of money", u.Activity, u.Period, *u.Outcome)
	}
	if err := checkDate("period start", u.Period.Start()); err != nil {
		return fmt.Errorf("activity %s: %w", u.Activity, err)
	}
	return checkDateTime("created", u.Created)
}

// WriteBodyReport appends a revision of a body's report. A zero Revision
// becomes the current time in nanoseconds, a zero Created the current time.
func (s *Store) WriteBodyReport(ctx context.Context, r BodyReport) error {
	now := time.Now()
	if r.Revision == 0 {
		r.Revision = uint64(now.UnixNano())
	}
	if r.Created.IsZero() {
		r.Created = now
	}
	if err := checkBodyReport(&r); err != nil {
		return fmt.Errorf("writing a body's report: %w", err)
	}
	rows := []BodyReport{r}
	err := s.insert(ctx, "body_reports", bodyReportCols, 1, func(w *blockWriter, lo, hi int) {
		strCol(w, 0, rows, func(r *BodyReport) string { return r.Tenant })
		strCol(w, 1, rows, func(r *BodyReport) string { return r.Goal })
		strCol(w, 2, rows, func(r *BodyReport) string { return r.Body })
		strCol(w, 3, rows, func(r *BodyReport) string { return string(r.Period.Kind) })
		dateCol(w, 4, rows, func(r *BodyReport) time.Time { return r.Period.Start() })
		strCol(w, 5, rows, func(r *BodyReport) string { return string(r.Level) })
		strCol(w, 6, rows, func(r *BodyReport) string { return r.Comment })
		strCol(w, 7, rows, func(r *BodyReport) string { return r.Author })
		timeCol(w, 8, rows, func(r *BodyReport) time.Time { return r.Created })
		u64Col(w, 9, rows, func(r *BodyReport) uint64 { return r.Revision })
	})
	if err != nil {
		return fmt.Errorf("writing the report of body %s on goal %s %s: %w", r.Body, r.Goal, r.Period, err)
	}
	return nil
}

// BodyReports returns the latest revision of every body's report of
// tenant (per goal, body and period), sorted by goal, body and period.
func (s *Store) BodyReports(ctx context.Context, tenant string) ([]BodyReport, error) {
	q := `SELECT goal_id, body_id, period_kind, period_start,
	argMax(level, revision), argMax(comment, revision), argMax(author, revision), argMax(created, revision),
	max(revision)
FROM body_reports
WHERE tenant = ?
GROUP BY goal_id, body_id, period_kind, period_start
ORDER BY goal_id, body_id, period_start, period_kind`
	out, err := s.scanBodyReports(ctx, tenant, q, []any{tenant})
	if err != nil {
		return nil, fmt.Errorf("reading the bodies' reports of %s: %w", tenant, err)
	}
	return out, nil
}

// BodyReportHistory returns every revision of the bodies' reports on one
// goal, for all bodies and periods, newest first.
func (s *Store) BodyReportHistory(ctx context.Context, tenant, goal string) ([]BodyReport, error) {
	q := `SELECT goal_id, body_id, period_kind, period_start, level, comment, author, created, revision
FROM body_reports
WHERE tenant = ? AND goal_id = ?
ORDER BY revision DESC, body_id, period_start DESC, period_kind`
	out, err := s.scanBodyReports(ctx, tenant, q, []any{tenant, goal})
	if err != nil {
		return nil, fmt.Errorf("reading the history of the bodies' reports on %s for %s: %w", goal, tenant, err)
	}
	return out, nil
}

func (s *Store) scanBodyReports(ctx context.Context, tenant, q string, args []any) ([]BodyReport, error) {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []BodyReport
	for rows.Next() {
		var (
			r              BodyReport
			kind, level    string
			start, created time.Time
		)
		if err := rows.Scan(&r.Goal, &r.Body, &kind, &start, &level, &r.Comment, &r.Author, &created, &r.Revision); err != nil {
			return nil, err
		}
		r.Tenant = tenant
		if r.Period, err = periodFromColumns(kind, start); err != nil {
			return nil, fmt.Errorf("report of body %s on goal %s: %w", r.Body, r.Goal, err)
		}
		r.Level = strategy.Level(level)
		r.Created = timeFromColumn(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// WriteActivityUpdate appends a revision of an activity's follow-up. A
// zero Revision becomes the current time in nanoseconds, a zero Created
// the current time.
func (s *Store) WriteActivityUpdate(ctx context.Context, u ActivityUpdate) error {
	now := time.Now()
	if u.Revision == 0 {
		u.Revision = uint64(now.UnixNano())
	}
	if u.Created.IsZero() {
		u.Created = now
	}
	if err := checkActivityUpdate(&u); err != nil {
		return fmt.Errorf("writing an activity update: %w", err)
	}
	rows := []ActivityUpdate{u}
	type U = ActivityUpdate
	err := s.insert(ctx, "activity_updates", activityUpdateCols, 1, func(w *blockWriter, lo, hi int) {
		strCol(w, 0, rows, func(u *U) string { return u.Tenant })
		strCol(w, 1, rows, func(u *U) string { return u.Goal })
		strCol(w, 2, rows, func(u *U) string { return u.Activity })
		strCol(w, 3, rows, func(u *U) string { return string(u.Period.Kind) })
		dateCol(w, 4, rows, func(u *U) time.Time { return u.Period.Start() })
		strCol(w, 5, rows, func(u *U) string { return string(u.Status) })
		boolCol(w, 6, rows, func(u *U) bool { return u.Outcome != nil })
		f64Col(w, 7, rows, func(u *U) float64 {
			if u.Outcome == nil {
				return 0
			}
			return *u.Outcome
		})
		strCol(w, 8, rows, func(u *U) string { return u.Comment })
		strCol(w, 9, rows, func(u *U) string { return u.Author })
		timeCol(w, 10, rows, func(u *U) time.Time { return u.Created })
		u64Col(w, 11, rows, func(u *U) uint64 { return u.Revision })
	})
	if err != nil {
		return fmt.Errorf("writing the update of activity %s %s: %w", u.Activity, u.Period, err)
	}
	return nil
}

// ActivityUpdates returns the latest revision of every activity update of
// tenant (per activity and period), sorted by goal, activity and period.
func (s *Store) ActivityUpdates(ctx context.Context, tenant string) ([]ActivityUpdate, error) {
	q := `SELECT goal_id, activity_id, period_kind, period_start,
	argMax(status, revision), argMax(has_outcome, revision), argMax(outcome, revision), argMax(comment, revision),
	argMax(author, revision), argMax(created, revision), max(revision)
FROM activity_updates
WHERE tenant = ?
GROUP BY goal_id, activity_id, period_kind, period_start
ORDER BY goal_id, activity_id, period_start, period_kind`
	out, err := s.scanActivityUpdates(ctx, tenant, q, []any{tenant})
	if err != nil {
		return nil, fmt.Errorf("reading the activity updates of %s: %w", tenant, err)
	}
	return out, nil
}

// ActivityHistory returns every revision of one activity's updates, for
// all periods, newest first.
func (s *Store) ActivityHistory(ctx context.Context, tenant, activity string) ([]ActivityUpdate, error) {
	q := `SELECT goal_id, activity_id, period_kind, period_start, status, has_outcome, outcome, comment,
	author, created, revision
FROM activity_updates
WHERE tenant = ? AND activity_id = ?
ORDER BY revision DESC, period_start DESC, period_kind`
	out, err := s.scanActivityUpdates(ctx, tenant, q, []any{tenant, activity})
	if err != nil {
		return nil, fmt.Errorf("reading the history of activity %s for %s: %w", activity, tenant, err)
	}
	return out, nil
}

func (s *Store) scanActivityUpdates(ctx context.Context, tenant, q string, args []any) ([]ActivityUpdate, error) {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ActivityUpdate
	for rows.Next() {
		var (
			u              ActivityUpdate
			kind, status   string
			start, created time.Time
			has            uint8
			outcome        float64
		)
		if err := rows.Scan(&u.Goal, &u.Activity, &kind, &start, &status, &has, &outcome, &u.Comment,
			&u.Author, &created, &u.Revision); err != nil {
			return nil, err
		}
		u.Tenant = tenant
		if u.Period, err = periodFromColumns(kind, start); err != nil {
			return nil, fmt.Errorf("update of activity %s: %w", u.Activity, err)
		}
		u.Status = strategy.ActivityStatus(status)
		if has == 1 {
			u.Outcome = &outcome
		}
		u.Created = timeFromColumn(created)
		out = append(out, u)
	}
	return out, rows.Err()
}

// ActivityAt is the update of an activity in force in report period p
// among its updates (ActivityUpdates of one activity): the latest of p or
// of an earlier period that ends no later than p, the latest revision on
// a tie; nil when there is none (the strategy file's values hold). The
// follow-up and the dashboards read an activity's state through it.
func ActivityAt(updates []ActivityUpdate, p strategy.Period) *ActivityUpdate {
	var in *ActivityUpdate
	for i, u := range updates {
		if u.Period != p && u.Period.End().After(p.End()) {
			continue
		}
		if in == nil || u.Period.End().After(in.Period.End()) ||
			(u.Period.End().Equal(in.Period.End()) && u.Revision > in.Revision) {
			in = &updates[i]
		}
	}
	return in
}
