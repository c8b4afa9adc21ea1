package followup

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/strategy"
)

// toJSON encodes v for the audit trail; nil becomes "".
func toJSON(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	if string(b) == "null" {
		return ""
	}
	return string(b)
}

// audited does a write and records it in the audit trail with its
// outcome: the entry is first kept in the journal (so that a crash cannot
// lose it; when even that fails, nothing is written), then the write is
// done, then the entry goes to ClickHouse — e.Action when the write
// worked, e.Action+".failed" when nothing of it reached the database, or
// e.Action+".unknown" when only part did. An outcome or audit row that
// cannot be settled now (ClickHouse down) stays in the journal and is
// settled by the next write or Reconcile. Callers hold writeMu.
func (s *Service) audited(ctx context.Context, e clickhouse.AuditEntry, check writeCheck, write func() error) error {
	s.reconcile(ctx)
	e.At = s.opts.Now()
	e.Seq = s.journal.seq()
	je := journalEntry{Entry: e, Check: check}
	if err := s.journal.put(je); err != nil {
		return fmt.Errorf("recording %s in the audit journal (nothing was changed): %w", e.Action, err)
	}
	werr := write()
	if werr == nil {
		je.Outcome = outcomeDone
	} else {
		je.Error = werr.Error()
	}
	if outcome, _ := s.settle(context.WithoutCancel(ctx), je); werr != nil && outcome == outcomeDone {
		// The write reported an error, yet all of it is in the database
		// (the answer was lost, not the data): it worked.
		s.log.Warn("followup: a write reported an error but is in the database", "action", e.Action, "err", werr)
		return nil
	}
	return werr
}

// outcomeUnknown is the outcome of a write only part of which is in the
// database.
const outcomeUnknown = "unknown"

// maxAuditError bounds the error text kept in a failed entry's reason.
const maxAuditError = 1000

// settle brings one journal entry into the audit trail and drops it from
// the journal. An entry without an outcome (the write failed, or the
// process stopped during it) is first looked up in the database. It
// reports the outcome (outcomePending if it could not be found out) and
// whether the entry is settled; if not, it stays in the journal with what
// is known so far.
func (s *Service) settle(ctx context.Context, je journalEntry) (outcome string, settled bool) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if je.Outcome == outcomePending {
		outcome, note, err := s.lookUp(ctx, je.Check)
		if err != nil {
			s.keep(je, "looking up the outcome of a write", err)
			return outcomePending, false
		}
		je.Outcome = outcome
		switch {
		case note != "" && je.Error != "":
			je.Error += " (" + note + ")"
		case note != "":
			je.Error = note
		}
	}
	row := je.Entry
	switch je.Outcome {
	case outcomeFailed, outcomeUnknown:
		row.Action += "." + je.Outcome
		row.Reason = je.Error
		if row.Reason == "" {
			row.Reason = "the server stopped during the write"
		}
		if r := []rune(row.Reason); len(r) > maxAuditError {
			row.Reason = string(r[:maxAuditError]) + "…"
		}
	}
	if err := s.store.WriteAudit(ctx, row); err != nil {
		s.keep(je, "writing an audit entry", err)
		return je.Outcome, false
	}
	if err := s.journal.remove(je.Entry.Seq); err != nil {
		// The row is written; a later reconcile would write it again.
		s.log.Error("followup: dropping a written entry from the audit journal failed", "action", row.Action, "err", err)
	}
	return je.Outcome, true
}

// keep leaves je in the journal, with its outcome if known, for later.
func (s *Service) keep(je journalEntry, what string, err error) {
	s.log.Warn("followup: "+what+" failed; the audit entry stays in the journal and is written later",
		"action", je.Entry.Action, "outcome", je.Outcome, "err", err)
	if perr := s.journal.put(je); perr != nil {
		s.log.Error("followup: updating the audit journal failed", "action", je.Entry.Action, "err", perr)
	}
}

