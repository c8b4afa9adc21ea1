package dashboards

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
)

// body is an answer's bytes with their compressed forms, each made once
// (on first use) and then shared by every request that takes it: a cached
// page is compressed once per data version, an asset once per process.
type body struct {
	raw  []byte
	etag string // strong validator of raw, without quotes

	once     sync.Once
	br, gzip []byte // nil when compressing does not pay
	level    int    // brotli quality
}

// minCompress is the size below which an answer goes uncompressed: the
// headers would eat what compression saves.
const minCompress = 1024

// Brotli qualities: cached pages are compressed once per data version,
// assets once per process, so both can afford more than an answer built
// for one request.
const (
	onTheFlyQuality = 5
	pageQuality     = 9
	assetQuality    = 11
)

func newBody(raw []byte, level int) *body {
	h := fnv.New64a()
	h.Write(raw)
	return &body{raw: raw, etag: strconv.FormatUint(h.Sum64(), 36), level: level}
}

// precompressed sets encodings made elsewhere (at build time); either may
// be nil. It must be called before the body is first written.
func (b *body) precompressed(br, gz []byte) {
	b.once.Do(func() { b.br, b.gzip = br, gz })
}

// encodings compresses raw in both formats the first time it is asked.
func (b *body) encodings() (br, gz []byte) {
	b.once.Do(func() {
		if len(b.raw) < minCompress {
			return
		}
		var buf bytes.Buffer
		w := brotli.NewWriterLevel(&buf, b.level)
		w.Write(b.raw)
		w.Close()
		if buf.Len() < len(b.raw) {
			b.br = bytes.Clone(buf.Bytes())
		}
		buf.Reset()
		g, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		g.Write(b.raw)
		g.Close()
		if buf.Len() < len(b.raw) {
			b.gzip = bytes.Clone(buf.Bytes())
		}
	})
	return b.br, b.gzip
}

// acceptEncoding picks "br", "gzip" or "" from an Accept-Encoding header,
// honouring q=0 (refused) and preferring brotli at equal weight.
func acceptEncoding(header string) string {
	best, bestQ := "", 0.0
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if q <= 0 || (name != "br" && name != "gzip") {
			continue
		}
		if q > bestQ || (q == bestQ && name == "br") {
			best, bestQ = name, q
		}
	}
	return best
}

// notModified tells whether the request's If-None-Match names etag (in
// any of its encodings), or its If-Modified-Since is not before modified.
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for v := range strings.SplitSeq(inm, ",") {
			v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
			v = strings.Trim(v, `"`)
			v, _, _ = strings.Cut(v, "-")
			if v == "*" || v == etag {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !modified.IsZero() {
		if t, err := http.ParseTime(ims); err == nil && !modified.Truncate(time.Second).After(t) {
			return true
		}
	}
	return false
}

// write sends b with status for r: 304 when the client has it, otherwise
// the best encoding the client accepts. ctype and cacheControl are set as
// given; modified (if not zero) becomes Last-Modified.
func (b *body) write(w http.ResponseWriter, r *http.Request, status int, ctype, cacheControl string, modified time.Time) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", cacheControl)
	h.Add("Vary", "Accept-Encoding")
	if !modified.IsZero() {
		h.Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	}
	content, etag := b.raw, b.etag
	if br, gz := b.encodings(); br != nil || gz != nil {
		switch enc := acceptEncoding(r.Header.Get("Accept-Encoding")); {
		case enc == "br" && br != nil:
			content, etag = br, etag+"-br"
			h.Set("Content-Encoding", "br")
		case enc != "" && gz != nil:
			content, etag = gz, etag+"-gz"
			h.Set("Content-Encoding", "gzip")
		}
	}
	if status == http.StatusOK {
		h.Set("ETag", `"`+etag+`"`)
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && notModified(r, b.etag, modified) {
			h.Del("Content-Encoding")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Set("Content-Length", fmt.Sprint(len(content)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(content)
	}
}
