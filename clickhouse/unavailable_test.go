package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

func oneCase(id string) *facts.Batch {
	return &facts.Batch{Tenant: "0120", Source: "x.csv", Version: 1, Cases: []facts.Case{{ID: id, Received: time.Now()}}}
}

// Writes and reads against a server that went away are "unavailable";
// after a restart the same Store works again.
func TestIsUnavailableWhenServerStops(t *testing.T) {
	for _, how := range []string{"stop", "kill"} {
		t.Run(how, func(t *testing.T) {
			srv := chtest.Server(t)
			ctx := context.Background()
			s, err := Open(ctx, srv.DSN("malbild"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteBatch(ctx, oneCase("1")); err != nil {
				t.Fatal(err)
			}
			if how == "stop" {
				srv.Stop()
			} else {
				srv.Kill()
			}
			errs := map[string]error{
				"WriteBatch":   s.WriteBatch(ctx, oneCase("2")),
				"Ping":         s.Ping(ctx),
				"Observations": func() error { _, err := s.Observations(ctx, ObservationFilter{Tenant: "0120"}); return err }(),
				"RecordRun":    s.RecordRun(ctx, Run{Tenant: "0120", Collector: "c", Started: time.Now(), Outcome: OutcomeOK}),
			}
			for name, err := range errs {
				if err == nil {
					t.Errorf("%s succeeded against a stopped server", name)
				} else if !IsUnavailable(err) {
					t.Errorf("%s: IsUnavailable(%v) = false", name, err)
				} else {
					t.Logf("%s: %v", name, err)
				}
			}
			_, err = Open(ctx, srv.DSN("malbild"))
			if !IsUnavailable(err) || !strings.Contains(err.Error(), srv.Addr()) {
				t.Errorf("Open on a stopped server: %v (want unavailable, naming %s)", err, srv.Addr())
			}

			chtest.Restart(t, srv)
			if err := s.WriteBatch(ctx, oneCase("3")); err != nil {
				t.Fatalf("after restart: %v", err)
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	// A port nobody listens on: refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = Open(context.Background(), "clickhouse://default@"+addr+"/malbild")
	if err == nil || !IsUnavailable(err) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("refused: %v (want unavailable, naming %s)", err, addr)
	}

	// A server that accepts and never answers: a timeout.
	l, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, err = Open(context.Background(), "tcp://"+l.Addr().String()+"/malbild?dial_timeout=300ms")
	if err == nil || !IsUnavailable(err) || !strings.Contains(err.Error(), l.Addr().String()) {
		t.Fatalf("silent server: %v (want unavailable, naming %s)", err, l.Addr())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Open took %v despite dial_timeout=300ms", d)
	}
}

func TestIsUnavailableNotForBadQueries(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	for _, q := range []string{"SELECT nope FROM nothing", "SELEKT 1", "INSERT INTO cases (nope) VALUES (1)"} {
		err := s.Exec(ctx, q)
		if err == nil {
			t.Fatalf("%s succeeded", q)
		}
		if IsUnavailable(err) {
			t.Errorf("%s: IsUnavailable(%v) = true", q, err)
		}
	}
	_, err := s.Observations(ctx, ObservationFilter{Tenant: "0120", Kind: strategy.PeriodKind("x')")})
	if err != nil {
		t.Fatalf("a quote in a filter value must be a value, not SQL: %v", err)
	}
	for _, err := range []error{nil, errors.New("something"), context.Canceled, fmt.Errorf("x: %w", context.Canceled)} {
		if IsUnavailable(err) {
			t.Errorf("IsUnavailable(%v) = true", err)
		}
	}
	for _, err := range []error{context.DeadlineExceeded, fmt.Errorf("writing: %w", &net.OpError{Op: "dial", Err: errors.New("refused")})} {
		if !IsUnavailable(err) {
			t.Errorf("IsUnavailable(%v) = false", err)
		}
	}
}

func TestParseDSN(t *testing.T) {
	for _, c := range []struct {
		in, addr, user, pass, db string
		err                      string
	}{
		{in: "clickhouse://u:p%40ss@ch.example:9440/malbild", addr: "ch.example:9440", user: "u", pass: "p@ss", db: "malbild"},
		{in: "tcp://127.0.0.1/malbild", addr: "127.0.0.1:9000", user: "default", db: "malbild"},
		{in: "clickhouse://[::1]:9001", addr: "[::1]:9001", user: "default", db: "default"},
		{in: "http://localhost:8123/malbild", err: "scheme must be clickhouse:// or tcp://"},
		{in: "clickhouse://u:secret@h:9000/x;DROP", err: "database name"},
		{in: "clickhouse://h:99999/x", err: "bad port"},
		{in: "clickhouse:///x", err: "no host"},
		{in: "clickhouse://u:secret@h/x?debug=1", err: `unknown parameter "debug"`},
		{in: "clickhouse://h/x?dial_timeout=soon", err: "dial_timeout"},
	} {
		d, err := parseDSN(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.in, err, c.err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: error shows the password: %v", c.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if d.addr != c.addr || d.user != c.user || d.password != c.pass || d.database != c.db {
			t.Errorf("%s: got %+v", c.in, d)
		}
	}
}
