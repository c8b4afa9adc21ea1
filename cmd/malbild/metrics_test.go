package main

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
)

// TestMetricsServer: metrics.listen serves the handler on its own
// address until stopped.
func TestMetricsServer(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "metrics here "+r.URL.Path) })
	addr, stop, err := startMetricsServer("127.0.0.1:0", h, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "metrics here /metrics" {
		t.Errorf("answer %q", b)
	}
	http.DefaultClient.CloseIdleConnections()
	stop()
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("the metrics address still answers after stop")
	}
	if _, _, err := startMetricsServer("nowhere", h, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Error("a bad address did not fail")
	}
}
