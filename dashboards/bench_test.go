package dashboards

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/malbild/malbild/strategy"
)

// BenchmarkPublicPage measures the public page from the cache (the
// normal case) and built afresh (after the data changed).
func BenchmarkPublicPage(b *testing.B) {
	e := newEnv(b, []*strategy.Strategy{parseTestStrategy(b, "0999", "Exempelstads kommun", "exempelstad")})
	h := e.srv.Handler()
	serve := func(b *testing.B) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("GET / = %d", rec.Code)
		}
		io.Copy(io.Discard, rec.Body)
	}
	serve(b)
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			serve(b)
		}
	})
	b.Run("built", func(b *testing.B) {
		snap := e.srv.data(b.Context(), e.strats[0])
		for b.Loop() {
			snap.mu.Lock()
			snap.pages, snap.size = nil, 0
			snap.mu.Unlock()
			serve(b)
		}
	})
}
