package followup

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
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
	// lostAnswer is returned after a successful assessment write, as if
	// the connection broke after the server stored it.
	lostAnswer error
}

func (f *failing) WriteAssessment(ctx context.Context, a strategy.Assessment) error {
	if f.writeAssessment != nil {
		return f.writeAssessment
	}
	if err := f.Store.WriteAssessment(ctx, a); err != nil {
		return err
	}
	return f.lostAnswer
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

// TestFailedWrites: a write that fails is recorded as failed, not as
// done; an audit row that cannot be written waits in the journal and is
// written later; a journal that cannot be written stops the write; an
// unreachable database answers 503.
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
	if got := strings.Join(e.writes(), " "); got != "assessment.confirm.failed" {
		t.Errorf("audit = %s", got)
	}
	for _, x := range e.audit() {
		if x.Action == "assessment.confirm.failed" && x.Reason != "disk full (nothing of it is in the database)" {
			t.Errorf("failed entry = %+v", x)
		}
	}
	if n := e.journalLen(); n != 0 {
		t.Errorf("journal holds %d entries", n)
	}

	// The audit table refuses: the write is done, its entry waits.
	f.writeAssessment, f.writeAudit = nil, errors.New("audit table read-only")
	if a := bo.post(path, formOf("met", "", "Sparas, loggas senare", "bekrafta", 0, false)); a.code != http.StatusSeeOther {
		t.Errorf("write with the audit table down: %d", a.code)
	}
	if got := strings.Join(e.writes(), " "); got != "assessment.confirm.failed" || e.journalLen() != 1 {
		t.Errorf("audit = %s, journal %d", got, e.journalLen())
	}
	if err := e.svc.Reconcile(context.Background()); err == nil {
		t.Error("Reconcile with the audit table down reported nothing left")
	}
	f.writeAudit = nil
	if err := e.svc.Reconcile(context.Background()); err != nil {
		t.Error(err)
	}
	if got := strings.Join(e.writes(), " "); got != "assessment.confirm.failed assessment.confirm" || e.journalLen() != 0 {
		t.Errorf("after reconcile: audit = %s, journal %d", got, e.journalLen())
	}

	// The write reports an error, but the data is there: it worked, and
	// the audit trail says so.
	f.lostAnswer = errors.New("connection reset by peer")
	rev := e.assessments(false)[0].Revision
	if a := bo.post(path, formOf("not_met", "", "Svaret försvann", "bekrafta", rev, false)); a.code != http.StatusSeeOther {
		t.Errorf("write whose answer was lost: %d %s", a.code, problemsIn(a.body))
	}
	f.lostAnswer = nil
	if got := strings.Join(e.writes(), " "); got != "assessment.confirm.failed assessment.confirm assessment.confirm" {
		t.Errorf("after a lost answer: audit = %s", got)
	}

	// The journal cannot be written: nothing is.
	if err := os.RemoveAll(e.journal); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.journal, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	before := len(e.assessments(false))
	cur := e.assessments(false)[0].Revision
	if a := bo.post(path, formOf("partly", "", "Sparas inte heller", "bekrafta", cur, false)); a.code/100 != 5 || !strings.Contains(a.body, "Inget sparades") {
		t.Errorf("write without a journal: %d %s", a.code, problemsIn(a.body))
	}
	if as := e.assessments(false); len(as) != before || as[0].Revision != cur {
		t.Errorf("written although nothing could be journalled: %+v", as)
	}

	f.read = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	a = bo.get("/uppfoljning/rapport/2025-T1")
	if a.code != http.StatusServiceUnavailable || a.hdr.Get("Retry-After") == "" || !strings.Contains(a.body, "Databasen svarar inte") {
		t.Errorf("unreachable database: %d %q", a.code, a.hdr.Get("Retry-After"))
	}
}

// journalLen is how many entries the audit journal holds.
func (e *env) journalLen() int {
	e.t.Helper()
	es, errs := e.svc.journal.list()
	if len(errs) > 0 {
		e.t.Fatal(errs)
	}
	return len(es)
}