// lookUp finds out what of a write is in the database: outcomeDone (all
// of it), outcomeFailed (none) or outcomeUnknown (part), with a note for
// the last two.
func (s *Service) lookUp(ctx context.Context, c writeCheck) (outcome, note string, err error) {
	switch c.Kind {
	case checkObservations:
		cur, err := s.store.Observations(ctx, clickhouse.ObservationFilter{Tenant: c.Tenant, Indicators: c.Keys, Dimensions: true})
		if err != nil {
			return "", "", err
		}
		found := 0
		for _, o := range cur {
			if o.Version == c.Version {
				found++
			}
		}
		if found >= c.Rows {
			return outcomeDone, "", nil
		}
		logged := 0
		for _, k := range c.Keys {
			h, err := s.store.ObservationHistory(ctx, c.Tenant, k)
			if err != nil {
				return "", "", err
			}
			for _, o := range h {
				if o.Version == c.Version {
					logged++
				}
			}
		}
		if found == 0 && logged == 0 {
			return outcomeFailed, "nothing of it is in the database", nil
		}
		return outcomeUnknown, fmt.Sprintf("%d of %d values in force, %d in the history", found, c.Rows, logged), nil
	case checkAssessment:
		h, err := s.store.AssessmentHistory(ctx, c.Tenant, strategy.SubjectKind(c.Subject), c.ID)
		if err != nil {
			return "", "", err
		}
		for _, a := range h {
			if a.Revision == c.Version && a.Period.String() == c.Period {
				return outcomeDone, "", nil
			}
		}
		return outcomeFailed, "nothing of it is in the database", nil
	case checkPeriod:
		p, err := strategy.ParsePeriod(c.Period)
		if err != nil {
			return "", "", fmt.Errorf("journal entry for period %q: %w", c.Period, err)
		}
		h, err := s.store.PeriodHistory(ctx, c.Tenant, p)
		if err != nil {
			return "", "", err
		}
		for _, st := range h {
			if st.Revision == c.Version {
				return outcomeDone, "", nil
			}
		}
		return outcomeFailed, "nothing of it is in the database", nil
	case checkBodyReport, checkActivity:
		return s.lookUpBodyWrite(ctx, c)
	}
	return outcomeUnknown, fmt.Sprintf("no way to look up a write of kind %q", c.Kind), nil
}

// reconcile settles what earlier writes left in the journal. Callers hold
// writeMu, so no entry it sees is still being written.
func (s *Service) reconcile(ctx context.Context) (left int) {
	entries, errs := s.journal.list()
	for _, err := range errs {
		s.log.Error("followup: an audit journal entry cannot be read; it is left in place", "err", err)
	}
	for _, je := range entries {
		if _, ok := s.settle(context.WithoutCancel(ctx), je); !ok {
			left++
		}
	}
	return left + len(errs)
}

// Reconcile writes to the audit trail what the journal still holds: the
// entries of writes whose audit row could not be written (ClickHouse was
// down) and of writes the process stopped during, whose outcome it looks
// up in the database. Call it at start and from time to time; every write
// also does. It reports how many entries are still left.
func (s *Service) Reconcile(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if n := s.reconcile(ctx); n > 0 {
		return fmt.Errorf("followup: %d audit journal entries could not be written to the audit trail yet", n)
	}
	return nil
}

// AuditStore is where AuthEvents writes; *clickhouse.Store satisfies it.
type AuditStore interface {
	WriteAudit(ctx context.Context, e clickhouse.AuditEntry) error
}

// AuthEvents returns the auth.Options.OnEvent hook that records sign-ins,
// failed sign-ins, sign-outs and user changes in the audit trail (without
// a tenant: they belong to no municipality), timed by now (nil:
// time.Now). Failures to record are logged; they do not stop the sign-in.
func AuthEvents(store AuditStore, log *slog.Logger, now func() time.Time) func(ctx context.Context, e auth.Event) {
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context, e auth.Event) {
		entry := clickhouse.AuditEntry{At: now(), Actor: e.Actor, Role: string(e.Role), Action: e.Action,
			Subject: "user", SubjectID: e.Subject, Before: toJSON(e.Before), After: toJSON(e.After), Reason: e.Reason, Remote: e.Remote}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := store.WriteAudit(ctx, entry); err != nil && log != nil {
			log.Error("followup: recording a sign-in or user event in the audit trail failed", "action", e.Action, "user", e.Subject, "err", err)
		}
	}
}
