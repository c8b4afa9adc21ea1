package followup

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
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

// audited writes the audit entry and then does the write. The entry comes
// first so that no change is ever without one; when the write then fails,
// a second entry (action + ".failed") says so.
func (s *Service) audited(ctx context.Context, e clickhouse.AuditEntry, write func() error) error {
	e.At = s.opts.Now()
	if err := s.store.WriteAudit(ctx, e); err != nil {
		return fmt.Errorf("recording %s in the audit trail (nothing was changed): %w", e.Action, err)
	}
	if err := write(); err != nil {
		f := e
		f.Action += ".failed"
		f.Seq = 0
		f.At = s.opts.Now()
		f.Reason = err.Error()
		if aerr := s.store.WriteAudit(context.WithoutCancel(ctx), f); aerr != nil {
			s.log.Error("followup: recording a failed write in the audit trail failed", "action", e.Action, "err", aerr)
		}
		return err
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
