package dashboards

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

// assetFS holds the stylesheet, the chart script and, when `make assets`
// has run, assets/vendor/echarts.min.js: the tree-shaken echarts bundle
// that esbuild builds from dashboards/web/echarts-entry.js (only the
// charts and components the pages use). assets/charts.js fetches it when
// the first chart comes near the screen.
//
//go:embed assets
var assetFS embed.FS

// echartsAsset is the name of the vendored echarts build.
const echartsAsset = "vendor/echarts.min.js"

// asset is one embedded file served under a content-hash path.
type asset struct {
	name  string // "style.css", "vendor/echarts.min.js"
	path  string // "/assets/3f2a9c1d0b7e/style.css"
	ctype string
	body  *body
	// headers of its answers under path (cached for a year)
	headers answerHeaders
}

// assets indexes the embedded files by name and by served path.
type assets struct {
	byName map[string]*asset
	byPath map[string]*asset
}

// loadAssets reads every embedded asset and computes its hashed path. A
// file X.br or X.gz beside X is X compressed at build time (make assets):
// it becomes X's encoding instead of an asset of its own.
func loadAssets() (*assets, error) {
	a := &assets{byName: map[string]*asset{}, byPath: map[string]*asset{}}
	files := map[string][]byte{}
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assetFS.ReadFile(p)
		files[strings.TrimPrefix(p, "assets/")] = body
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading embedded assets: %w", err)
	}
	for name, raw := range files {
		if strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz") {
			if files[name[:len(name)-3]] == nil {
				return nil, fmt.Errorf("embedded asset %s has no uncompressed original", name)
			}
			continue
		}
		x := newAsset(name, raw)
		if br, gz := files[name+".br"], files[name+".gz"]; br != nil || gz != nil {
			x.body.precompressed(br, gz)
		}
		a.byName[x.name] = x
		a.byPath[x.path] = x
	}
	for _, must := range []string{"style.css", "charts.js", "favicon.svg"} {
		if a.byName[must] == nil {
			return nil, fmt.Errorf("embedded asset %s is missing", must)
		}
	}
	return a, nil
}

// newAsset makes the served form of a file: its content-hash path, its
// type, and its body (compressed on first request, once per process).
func newAsset(name string, raw []byte) *asset {
	sum := sha256.Sum256(raw)
	ctype := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".css":
		ctype = "text/css; charset=utf-8"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	return &asset{name: name, path: "/assets/" + hex.EncodeToString(sum[:6]) + "/" + name, ctype: ctype, body: sharedBody(sum, raw),
		headers: newAnswerHeaders(ctype, "public, max-age=31536000, immutable")}
}

// url returns the hashed path of the named asset, or "" if there is none.
func (a *assets) url(name string) string {
	if x := a.byName[name]; x != nil {
		return x.path
	}
	return ""
}

// serve answers /assets/{hash}/{name...}. The path names the content, so
// it may be cached for a year.
func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	x := a.byPath[r.URL.Path]
	if x == nil {
		http.NotFound(w, r)
		return
	}
	x.body.write(w, r, http.StatusOK, x.headers)
}

// bigAsset is the size from which an asset is compressed at a fast
// quality when it was not compressed at build time.
const bigAsset = 128 << 10

// sharedBodies holds the compressed forms of the embedded assets for the
// whole process (every Server serves the same files), by content.
var sharedBodies sync.Map // string(sha256) → *body

func sharedBody(sum [sha256.Size]byte, raw []byte) *body {
	if b, ok := sharedBodies.Load(string(sum[:])); ok {
		return b.(*body)
	}
	q := assetQuality
	if len(raw) > bigAsset {
		// Not compressed at build time (make assets does that for the
		// chart bundle): a quality that takes milliseconds, not seconds,
		// since the first request waits for it.
		q = onTheFlyQuality
	}
	b, _ := sharedBodies.LoadOrStore(string(sum[:]), newBody(raw, q))
	return b.(*body)
}
