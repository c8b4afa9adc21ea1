package auth

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// limiter counts failures per key: at most limit in any window (a sliding
// log of the last limit failures). It remembers at most maxKeys keys; a
// new key beyond that drops the least recently used one in constant time.
// Its caller holds the lock.
type limiter struct {
	limit  int
	window time.Duration
	keys   *simplelru.LRU[string, []time.Time]
}

func newLimiter(limit int, window time.Duration, maxKeys int) *limiter {
	keys, err := simplelru.NewLRU[string, []time.Time](maxKeys, nil)
	if err != nil {
		panic("auth: limiter: " + err.Error()) // only for maxKeys <= 0, which New rules out
	}
	return &limiter{limit: limit, window: window, keys: keys}
}

// recent returns key's failures inside the window before now.
func (l *limiter) recent(key string, now time.Time) []time.Time {
	h, _ := l.keys.Peek(key)
	i := 0
	for i < len(h) && !h[i].After(now.Add(-l.window)) {
		i++
	}
	return h[i:]
}

// blocked reports whether key had limit failures in the window, and if so
// how long until the oldest of them leaves it.
func (l *limiter) blocked(key string, now time.Time) (bool, time.Duration) {
	h := l.recent(key, now)
	if len(h) < l.limit {
		return false, 0
	}
	return true, h[len(h)-l.limit].Add(l.window).Sub(now)
}

// fail records a failure for key at now, keeping the last limit.
func (l *limiter) fail(key string, now time.Time) {
	h := append(slices.Clone(l.recent(key, now)), now)
	if len(h) > l.limit {
		h = h[len(h)-l.limit:]
	}
	l.keys.Add(key, h)
}

// loginLimits are the sign-in limits: failures per client address, and
// per client address and user name. Successful sign-ins never count, and
// no limit is per user name alone, so nobody can lock a user out from
// another address.
type loginLimits struct {
	mu   sync.Mutex
	addr *limiter
	pair *limiter
}

func newLoginLimits(addrLimit, pairLimit int, window time.Duration, maxKeys int) *loginLimits {
	return &loginLimits{addr: newLimiter(addrLimit, window, maxKeys), pair: newLimiter(pairLimit, window, maxKeys)}
}

func pairKey(ip, name string) string { return ip + "\x00" + name }

// check says whether a sign-in as name from ip may be tried at now; when
// not, the error says how long to wait and byAddress whether the address
// as a whole is limited.
func (ll *loginLimits) check(ip, name string, now time.Time) (err *RateLimitError, byAddress bool) {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	if ok, wait := ll.addr.blocked(ip, now); ok {
		return &RateLimitError{RetryAfter: wait}, true
	}
	if ok, wait := ll.pair.blocked(pairKey(ip, name), now); ok {
		return &RateLimitError{RetryAfter: wait}, false
	}
	return nil, false
}

// failed records a failed sign-in as name from ip.
func (ll *loginLimits) failed(ip, name string, now time.Time) {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	ll.addr.fail(ip, now)
	ll.pair.fail(pairKey(ip, name), now)
}

// succeeded forgets the failures of name from ip (not those of the
// address: others behind it may be guessing).
func (ll *loginLimits) succeeded(ip, name string) {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	ll.pair.keys.Remove(pairKey(ip, name))
}

// LoginFailures is the After of an aggregated login.failed event: the
// refused sign-ins of one address (and user name, when the address as a
// whole was not limited) in one window, beyond the first, which was
// reported on its own.
type LoginFailures struct {
	Count   int            `json:"count"`
	First   time.Time      `json:"first"`
	Last    time.Time      `json:"last"`
	Reasons map[string]int `json:"reasons"`
}

type failureKey struct{ remote, name string }

// failureWindow is one key's open window: its first refusal was reported
// at once; the later ones wait in pending until the window ends, the key
// signs in, or a flush.
type failureWindow struct {
	key     failureKey
	opened  time.Time
	pending LoginFailures
}

// failureLog aggregates refused sign-ins for the audit trail, so that a
// flood of attempts writes a few rows with counts instead of a row each.
// It holds at most maxKeys windows; the least recently used is reported
// and dropped first, in constant time.
type failureLog struct {
	mu      sync.Mutex
	window  time.Duration
	open    *simplelru.LRU[failureKey, *failureWindow]
	evicted []Event // reports of windows dropped by the LRU, emitted by the caller
}

func newFailureLog(window time.Duration, maxKeys int) *failureLog {
	f := &failureLog{window: window}
	open, err := simplelru.NewLRU(maxKeys, func(_ failureKey, w *failureWindow) {
		if w.pending.Count > 0 {
			f.evicted = append(f.evicted, w.event())
		}
	})
	if err != nil {
		panic("auth: failure log: " + err.Error())
	}
	f.open = open
	return f
}

// event is the aggregated report of w's pending refusals.
func (w *failureWindow) event() Event {
	p := w.pending
	p.Reasons = maps.Clone(p.Reasons)
	reasons := slices.Sorted(maps.Keys(p.Reasons))
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%s: %d", r, p.Reasons[r])
	}
	reason := fmt.Sprintf("%d more refused sign-ins (%s)", p.Count, strings.Join(parts, ", "))
	return Event{Action: "login.failed", Actor: w.key.name, Subject: w.key.name, Remote: w.key.remote,
		Reason: reason, Count: p.Count, After: p}
}

// refused records a refused sign-in and returns the events to report now:
// the refusal itself when it opens a window, and the summary of the
// key's previous window when that one has ended.
func (f *failureLog) refused(key failureKey, reason string, now time.Time) []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Event
	w, ok := f.open.Get(key)
	if ok && !now.Before(w.opened.Add(f.window)) {
		if w.pending.Count > 0 {
			out = append(out, w.event())
			w.pending.Count = 0
		}
		f.open.Remove(key)
		ok = false
	}
	if !ok {
		f.open.Add(key, &failureWindow{key: key, opened: now})
		out = append(out, Event{Action: "login.failed", Actor: key.name, Subject: key.name, Remote: key.remote, Reason: reason, Count: 1})
		return append(out, f.takeEvicted()...)
	}
	p := &w.pending
	if p.Count == 0 {
		p.First, p.Reasons = now, map[string]int{}
	}
	p.Count++
	p.Last = now
	p.Reasons[reason]++
	return out
}

// close ends key's window (a successful sign-in) and returns its summary,
// if refusals are pending.
func (f *failureLog) close(key failureKey) []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.open.Peek(key)
	if !ok {
		return nil
	}
	var out []Event
	if w.pending.Count > 0 {
		out = append(out, w.event())
		w.pending.Count = 0
	}
	f.open.Remove(key)
	return out
}

// flush returns the summaries of every pending refusal and drops the
// windows that ended before now. It visits every window: call it now and
// then (FlushFailures), not per request.
func (f *failureLog) flush(now time.Time) []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Event
	for _, key := range f.open.Keys() {
		w, _ := f.open.Peek(key)
		if w.pending.Count > 0 {
			out = append(out, w.event())
			w.pending.Count = 0
		}
		if !now.Before(w.opened.Add(f.window)) {
			f.open.Remove(key)
		}
	}
	return out
}

func (f *failureLog) takeEvicted() []Event {
	out := f.evicted
	f.evicted = nil
	return out
}
