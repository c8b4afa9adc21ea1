package dashboards

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/malbild/malbild/strategy"
)

func TestAcceptEncoding(t *testing.T) {
	for header, want := range map[string]string{
		"":                          "",
		"identity":                  "",
		"gzip":                      "gzip",
		"gzip, deflate, br, zstd":   "br",
		"br;q=0, gzip":              "gzip",
		"gzip;q=0.5, br;q=0.4":      "gzip",
		"GZIP;q=1.0":                "gzip",
		"br;q=bad, gzip;q=0.1":      "gzip",
		"*":                         "",
		"gzip;q=0, br;q=0, deflate": "",
	} {
		if got := acceptEncoding(header); got != want {
			t.Errorf("acceptEncoding(%q) = %q, want %q", header, got, want)
		}
	}
}

// fetch gets path from the test server with the given request headers,
// without Go's transparent gzip, and returns the answer and its decoded
// body.
func (e *env) fetch(path string, header ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.http.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	switch resp.Header.Get("Content-Encoding") {
	case "br":
		r = brotli.NewReader(resp.Body)
	case "gzip":
		if r, err = gzip.NewReader(resp.Body); err != nil {
			e.t.Fatal(err)
		}
	}
	b, err := io.ReadAll(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// TestCompressionAndRevalidation: pages, API answers and assets go out in
// the encoding the client takes, decode to the same bytes, carry an ETag,
// and answer 304 to a client that has them.
func TestCompressionAndRevalidation(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal)
	_, _, plain := e.get("/")
	if !strings.Contains(plain, "<html") {
		t.Fatal("no page")
	}
	// The stylesheet: an asset large enough to be worth compressing.
	asset := regexp.MustCompile(`/assets/[0-9a-f]+/style\.css`).FindString(plain)
	if asset == "" {
		t.Fatal("no stylesheet link on /")
	}
	for _, path := range []string{"/", "/ledning", "/api/v1/", "/api/v1/strategy", "/api/v1/observations.csv", "/api/v1/dcat", asset} {
		ident, identBody := e.fetch(path)
		if ident.StatusCode != http.StatusOK || ident.Header.Get("Content-Encoding") != "" {
			t.Fatalf("%s without Accept-Encoding: %d %q", path, ident.StatusCode, ident.Header.Get("Content-Encoding"))
		}
		for _, enc := range []string{"br", "gzip"} {
			resp, body := e.fetch(path, "Accept-Encoding", enc)
			if got := resp.Header.Get("Content-Encoding"); got != enc {
				t.Errorf("%s with Accept-Encoding %s: Content-Encoding %q", path, enc, got)
			}
			if !bytes.Equal(body, identBody) {
				t.Errorf("%s in %s decodes to %d bytes, not the %d of the plain answer", path, enc, len(body), len(identBody))
			}
			if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: Vary = %q", path, resp.Header.Get("Vary"))
			}
			etag := resp.Header.Get("ETag")
			if etag == "" || etag == ident.Header.Get("ETag") {
				t.Errorf("%s in %s: ETag %q (plain %q): want one per encoding", path, enc, etag, ident.Header.Get("ETag"))
			}
			again, rest := e.fetch(path, "Accept-Encoding", enc, "If-None-Match", etag)
			if again.StatusCode != http.StatusNotModified || len(rest) != 0 {
				t.Errorf("%s with If-None-Match %s: %d, %d bytes", path, etag, again.StatusCode, len(rest))
			}
		}
		if stale, _ := e.fetch(path, "If-None-Match", `"other"`); stale.StatusCode != http.StatusOK {
			t.Errorf("%s with a stale ETag: %d", path, stale.StatusCode)
		}
	}
}

// TestWarmAnswerHeaderFields: a warm page or API answer, in any encoding,
// carries at most eight header fields besides Date: net/http's header
// map holds eight without growing, and more (a table for the map and for
// its copy at WriteHeader) cost 6–8 % of the rate of a warm page under
// wrk (issue 13: 10 or 11 fields 88–92 % of the static rate, 8 fields 96 %).
func TestWarmAnswerHeaderFields(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal)
	for _, path := range []string{"/", "/ledning", "/api/v1/strategy"} {
		for _, enc := range []string{"", "br", "gzip"} {
			e.fetch(path, "Accept-Encoding", enc) // warm
			resp, _ := e.fetch(path, "Accept-Encoding", enc)
			var names []string
			for k := range resp.Header {
				if k != "Date" {
					names = append(names, k)
				}
			}
			if len(names) > 8 {
				slices.Sort(names)
				t.Errorf("%s (Accept-Encoding %q): %d header fields %v, want at most 8", path, enc, len(names), names)
			}
		}
	}
}

// TestIdentityAnswerNotCompressed: an answer made for one request is not
// compressed for a client that takes no encoding, and is for one that does.
func TestIdentityAnswerNotCompressed(t *testing.T) {
	raw := bytes.Repeat([]byte("Målbild följer kommunens digitaliseringsstrategi. "), 100)
	plain := newBody(raw, onTheFlyQuality)
	w := httptest.NewRecorder()
	plain.write(w, httptest.NewRequest(http.MethodGet, "/api/v1/dcat", nil), http.StatusOK, newAnswerHeaders("application/json", "no-cache"))
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), raw) || w.Header().Get("Etag") == "" {
		t.Fatalf("identity answer: %d, %d bytes, ETag %q", w.Code, w.Body.Len(), w.Header().Get("Etag"))
	}
	if plain.br != nil || plain.gzip != nil {
		t.Error("compressed for a client that takes no encoding")
	}
	br := newBody(raw, onTheFlyQuality)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/dcat", nil)
	req.Header.Set("Accept-Encoding", "br")
	w = httptest.NewRecorder()
	br.write(w, req, http.StatusOK, newAnswerHeaders("application/json", "no-cache"))
	if w.Header().Get("Content-Encoding") != "br" || w.Body.Len() >= len(raw) {
		t.Errorf("br answer: Content-Encoding %q, %d of %d bytes", w.Header().Get("Content-Encoding"), w.Body.Len(), len(raw))
	}
}
