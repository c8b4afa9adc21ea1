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
)

// assetFS holds the stylesheet, the chart script and, when `make assets`
// has run, assets/vendor/echarts.min.js copied from the npm package.
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
	body  []byte
}

// assets indexes the embedded files by name and by served path.
type assets struct {
	byName map[string]*asset
	byPath map[string]*asset
}

// loadAssets reads every embedded asset and computes its hashed path.
func loadAssets() (*assets, error) {
	a := &assets{byName: map[string]*asset{}, byPath: map[string]*asset{}}
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "assets/")
		sum := sha256.Sum256(body)
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
		x := &asset{name: name, path: "/assets/" + hex.EncodeToString(sum[:6]) + "/" + name, ctype: ctype, body: body}
		a.byName[name] = x
		a.byPath[x.path] = x
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading embedded assets: %w", err)
	}
	for _, must := range []string{"style.css", "charts.js"} {
		if a.byName[must] == nil {
			return nil, fmt.Errorf("embedded asset %s is missing", must)
		}
	}
	return a, nil
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
	h := w.Header()
	h.Set("Content-Type", x.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+strings.Split(strings.TrimPrefix(x.path, "/assets/"), "/")[0]+`"`)
	if match := r.Header.Get("If-None-Match"); match != "" && match == h.Get("ETag") {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(x.body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(x.body)
}
