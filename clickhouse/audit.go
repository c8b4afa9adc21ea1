package clickhouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

var auditCols = []string{"tenant", "at", "seq", "actor", "role", "action", "subject", "subject_id",
	"period", "before_json", "after_json", "reason", "remote"}

// AuditEntry is one row of the audit trail: who did what, when, and the
// state before and after as JSON.
type AuditEntry struct {
	// Tenant is the municipality; "" for events that belong to none
	// (sign-ins, user changes).
	Tenant string    `json:"tenant"`
	At     time.Time `json:"at"`
	// Seq orders entries written in the same second.
	Seq    uint64 `json:"seq"`
	Actor  string `json:"actor"`
	Role   string `json:"role,omitempty"`
	Action string `json:"action"` // e.g. assessment.save, period.close, login.failed
	// Subject and SubjectID say what the action was about: goal g1,
	// indicator i3, period 2025-T1, user anna.
	Subject   string `json:"subject,omitempty"`
	SubjectID string `json:"subject_id,omitempty"`
	Period    string `json:"period,omitempty"`
	// Before and After are JSON documents, or "" where there is nothing.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	Reason string `json:"reason,omitempty"`
	Remote string `json:"remote,omitempty"` // client address
}

// maxAuditField bounds every text field but Before and After, in
// characters (a comment of 4 000 "€" is 12 000 bytes and must fit);
// maxAuditJSON bounds those, in bytes (an upload of many values makes a
// large After).
const (
	maxAuditField = 8 << 10
	maxAuditJSON  = 4 << 20
)

func checkAudit(e *AuditEntry) error {
	if e.Action == "" {
		return errors.New("no action")
	}
	for _, f := range []struct{ name, v string }{{"tenant", e.Tenant}, {"actor", e.Actor}, {"role", e.Role},
		{"action", e.Action}, {"subject", e.Subject}, {"subject id", e.SubjectID}, {"period", e.Period},
		{"reason", e.Reason}, {"remote", e.Remote}} {
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("%s is not UTF-8", f.name)
		}
		if n := utf8.RuneCountInString(f.v); n > maxAuditField {
			return fmt.Errorf("%s is %d characters long (at most %d)", f.name, n, maxAuditField)
		}
	}
	for _, f := range []struct{ name, v string }{{"before", e.Before}, {"after", e.After}} {
		if f.v == "" {
			continue
		}
		if len(f.v) > maxAuditJSON {
			return fmt.Errorf("%s is longer than %d bytes", f.name, maxAuditJSON)
		}
		if !json.Valid([]byte(f.v)) {
			return fmt.Errorf("%s is not JSON", f.name)
		}
	}
	return checkDateTime("time", e.At)
}

// WriteAudit appends an entry to the audit trail. A zero At becomes the
// current time, a zero Seq the current time in nanoseconds.
func (s *Store) WriteAudit(ctx context.Context, e AuditEntry) error {
	now := time.Now()
	if e.At.IsZero() {
		e.At = now
	}
	if e.Seq == 0 {
		e.Seq = uint64(now.UnixNano())
	}
	if err := checkAudit(&e); err != nil {
		return fmt.Errorf("writing audit entry %s: %w", e.Action, err)
	}
	rows := []AuditEntry{e}
	type A = AuditEntry
	err := s.insert(ctx, "audit_log", auditCols, 1, func(w *blockWriter, lo, hi int) {
		strCol(w, 0, rows, func(a *A) string { return a.Tenant })
		timeCol(w, 1, rows, func(a *A) time.Time { return a.At })
		u64Col(w, 2, rows, func(a *A) uint64 { return a.Seq })
		strCol(w, 3, rows, func(a *A) string { return a.Actor })
		strCol(w, 4, rows, func(a *A) string { return a.Role })
		strCol(w, 5, rows, func(a *A) string { return a.Action })
		strCol(w, 6, rows, func(a *A) string { return a.Subject })
		strCol(w, 7, rows, func(a *A) string { return a.SubjectID })
		strCol(w, 8, rows, func(a *A) string { return a.Period })
		strCol(w, 9, rows, func(a *A) string { return a.Before })
		strCol(w, 10, rows, func(a *A) string { return a.After })
		strCol(w, 11, rows, func(a *A) string { return a.Reason })
		strCol(w, 12, rows, func(a *A) string { return a.Remote })
	})
	if err != nil {
		return fmt.Errorf("writing audit entry %s of %s: %w", e.Action, e.Actor, err)
	}
	return nil
}

// AuditFilter selects audit entries. Empty fields do not filter.
type AuditFilter struct {
	Tenant string
	// IncludeGlobal also returns the entries without a tenant (sign-ins,
	// user changes).
	IncludeGlobal bool
	Actor         string
	Action        string
	Subject       string
	SubjectID     string
	Period        string
	// From and To bound At: From <= At < To.
	From, To time.Time
	// Text is looked for, ignoring case, in the subject id, before,
	// after and reason.
	Text string
	// Offset and Limit page through the newest-first list; Limit 0 means
	// at most MaxAuditRows.
	Offset, Limit int
}

// MaxAuditRows bounds one read of the audit trail.
const MaxAuditRows = 100000

// AuditLog returns the entries f selects, newest first.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var (
		where strings.Builder
		args  []any
	)
	if f.IncludeGlobal {
		where.WriteString("tenant IN (?, '')")
	} else {
		where.WriteString("tenant = ?")
		ctx = tenantContext(ctx, f.Tenant)
	}
	args = append(args, f.Tenant)
	for _, c := range []struct{ col, v string }{{"actor", f.Actor}, {"action", f.Action}, {"subject", f.Subject},
		{"subject_id", f.SubjectID}, {"period", f.Period}} {
		if c.v != "" {
			where.WriteString(" AND " + c.col + " = ?")
			args = append(args, c.v)
		}
	}
	if !f.From.IsZero() {
		where.WriteString(" AND at >= toDateTime(?)")
		args = append(args, f.From.Unix())
	}
	if !f.To.IsZero() {
		where.WriteString(" AND at < toDateTime(?)")
		args = append(args, f.To.Unix())
	}
	if f.Text != "" {
		where.WriteString(" AND positionCaseInsensitiveUTF8(concat(subject_id, '\\n', before_json, '\\n', after_json, '\\n', reason), ?) > 0")
		args = append(args, f.Text)
	}
	limit := f.Limit
	if limit <= 0 || limit > MaxAuditRows {
		limit = MaxAuditRows
	}
	args = append(args, max(f.Offset, 0), limit)
	q := `SELECT tenant, at, seq, actor, role, action, subject, subject_id, period, before_json, after_json, reason, remote
FROM audit_log
WHERE ` + where.String() + `
ORDER BY at DESC, seq DESC
LIMIT ?, ?`
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the audit trail of %q: %w", f.Tenant, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.Tenant, &e.At, &e.Seq, &e.Actor, &e.Role, &e.Action, &e.Subject, &e.SubjectID,
			&e.Period, &e.Before, &e.After, &e.Reason, &e.Remote); err != nil {
			return nil, fmt.Errorf("reading the audit trail of %q: %w", f.Tenant, err)
		}
		e.At = timeFromColumn(e.At)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the audit trail of %q: %w", f.Tenant, err)
	}
	return out, nil
}
