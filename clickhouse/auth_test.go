package clickhouse

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestAuthSessions: a revocation wins over the start whatever order they
// are written in; expired and revoked sessions are not a user's live ones.
func TestAuthSessions(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	live := AuthSession{IDHash: "aa", User: "anna", Secret: "m1", Created: now, Expires: now.Add(12 * time.Hour)}
	ext := AuthSession{IDHash: "bb", User: "anna", Ext: `{"role":"editor"}`, Created: now, Expires: now.Add(time.Hour)}
	gone := AuthSession{IDHash: "cc", User: "anna", Created: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour)}
	revoked := AuthSession{IDHash: "dd", User: "anna", Created: now, Expires: now.Add(time.Hour), Revoked: true}
	other := AuthSession{IDHash: "ee", User: "bertil", Created: now, Expires: now.Add(time.Hour)}
	// dd's revocation is written before its start.
	for _, a := range []AuthSession{live, ext, gone, revoked, other, func() AuthSession { r := revoked; r.Revoked = false; return r }()} {
		if err := s.WriteAuthSession(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := s.AuthSession(ctx, "aa")
	if err != nil || !ok || got != live {
		t.Fatalf("session aa = %+v, %v, %v; want %+v", got, ok, err, live)
	}
	if got, ok, err := s.AuthSession(ctx, "dd"); err != nil || !ok || !got.Revoked {
		t.Fatalf("session dd = %+v, %v, %v; want revoked", got, ok, err)
	}
	if _, ok, err := s.AuthSession(ctx, "zz"); err != nil || ok {
		t.Fatalf("unknown session: ok %v, err %v", ok, err)
	}
	users, err := s.UserAuthSessions(ctx, "anna", now)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range users {
		ids = append(ids, u.IDHash)
	}
	if !slices.Equal(ids, []string{"aa", "bb"}) {
		t.Fatalf("anna's live sessions %v, want [aa bb]", ids)
	}
	if err := s.WriteAuthSession(ctx, AuthSession{User: "x", Created: now, Expires: now}); err == nil {
		t.Error("a session without id hash was written")
	}
}

// TestLoginFailures: failures after the window's start and after the last
// clearing count, in order.
func TestLoginFailures(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for _, ms := range []int{0, 100, 200} {
		if err := s.AddLoginFailure(ctx, "k1", at(ms)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ClearLoginFailures(ctx, "k1", at(250)); err != nil {
		t.Fatal(err)
	}
	for _, ms := range []int{300, 60_500, 61_000} {
		if err := s.AddLoginFailure(ctx, "k1", at(ms)); err != nil {
			t.Fatal(err)
		}
		if err := s.AddLoginFailure(ctx, "k2", at(ms)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.LoginFailures(ctx, []string{"k1", "k2", "k3"}, at(300))
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{at(60_500), at(61_000)}
	if !slices.EqualFunc(got["k1"], want, time.Time.Equal) || !slices.EqualFunc(got["k2"], want, time.Time.Equal) || len(got) != 2 {
		t.Fatalf("failures %v, want k1 and k2: %v", got, want)
	}
	got, err = s.LoginFailures(ctx, []string{"k1"}, at(0).Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if want := []time.Time{at(300), at(60_500), at(61_000)}; !slices.EqualFunc(got["k1"], want, time.Time.Equal) {
		t.Fatalf("k1 since the start: %v, want %v (after the clearing)", got["k1"], want)
	}
}

// TestSharedKey: the first key stored under a name is everybody's; a
// read-only call stores nothing.
func TestSharedKey(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	if k, err := s.SharedKey(ctx, "x", ""); err != nil || k != "" {
		t.Fatalf("read-only before any key: %q, %v", k, err)
	}
	if k, err := s.SharedKey(ctx, "x", "bbb"); err != nil || k != "bbb" {
		t.Fatalf("first key: %q, %v", k, err)
	}
	if k, err := s.SharedKey(ctx, "x", "aaa"); err != nil || k != "bbb" {
		t.Fatalf("a second process's candidate: %q, %v; want the stored bbb", k, err)
	}
	if k, err := s.SharedKey(ctx, "y", ""); err != nil || k != "" {
		t.Fatalf("another name: %q, %v", k, err)
	}
	// Two processes that stored at once agree on the least.
	err := s.insert(ctx, "auth_keys", authKeyCols, 1, func(w *blockWriter, lo, hi int) {
		constStrCol(w, 0, 1, "")
		constStrCol(w, 1, 1, "x")
		constStrCol(w, 2, 1, "abc")
		timeCol(w, 3, []int{0}, func(*int) time.Time { return time.Now() })
	})
	if err != nil {
		t.Fatal(err)
	}
	if k, err := s.SharedKey(ctx, "x", ""); err != nil || k != "abc" {
		t.Fatalf("after a concurrent store: %q, %v; want the least, abc", k, err)
	}
}
