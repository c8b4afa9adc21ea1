package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/malbild/malbild/strategy"
)

var assessmentCols = []string{"tenant", "subject", "subject_id", "period_kind", "period_start", "level",
	"forecast", "proposed", "comment", "ready", "confirmed", "author", "created", "revision"}

// AssessmentFilter selects assessments.
type AssessmentFilter struct {
	Tenant     string
	Subject    strategy.SubjectKind // empty: goals and indicators
	SubjectIDs []string             // empty: all
	Period     *strategy.Period     // nil: all periods
	// ConfirmedOnly returns the latest confirmed (published) revision,
	// ignoring drafts written after it.
	ConfirmedOnly bool
}

func validLevel(l strategy.Level) bool {
	switch l {
	case strategy.LevelMet, strategy.LevelPartly, strategy.LevelNotMet, strategy.LevelNotAssessed, strategy.LevelNone:
		return true
	}
	return false
}

func checkAssessment(a *strategy.Assessment) error {
	switch {
	case a.Tenant == "":
		return errors.New("no tenant")
	case a.Subject != strategy.SubjectGoal && a.Subject != strategy.SubjectIndicator:
		return fmt.Errorf("subject %q is neither %q nor %q", a.Subject, strategy.SubjectGoal, strategy.SubjectIndicator)
	case a.SubjectID == "":
		return fmt.Errorf("no %s id", a.Subject)
	case !a.Period.Valid():
		return fmt.Errorf("%s %s: invalid period %+v", a.Subject, a.SubjectID, a.Period)
	case !validLevel(a.Level) || !validLevel(a.Forecast) || !validLevel(a.Proposed):
		return fmt.Errorf("%s %s %s: unknown level (level %q, forecast %q, proposed %q)",
			a.Subject, a.SubjectID, a.Period, a.Level, a.Forecast, a.Proposed)
	}
	if err := checkDate("period start", a.Period.Start()); err != nil {
		return fmt.Errorf("%s %s: %w", a.Subject, a.SubjectID, err)
	}
	if err := checkDateTime("created", a.Created); err != nil {
		return fmt.Errorf("%s %s %s: %w", a.Subject, a.SubjectID, a.Period, err)
	}
	return nil
}

// WriteAssessment appends a revision of an assessment. A zero Revision
// becomes the current time in nanoseconds, a zero Created the current
// time. Earlier revisions are kept.
func (s *Store) WriteAssessment(ctx context.Context, a strategy.Assessment) error {
	now := time.Now()
	if a.Revision == 0 {
		a.Revision = uint64(now.UnixNano())
	}
	if a.Created.IsZero() {
		a.Created = now
	}
	if err := checkAssessment(&a); err != nil {
		return fmt.Errorf("writing assessment: %w", err)
	}
	rows := []strategy.Assessment{a}
	type A = strategy.Assessment
	err := s.insert(ctx, "assessments", assessmentCols, 1, func(w *blockWriter, lo, hi int) {
		strCol(w, 0, rows, func(a *A) string { return a.Tenant })
		strCol(w, 1, rows, func(a *A) string { return string(a.Subject) })
		strCol(w, 2, rows, func(a *A) string { return a.SubjectID })
		strCol(w, 3, rows, func(a *A) string { return string(a.Period.Kind) })
		dateCol(w, 4, rows, func(a *A) time.Time { return a.Period.Start() })
		strCol(w, 5, rows, func(a *A) string { return string(a.Level) })
		strCol(w, 6, rows, func(a *A) string { return string(a.Forecast) })
		strCol(w, 7, rows, func(a *A) string { return string(a.Proposed) })
		strCol(w, 8, rows, func(a *A) string { return a.Comment })
		boolCol(w, 9, rows, func(a *A) bool { return a.Ready })
		boolCol(w, 10, rows, func(a *A) bool { return a.Confirmed })
		strCol(w, 11, rows, func(a *A) string { return a.Author })
		timeCol(w, 12, rows, func(a *A) time.Time { return a.Created })
		u64Col(w, 13, rows, func(a *A) uint64 { return a.Revision })
	})
	if err != nil {
		return fmt.Errorf("writing assessment of %s %s %s: %w", a.Subject, a.SubjectID, a.Period, err)
	}
	return nil
}

