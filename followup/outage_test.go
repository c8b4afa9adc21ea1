package followup

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/malbild/malbild/chserver"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

// cutProxy forwards loopback connections to a ClickHouse server. Once
// armed, it calls cut as soon as one connection has carried more than
// after bytes towards the server since arming, before forwarding more:
// the server is killed in the middle of whatever that connection sends.
type cutProxy struct {
	ln       net.Listener
	target   string
	password string // of the server behind, for dsn
	mu       sync.Mutex
	after    int64 // 0: not armed
	cut      func()
	wg       sync.WaitGroup
}

func newCutProxy(t *testing.T, target, password string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, password: password}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *cutProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(c, s); c.Close() }()
		go func() { defer p.wg.Done(); p.forward(s, c); s.Close() }()
	}
}

// forward copies client bytes to the server, counting them once armed.
func (p *cutProxy) forward(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	var sent int64
	armedAt := int64(-1)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			p.mu.Lock()
			if p.after > 0 && armedAt < 0 {
				armedAt = sent
			}
			if p.after > 0 && sent+int64(n)-armedAt > p.after {
				keep := max(p.after-(sent-armedAt), 0)
				dst.Write(chunk[:keep])
				p.after = 0
				cut := p.cut
				p.mu.Unlock()
				cut() // the server dies with part of the data received
				return
			}
			p.mu.Unlock()
			sent += int64(n)
			if _, err := dst.Write(chunk); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// arm makes the next connection to carry more than after bytes call cut.
func (p *cutProxy) arm(after int64, cut func()) {
	p.mu.Lock()
	p.after, p.cut = after, cut
	p.mu.Unlock()
}

func (p *cutProxy) dsn(db string) string {
	return fmt.Sprintf("clickhouse://%s:%s@%s/%s", chserver.User, p.password, p.ln.Addr(), db)
}

// killAfterWrite is a store that kills the server right after a
// successful observation write, before its audit row can be written.
type killAfterWrite struct {
	Store
	kill func()
}

func (k *killAfterWrite) WriteObservations(ctx context.Context, obs []strategy.Observation) error {
	err := k.Store.WriteObservations(ctx, obs)
	if err == nil && k.kill != nil {
		k.kill()
		k.kill = nil
	}
	return err
}

// TestAuditWhenClickHouseDies kills ClickHouse in the middle of a
// 60 000-row upload: the user is told nothing was saved, no row is saved,
// and once ClickHouse is back the audit trail says the upload failed —
// never that it was done. Then ClickHouse dies right after a value is
// written, before its audit row: the value stays, and its entry reaches
// the audit trail after the restart. A process that stopped during a
// write leaves an entry without outcome, settled by looking the data up.
func TestAuditWhenClickHouseDies(t *testing.T) {
	srv := chtest.Server(t)
	proxy := newCutProxy(t, srv.Addr(), srv.Password())
	ctx := context.Background()
	direct := srv.DSN("followup")
	// The workflow talks to ClickHouse through the proxy; the dashboards
	// and the test's own reads do not.
	var wf *clickhouse.Store
	kaw := &killAfterWrite{}
	e := newEnvCfg(t, envCfg{dsn: direct, wrap: func(s Store) Store {
		var err error
		if wf, err = clickhouse.Open(ctx, proxy.dsn("followup")); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { wf.Close() })
		kaw.Store = wf
		return kaw
	}})
	bo := e.login("bo")
	bo.get("/uppfoljning/uppladdning")

	var file strings.Builder
	file.WriteString("indikator;period;värde;dimension\n")
	for i := range 60000 {
		fmt.Fprintf(&file, "andel-digitala;2025-05;%d;ärende=%d\n", i%100, i)
	}
	killed := make(chan struct{})
	proxy.arm(64<<10, func() { srv.Kill(); close(killed) })
	a := bo.upload("stor.csv", file.String(), "Månadsrapport", true)
	select {
	case <-killed:
	default:
		t.Fatalf("the upload finished without sending 64 KiB: %d %s", a.code, problemsIn(a.body))
	}
	if a.code/100 != 5 || !strings.Contains(a.body, "Inget sparades") {
		t.Errorf("upload during the outage: %d %s", a.code, problemsIn(a.body))
	}
	if n := e.journalLen(); n != 1 {
		t.Fatalf("journal holds %d entries, want the upload's", n)
	}

	srv = chtest.Restart(t, srv)
	if got := strings.TrimSpace(chtest.Exec(t, srv, "SELECT count() FROM followup.observations WHERE source = 'upload'")); got != "0" {
		t.Errorf("%s uploaded rows saved", got)
	}
	if err := e.svc.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.writes(), " "); got != "value.upload.failed" {
		t.Errorf("audit after the restart = %q, want only value.upload.failed", got)
	}
	for _, x := range e.audit() {
		if x.Action == "value.upload.failed" && (!strings.Contains(x.Reason, "nothing of it is in the database") || x.SubjectID != "stor.csv") {
			t.Errorf("failed entry = %+v", x)
		}
	}
	if n := e.journalLen(); n != 0 {
		t.Errorf("journal holds %d entries after reconciling", n)
	}

	// Killed after the write, before the audit row.
	kaw.kill = srv.Kill
	if a := bo.post(valuePath, valuePost("Från månadsrapporten", "")); a.code != http.StatusSeeOther {
		t.Errorf("value saved before the outage: %d %s", a.code, problemsIn(a.body))
	}
	srv = chtest.Restart(t, srv)
	// A restarted process finds the entry in the journal on disk.
	j, err := openJournal(e.journal)
	if err != nil {
		t.Fatal(err)
	}
	restarted := &Service{opts: e.svc.opts, store: wf, log: e.svc.log, journal: j}
	if err := restarted.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.writes(), " "); got != "value.upload.failed value.enter" {
		t.Errorf("audit = %q", got)
	}

	// The process stopped during a write: one entry whose data is there,
	// one whose data is not, one with part of it.
	obs, err := wf.Observations(ctx, clickhouse.ObservationFilter{Tenant: tenant, Indicators: []string{"andel-digitala"}, Dimensions: true})
	if err != nil {
		t.Fatal(err)
	}
	var saved uint64
	for _, o := range obs {
		if o.Source == SourceManual {
			saved = o.Version
		}
	}
	for _, c := range []struct {
		action string
		check  writeCheck
	}{
		{"value.enter", writeCheck{Kind: checkObservations, Tenant: tenant, Keys: []string{"andel-digitala"}, Rows: 1, Version: saved}},
		{"value.correct", writeCheck{Kind: checkObservations, Tenant: tenant, Keys: []string{"andel-digitala"}, Rows: 1, Version: saved + 1}},
		{"value.upload", writeCheck{Kind: checkObservations, Tenant: tenant, Keys: []string{"andel-digitala"}, Rows: 2, Version: saved}},
		{"period.close", writeCheck{Kind: checkPeriod, Tenant: tenant, Period: "2025-T1", Version: 42}},
	} {
		if err := j.put(journalEntry{Entry: clickhouse.AuditEntry{Tenant: tenant, Actor: "bo", Action: c.action, At: testNow, Seq: j.seq()}, Check: c.check}); err != nil {
			t.Fatal(err)
		}
	}
	if err := restarted.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.writes(), " "); got != "value.upload.failed value.enter value.enter value.correct.failed value.upload.unknown period.close.failed" {
		t.Errorf("audit after settling = %q", got)
	}
	for _, x := range e.audit() {
		if x.Action == "value.upload.unknown" && x.Reason != "1 of 2 values in force, 1 in the history" {
			t.Errorf("unknown entry = %+v", x)
		}
	}
}
