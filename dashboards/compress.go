package dashboards

import (
	"bytes"
	"compress/gzip"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"sync"

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

	// The header values of each encoding, made with it (see forms).
	identity, brForm, gzipForm form
}

// form is one encoding of a body with the header values that go with it,
// made once: a warm request sets them in its header map without building
// a string (net/http only reads header values, and Header.Add appends to
// a new array since each slice is full).
type form struct {
	content  []byte
	length   []string // Content-Length
	etag     []string // ETag, quoted
	encoding []string // Content-Encoding; nil for the identity
}

func newForm(content []byte, etag, encoding string) form {
	f := form{content: content, length: []string{strconv.Itoa(len(content))}, etag: []string{`"` + etag + `"`}}
	if encoding != "" {
		f.encoding = []string{encoding}
	}
	return f
}

// forms makes the header values of the compressed encodings; it runs
// once, after br and gzip are set.
func (b *body) forms() {
	if b.br != nil {
		b.brForm = newForm(b.br, b.etag+"-br", "br")
	}
	if b.gzip != nil {
		b.gzipForm = newForm(b.gzip, b.etag+"-gz", "gzip")
	}
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
	b := &body{raw: raw, etag: strconv.FormatUint(h.Sum64(), 36), level: level}
	b.identity = newForm(raw, b.etag, "")
	return b
}

// precompressed sets encodings made elsewhere (at build time); either may
// be nil. It must be called before the body is first written.
func (b *body) precompressed(br, gz []byte) {
	b.once.Do(func() {
		b.br, b.gzip = br, gz
		b.forms()
	})
}

// encodings compresses raw in both formats the first time it is asked.
func (b *body) encodings() (br, gz []byte) {
	b.once.Do(func() {
		defer b.forms()
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
// any of its encodings).
//
// Answers carry no Last-Modified: their ETag is a hash of the content,
// which a client revalidates with (and RFC 9110 has If-None-Match
// decide when both are sent), where the time a snapshot was loaded
// changes with every reload of unchanged figures.
func notModified(r *http.Request, etag string) bool {
	inm := r.Header.Get("If-None-Match")
	if inm == "" {
		return false
	}
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

// answerHeaders are an answer's Content-Type and Cache-Control, made once
// for every answer of its kind (an asset, the pages of a snapshot) and
// shared by their requests.
type answerHeaders struct {
	ctype, cacheControl []string
}

// newAnswerHeaders makes the headers of a kind of answer.
func newAnswerHeaders(ctype, cacheControl string) answerHeaders {
	return answerHeaders{ctype: []string{ctype}, cacheControl: []string{cacheControl}}
}

// varyEncoding is the Vary of every answer written by body.write.
var varyEncoding = []string{"Accept-Encoding"}

// write sends b with status for r: 304 when the client has it, otherwise
// the best encoding the client accepts, with the headers of a.
func (b *body) write(w http.ResponseWriter, r *http.Request, status int, a answerHeaders) {
	h := w.Header()
	// Canonical keys set directly: no canonicalising, no allocation.
	h["Content-Type"] = a.ctype
	h["Cache-Control"] = a.cacheControl
	if v := h["Vary"]; v == nil {
		h["Vary"] = varyEncoding
	} else {
		h["Vary"] = append(v, varyEncoding...)
	}
	// Compressed only for a client that takes it: an answer made for one
	// request (an error, the DCAT catalogue) is not compressed for curl.
	f := &b.identity
	if enc := acceptEncoding(r.Header.Get("Accept-Encoding")); enc != "" {
		switch br, gz := b.encodings(); {
		case enc == "br" && br != nil:
			f = &b.brForm
		case gz != nil:
			f = &b.gzipForm
		}
	}
	if f.encoding != nil {
		h["Content-Encoding"] = f.encoding
	}
	if status == http.StatusOK {
		h["Etag"] = f.etag
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && notModified(r, b.etag) {
			delete(h, "Content-Encoding")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h["Content-Length"] = f.length
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(f.content)
	}
}
