package demo

import (
	"fmt"
	"html"
	"net/http"
	"time"
)

// liveServices are the loopback e-services the live http_probe checks;
// Felanmälan is down.
var liveServices = []struct {
	name, path string
	status     int
	delay      time.Duration
}{
	{"Mina sidor", "mina-sidor", http.StatusOK, 0},
	{"Ansökan om förskoleplats", "forskoleplats", http.StatusOK, 0},
	{"Bygglov", "bygglov", http.StatusOK, 40 * time.Millisecond},
	{"Felanmälan", "felanmalan", http.StatusServiceUnavailable, 0},
}

// liveHandler answers like the e-services: a small page with a login
// link, or 503 for the one that is down.
func liveHandler() http.Handler {
	mux := http.NewServeMux()
	for _, s := range liveServices {
		mux.HandleFunc("/"+s.path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			if s.delay > 0 {
				select {
				case <-time.After(s.delay):
				case <-r.Context().Done():
					return
				}
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(s.status)
			if s.status != http.StatusOK {
				fmt.Fprintf(w, "<!doctype html><title>Tjänsten är inte tillgänglig</title><h1>%s är tillfälligt otillgänglig</h1>", html.EscapeString(s.name))
				return
			}
			fmt.Fprintf(w, "<!doctype html><html lang=sv><title>%s</title><h1>%s</h1><p><a href=/login>Logga in</a> med e-legitimation.</p></html>",
				html.EscapeString(s.name), html.EscapeString(s.name))
		})
	}
	return mux
}