// Assessments returns the latest revision of each assessment f selects
// (per subject and period), sorted by subject kind, subject id and period.
func (s *Store) Assessments(ctx context.Context, f AssessmentFilter) ([]strategy.Assessment, error) {
	ctx = tenantContext(ctx, f.Tenant)
	var (
		where strings.Builder
		args  = []any{f.Tenant}
	)
	where.WriteString("tenant = ?")
	if f.Subject != "" {
		where.WriteString(" AND subject = ?")
		args = append(args, string(f.Subject))
	}
	if len(f.SubjectIDs) > 0 {
		where.WriteString(" AND subject_id IN ?")
		args = append(args, inSet(f.SubjectIDs))
	}
	if f.Period != nil {
		where.WriteString(" AND period_kind = ? AND period_start = toDate(?)")
		args = append(args, string(f.Period.Kind), dateArg(f.Period.Start()))
	}
	if f.ConfirmedOnly {
		// Filtering before grouping: a draft written after the published
		// revision neither hides nor replaces it.
		where.WriteString(" AND confirmed = 1")
	}
	q := `SELECT subject, subject_id, period_kind, period_start,
	argMax(level, revision), argMax(forecast, revision), argMax(proposed, revision), argMax(comment, revision),
	argMax(ready, revision), argMax(confirmed, revision), argMax(author, revision), argMax(created, revision),
	max(revision)
FROM assessments
WHERE ` + where.String() + `
GROUP BY subject, subject_id, period_kind, period_start
ORDER BY subject, subject_id, period_start, period_kind`
	out, err := s.scanAssessments(ctx, f.Tenant, q, args)
	if err != nil {
		return nil, fmt.Errorf("reading assessments of %s: %w", f.Tenant, err)
	}
	return out, nil
}

// AssessmentHistory returns every revision of the assessments of one goal
// or indicator, for all periods, newest first.
func (s *Store) AssessmentHistory(ctx context.Context, tenant string, subject strategy.SubjectKind, id string) ([]strategy.Assessment, error) {
	ctx = tenantContext(ctx, tenant)
	q := `SELECT subject, subject_id, period_kind, period_start,
	level, forecast, proposed, comment, ready, confirmed, author, created, revision
FROM assessments
WHERE tenant = ? AND subject = ? AND subject_id = ?
ORDER BY revision DESC, period_start DESC, period_kind`
	out, err := s.scanAssessments(ctx, tenant, q, []any{tenant, string(subject), id})
	if err != nil {
		return nil, fmt.Errorf("reading the history of %s %s for %s: %w", subject, id, tenant, err)
	}
	return out, nil
}

func (s *Store) scanAssessments(ctx context.Context, tenant, q string, args []any) ([]strategy.Assessment, error) {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []strategy.Assessment
	for rows.Next() {
		var (
			a                                        strategy.Assessment
			subject, kind, level, forecast, proposed string
			start, created                           time.Time
			ready, confirmed                         uint8
		)
		if err := rows.Scan(&subject, &a.SubjectID, &kind, &start, &level, &forecast, &proposed, &a.Comment,
			&ready, &confirmed, &a.Author, &created, &a.Revision); err != nil {
			return nil, err
		}
		a.Tenant = tenant
		a.Subject = strategy.SubjectKind(subject)
		if a.Period, err = periodFromColumns(kind, start); err != nil {
			return nil, fmt.Errorf("assessment of %s %s: %w", subject, a.SubjectID, err)
		}
		a.Level, a.Forecast, a.Proposed = strategy.Level(level), strategy.Level(forecast), strategy.Level(proposed)
		a.Ready, a.Confirmed = ready == 1, confirmed == 1
		a.Created = timeFromColumn(created)
		out = append(out, a)
	}
	return out, rows.Err()
}
