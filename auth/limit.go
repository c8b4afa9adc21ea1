package auth

import (
	"sync"
	"time"
)

// limiter allows at most limit events per key in any window (a sliding
// log). It keeps at most maxKeys keys; beyond that, keys with no recent
// events are dropped first, then the oldest.
type limiter struct {
	mu      sync.Mutex
	limit   int
	window  time.Duration
	maxKeys int
	hits    map[string][]time.Time
}

func newLimiter(limit int, window time.Duration, maxKeys int) *limiter {
	return &limiter{limit: limit, window: window, maxKeys: maxKeys, hits: map[string][]time.Time{}}
}

// allow records an event for key at now if fewer than limit happened in
// the window before it. When not, it records nothing and says how long
// until the next event would be allowed.
func (l *limiter) allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.recent(key, now)
	if len(h) >= l.limit {
		return false, h[0].Add(l.window).Sub(now)
	}
	if _, known := l.hits[key]; !known && len(l.hits) >= l.maxKeys {
		l.evict(now)
	}
	l.hits[key] = append(h, now)
	return true, 0
}

// recent drops key's events older than the window and returns the rest.
func (l *limiter) recent(key string, now time.Time) []time.Time {
	h := l.hits[key]
	i := 0
	for i < len(h) && !h[i].After(now.Add(-l.window)) {
		i++
	}
	h = h[i:]
	if len(h) == 0 {
		delete(l.hits, key)
		return nil
	}
	l.hits[key] = h
	return h
}

func (l *limiter) evict(now time.Time) {
	for k := range l.hits {
		l.recent(k, now)
	}
	for len(l.hits) >= l.maxKeys {
		var oldKey string
		var oldest time.Time
		for k, h := range l.hits {
			if oldKey == "" || h[len(h)-1].Before(oldest) {
				oldKey, oldest = k, h[len(h)-1]
			}
		}
		delete(l.hits, oldKey)
	}
}
