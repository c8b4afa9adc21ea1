package clickhouse

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/internal/chtest"
)

func TestAuditLog(t *testing.T) {
	s, dsn := openTestStore(t)
	ctx := context.Background()
	base := time.Date(2025, 5, 12, 9, 0, 0, 0, time.UTC)
	entries := []AuditEntry{
		{Tenant: "0120", At: base, Seq: 1, Actor: "bo", Role: "editor", Action: "assessment.save", Subject: "indicator", SubjectID: "e-tjanster",
			Period: "2025-T1", Before: "", After: `{"level":"met","comment":"Bra ökning av e-tjänster"}`, Remote: "203.0.113.5"},
		{Tenant: "0120", At: base, Seq: 2, Actor: "bo", Role: "editor", Action: "assessment.save", Subject: "indicator", SubjectID: "e-tjanster",
			Period: "2025-T1", Before: `{"level":"met"}`, After: `{"level":"partly","comment":"Rättad"}`},
		{Tenant: "0120", At: base.Add(time.Hour), Actor: "anna", Role: "admin", Action: "period.reopen", Subject: "period", SubjectID: "2025-T1",
			Period: "2025-T1", Before: `{"closed":true}`, After: `{"closed":false}`, Reason: "Fel utfall för Kultur"},
		{Tenant: "", At: base.Add(2 * time.Hour), Actor: "mallory", Action: "login.failed", Subject: "user", SubjectID: "mallory", Reason: "unknown user", Remote: "198.51.100.1"},
		{Tenant: "1481", At: base, Actor: "cy", Action: "assessment.save", Subject: "goal", SubjectID: "g1"},
	}
	for _, e := range entries {
		if err := s.WriteAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(es []AuditEntry) string {
		var out []string
		for _, e := range es {
			out = append(out, e.Actor+" "+e.Action+" "+e.SubjectID)
		}
		return strings.Join(out, "\n")
	}
	for _, c := range []struct {
		name string
		f    AuditFilter
		want string
	}{
		{"tenant, newest first", AuditFilter{Tenant: "0120"}, "anna period.reopen 2025-T1\nbo assessment.save e-tjanster\nbo assessment.save e-tjanster"},
		{"with global", AuditFilter{Tenant: "0120", IncludeGlobal: true, Limit: 2}, "mallory login.failed mallory\nanna period.reopen 2025-T1"},
		{"page two", AuditFilter{Tenant: "0120", IncludeGlobal: true, Offset: 2, Limit: 2}, "bo assessment.save e-tjanster\nbo assessment.save e-tjanster"},
		{"actor", AuditFilter{Tenant: "0120", Actor: "anna"}, "anna period.reopen 2025-T1"},
		{"action", AuditFilter{Tenant: "0120", IncludeGlobal: true, Action: "login.failed"}, "mallory login.failed mallory"},
		{"time range", AuditFilter{Tenant: "0120", From: base.Add(30 * time.Minute), To: base.Add(90 * time.Minute)}, "anna period.reopen 2025-T1"},
		{"text in after, any case", AuditFilter{Tenant: "0120", Text: "RÄTTAD"}, "bo assessment.save e-tjanster"},
		{"text in reason", AuditFilter{Tenant: "0120", Text: "kultur"}, "anna period.reopen 2025-T1"},
		{"subject", AuditFilter{Tenant: "1481", Subject: "goal", SubjectID: "g1"}, "cy assessment.save g1"},
		{"nothing", AuditFilter{Tenant: "0120", Period: "2024"}, ""},
	} {
		got, err := s.AuditLog(ctx, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if k := keys(got); k != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, k, c.want)
		}
	}
	got, err := s.AuditLog(ctx, AuditFilter{Tenant: "0120", Action: "period.reopen"})
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	e := got[0]
	if !e.At.Equal(base.Add(time.Hour)) || e.Seq == 0 || e.Reason != "Fel utfall för Kultur" || e.Before != `{"closed":true}` || e.Role != "admin" {
		t.Errorf("entry read back = %+v", e)
	}
	// Append-only: a MergeTree without a version column keeps every row.
	if n := strings.TrimSpace(chtest.Query(t, dsn, "SELECT count() FROM audit_log")); n != "5" {
		t.Errorf("audit_log has %s rows", n)
	}
}

func TestAuditRejectsBadEntries(t *testing.T) {
	s, dsn := openTestStore(t)
	ctx := context.Background()
	for _, e := range []AuditEntry{
		{Tenant: "0120", Actor: "bo"},                                    // no action
		{Tenant: "0120", Action: "x", After: "{not json"},                // bad JSON
		{Tenant: "0120", Action: "x", Reason: strings.Repeat("a", 9000)}, // too long
		{Tenant: "0120", Action: "x", At: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if err := s.WriteAudit(ctx, e); err == nil {
			t.Errorf("WriteAudit(%+v) worked", e.Action)
		}
	}
	if n := strings.TrimSpace(chtest.Query(t, dsn, "SELECT count() FROM audit_log")); n != "0" {
		t.Errorf("audit_log has %s rows after rejected writes", n)
	}
}

// TestAuditCountsCharacters: the text fields are bounded in characters, so
// a 4 000-character comment of "€" (12 000 bytes) fits; invalid UTF-8 does
// not.
func TestAuditCountsCharacters(t *testing.T) {
	s, dsn := openTestStore(t)
	ctx := context.Background()
	euro := strings.Repeat("€", 4000)
	if err := s.WriteAudit(ctx, AuditEntry{Tenant: "0120", Action: "value.enter", Reason: euro}); err != nil {
		t.Fatalf("4 000 × €: %v", err)
	}
	if err := s.WriteAudit(ctx, AuditEntry{Tenant: "0120", Action: "value.enter", Reason: "a\xffb"}); err == nil || !strings.Contains(err.Error(), "not UTF-8") {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if got := strings.TrimSpace(chtest.Query(t, dsn, "SELECT count(), max(lengthUTF8(reason)) FROM audit_log")); got != "1\t4000" {
		t.Errorf("audit_log: %s", got)
	}
}
