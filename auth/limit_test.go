package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRightPasswordFromAnotherAddress: wrong passwords from one address
// limit that address, not the user everywhere.
func TestRightPasswordFromAnotherAddress(t *testing.T) {
	a, _, _, _ := newTestAuth(t, nil)
	for i := 0; i < 10; i++ {
		login(t, a, "anna", "guessed password", "198.51.100.66:1")
	}
	var rl *RateLimitError
	if _, err := login(t, a, "anna", annaPW, "198.51.100.66:1"); !errors.As(err, &rl) {
		t.Fatalf("the guessing address is not limited: %v", err)
	}
	if _, err := login(t, a, "anna", annaPW, "203.0.113.5:1"); err != nil {
		t.Fatalf("anna from her own address while another is limited: %v", err)
	}
	// Another user behind the guessing address is not locked out either.
	if _, err := login(t, a, "bo", "bo-lösenord-12", "198.51.100.66:2"); err != nil {
		t.Fatalf("bo behind the guessing address: %v", err)
	}
}

// TestSuccessfulSignInsNeverCount: behind a NAT, any number of people may
// sign in.
func TestSuccessfulSignInsNeverCount(t *testing.T) {
	a, _, _, _ := newTestAuth(t, nil)
	for i := 0; i < 50; i++ {
		name, pw := "anna", annaPW
		if i%2 == 1 {
			name, pw = "bo", "bo-lösenord-12"
		}
		if _, err := login(t, a, name, pw, "192.0.2.200:1"); err != nil {
			t.Fatalf("sign-in %d behind one address: %v", i+1, err)
		}
	}
	// A success also clears that user's failures from that address.
	for i := 0; i < 4; i++ {
		login(t, a, "anna", "typo", "192.0.2.200:1")
	}
	if _, err := login(t, a, "anna", annaPW, "192.0.2.200:1"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if _, err := login(t, a, "anna", "typo", "192.0.2.200:1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("typo %d after a sign-in: %v", i+1, err)
		}
	}
}

// TestAddressLimit: one address trying many names is limited as a whole.
func TestAddressLimit(t *testing.T) {
	a, _, _, _ := newTestAuth(t, func(o *Options) { o.LoginLimit, o.LoginAddressLimit = 5, 8 })
	for i := 0; i < 8; i++ {
		if _, err := login(t, a, []string{"anna", "bo"}[i%2], "guess", "198.51.100.7:1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	var rl *RateLimitError
	if _, err := login(t, a, "anna", annaPW, "198.51.100.7:1"); !errors.As(err, &rl) {
		t.Fatalf("ninth failure from one address = %v", err)
	}
	if _, err := login(t, a, "anna", annaPW, "198.51.100.8:1"); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

// TestRefusedSignInsAggregated: a flood of refused sign-ins writes a few
// audit events that carry the count, not one event each.
func TestRefusedSignInsAggregated(t *testing.T) {
	a, clk, ev, _ := newTestAuth(t, nil)
	const n = 2000
	for i := 0; i < n; i++ {
		name := []string{"anna", "bo"}[i%2]
		if i == 0 {
			name = "anonym" // an unknown name too (each costs a full bcrypt)
		}
		if _, err := login(t, a, name, "guess", "198.51.100.9:1"); err == nil {
			t.Fatal("a guess worked")
		}
		if i == n/2 {
			clk.add(61 * time.Second) // a second window
		}
	}
	a.FlushFailures(context.Background())
	total := 0
	for _, e := range ev.got {
		if e.Action != "login.failed" || e.Remote != "198.51.100.9" {
			t.Errorf("unexpected event %+v", e)
			continue
		}
		c := max(e.Count, 1)
		total += c
		if c > 1 {
			lf, ok := e.After.(LoginFailures)
			if !ok || lf.Count != c || lf.Last.Before(lf.First) || !strings.Contains(e.Reason, fmt.Sprint(c)) {
				t.Errorf("summary event %+v", e)
			}
		}
	}
	if total != n {
		t.Errorf("the events account for %d refused sign-ins, want %d", total, n)
	}
	// Per window: the first failures of at most LoginAddressLimit pairs
	// (20), a summary for each of them and one for the address.
	if len(ev.got) > 2*(20+20+1) {
		t.Errorf("%d audit events for %d refused sign-ins", len(ev.got), n)
	}
	t.Logf("%d refused sign-ins → %d audit events", n, len(ev.got))
}

// TestRefusedSummaryOnSignIn: a successful sign-in reports the refusals
// of its address and name that wait to be summed up.
func TestRefusedSummaryOnSignIn(t *testing.T) {
	a, _, ev, _ := newTestAuth(t, nil)
	for i := 0; i < 3; i++ {
		login(t, a, "anna", "typo", "203.0.113.5:1")
	}
	if got := ev.actions(); got != "login.failed:anna" {
		t.Fatalf("before the sign-in: %s", got)
	}
	if _, err := login(t, a, "anna", annaPW, "203.0.113.5:1"); err != nil {
		t.Fatal(err)
	}
	if got := ev.actions(); got != "login.failed:anna login.failed:anna login:anna" {
		t.Fatalf("after the sign-in: %s", got)
	}
	if e := ev.got[1]; e.Count != 2 || e.After.(LoginFailures).Reasons["wrong password"] != 2 {
		t.Errorf("summary = %+v", e)
	}
}

// TestLimiterCapacity: the limiter keeps at most its capacity of keys,
// dropping the least recently used, and a key it keeps still counts.
func TestLimiterCapacity(t *testing.T) {
	l := newLimiter(2, time.Minute, 100)
	now := time.Unix(1e9, 0)
	l.fail("kept", now)
	l.fail("kept", now)
	for i := 0; i < 1000; i++ {
		l.fail(fmt.Sprint("k", i), now)
		if i%50 == 0 {
			l.fail("kept", now) // used again: stays
		}
	}
	if n := l.keys.Len(); n != 100 {
		t.Errorf("limiter holds %d keys, want its capacity 100", n)
	}
	if ok, _ := l.blocked("kept", now); !ok {
		t.Error("a recently used key was dropped")
	}
	if l.keys.Contains("k0") {
		t.Error("the least recently used key was kept")
	}
	f := newFailureLog(time.Minute, 10)
	var evs []Event
	for i := 0; i < 100; i++ {
		for j := 0; j < 3; j++ {
			evs = append(evs, f.refused(failureKey{remote: fmt.Sprint("198.51.100.", i)}, "wrong password", now)...)
		}
	}
	evs = append(evs, f.flush(now)...)
	total := 0
	for _, e := range evs {
		total += max(e.Count, 1)
	}
	if f.open.Len() != 10 || total != 300 {
		t.Errorf("failure log holds %d windows (want 10), reports %d refusals (want 300)", f.open.Len(), total)
	}
}

// BenchmarkLimiterNewKey measures a failure for a new key in a full
// limiter of 100 000 keys (each evicts one): constant time, not a scan.
func BenchmarkLimiterNewKey(b *testing.B) {
	ll := newLoginLimits(20, 5, time.Minute, 100000)
	now := time.Unix(1e9, 0)
	for i := 0; i < 100000; i++ {
		ll.failed(fmt.Sprint("10.0.", i), "anna", now)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ip := fmt.Sprint("192.168.", i)
		ll.check(ip, "anna", now)
		ll.failed(ip, "anna", now)
	}
}
