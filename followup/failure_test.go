package followup

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/strategy"
)

// failing is a store whose chosen calls fail.
type failing struct {
	Store
	writeAssessment, writeAudit, read error
}

func (f *failing) WriteAssessment(ctx context.Context, a strategy.Assessment) error {
	if f.writeAssessment != nil {
		return f.writeAssessment
	}
	return f.Store.WriteAssessment(ctx, a)
}

func (f *failing) WriteAudit(ctx context.Context, e clickhouse.AuditEntry) error {
	if f.writeAudit != nil {
		return f.writeAudit
	}
	return f.Store.WriteAudit(ctx, e)
}

func (f *failing) Observations(ctx context.Context, o clickhouse.ObservationFilter) ([]strategy.Observation, error) {
	if f.read != nil {
		return nil, f.read
	}
	return f.Store.Observations(ctx, o)
}

// TestFailedWritesAreAudited: the audit entry comes first; a write that
// then fails leaves a ".failed" entry; an audit trail that cannot be
// written stops the write; an unreachable database answers 503.
func TestFailedWrites(t *testing.T) {
	f := &failing{}
	e := newEnvWith(t, func(s Store) Store { f.Store = s; return f })
	bo := e.login("bo")
	path := "/uppfoljning/indikator/andel-digitala/2025-T1"

	f.writeAssessment = errors.New("disk full")
	a := bo.post(path, formOf("met", "", "Sparas inte", "bekrafta", 0, false))
	if a.code != http.StatusInternalServerError || strings.Contains(a.body, "disk full") || !strings.Contains(a.body, "Inget sparades") {
		t.Errorf("failed write: %d (the cause must stay in the log)", a.code)
	}
	if got := strings.Join(e.writes(), " "); got != "assessment.confirm assessment.confirm.failed" {
		t.Errorf("audit = %s", got)
	}
	for _, x := range e.audit() {
		if x.Action == "assessment.confirm.failed" && x.Reason != "disk full" {
			t.Errorf("failed entry = %+v", x)
		}
	}
	f.writeAssessment, f.writeAudit = nil, errors.New("audit table read-only")
	if a := bo.post(path, formOf("met", "", "Sparas inte heller", "bekrafta", 0, false)); a.code != http.StatusInternalServerError {
		t.Errorf("write without audit: %d", a.code)
	}
	if as := e.assessments(false); len(as) != 0 {
		t.Errorf("written although nothing could be audited: %+v", as)
	}
	f.writeAudit = nil
	f.read = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	a = bo.get("/uppfoljning/rapport/2025-T1")
	if a.code != http.StatusServiceUnavailable || a.hdr.Get("Retry-After") == "" || !strings.Contains(a.body, "Databasen svarar inte") {
		t.Errorf("unreachable database: %d %q", a.code, a.hdr.Get("Retry-After"))
	}
}
