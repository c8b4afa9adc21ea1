package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/malbild/malbild/internal/numfmt"
)

// Section 5, weight: what the public page costs a visitor on the wire,
// and Lighthouse's scores for the public, leadership and an indicator
// page. It loads a data set of its own, the size of `malbild demo`
// (-weight-cases, -weight-probes), so it runs alone in a minute or two:
//
//	go run ./bench -sections weight -out ''

type weightRows struct {
	firstView  *row
	allCharts  *row
	lighthouse []*row // one per page and form factor
}

// lighthousePages are the pages Lighthouse scores; "{indicator}" is the
// bench's indicator.
var lighthousePages = []string{"/", "/ledning", "/indikator/{indicator}"}

var formFactors = []string{"mobile", "desktop"}

const firstViewGoal = 150_000 // bytes

func (b *bench) declareWeight() weightRows {
	var w weightRows
	w.firstView = b.report.declare("weight", "First view of / on the wire: the page and the scripts and stylesheets it loads before any scrolling, brotli-compressed bodies",
		"≤ 150 kB")
	w.allCharts = b.report.declare("weight", "All of / on the wire once every chart has scrolled into view (the first view and the echarts bundle, brotli)", "")
	for _, p := range lighthousePages {
		for _, ff := range formFactors {
			target := "Accessibility, Best Practices, SEO 100"
			if ff == "mobile" {
				target = "Performance ≥ 95, " + target
			}
			w.lighthouse = append(w.lighthouse, b.report.declare("weight",
				fmt.Sprintf("Lighthouse %s, %s: Performance, Accessibility, Best Practices, SEO (median of %d runs)", p, ff, b.cfg.lighthouseRuns), target))
		}
	}
	return w
}

// weight measures the weight rows on a server of its own.
func (b *bench) weight(ctx context.Context) error {
	st, err := loadStrategy(b.cfg.strategy)
	if err != nil {
		return err
	}
	d := &dataset{db: "bench_weight", cases: b.cfg.weightCases, probes: b.cfg.weightProbes}
	if err := b.loadDataset(ctx, st, d); err != nil {
		return err
	}
	h, err := newDashboards(st, d.store)
	if err != nil {
		return err
	}
	ts := httptest.NewServer(h)
	defer ts.Close()

	fv, err := firstView(ctx, ts.URL)
	if err != nil {
		b.report.skip(b.weightRows.firstView, err.Error())
		b.report.skip(b.weightRows.allCharts, err.Error())
	} else {
		base, baseNote := b.firstViewBaseline(fv)
		b.report.fill(b.weightRows.firstView, bytesText(fv.brotli), base, ratioText(fv.brotli, fv.baseline), verdict(fv.brotli <= firstViewGoal))
		b.report.fill(b.weightRows.allCharts, bytesText(fv.brotli+fv.lazyBrotli), base, ratioText(fv.brotli+fv.lazyBrotli, fv.baseline), "")
		b.report.addNote("Weight: first view of / (brotli bodies, then uncompressed): %s. Loaded when the first chart nears the screen: %s. %s",
			strings.Join(fv.parts, ", "), strings.Join(fv.lazyParts, ", "), baseNote)
	}

	indicator := b.cfg.indicator
	if indicator == "" {
		if indicator, err = b.pickIndicator(st); err != nil {
			return err
		}
	}
	lh, err := b.lighthouseCommand(ctx)
	if err != nil {
		for _, rw := range b.weightRows.lighthouse {
			b.report.skip(rw, err.Error())
		}
		return nil
	}
	i := 0
	for _, p := range lighthousePages {
		path := strings.ReplaceAll(p, "{indicator}", indicator)
		for _, ff := range formFactors {
			rw := b.weightRows.lighthouse[i]
			i++
			rw.what = strings.Replace(rw.what, p, path, 1)
			scores, runs, err := b.lighthouse(ctx, lh, ts.URL+path, ff)
			if err != nil {
				b.report.skip(rw, err.Error())
				continue
			}
			ok := scores[1] == 100 && scores[2] == 100 && scores[3] == 100 && (ff != "mobile" || scores[0] >= 95)
			b.report.fill(rw, fmt.Sprintf("%d, %d, %d, %d", scores[0], scores[1], scores[2], scores[3]), "", "", verdict(ok))
			b.report.addNote("Lighthouse %s %s, each run (Performance, Accessibility, Best Practices, SEO): %s.", path, ff, strings.Join(runs, "; "))
		}
	}
	return nil
}

// view is what the first view of / costs.
type view struct {
	brotli, plain         int64 // the first view's bodies, compressed and not
	lazyBrotli, lazyPlain int64 // the echarts bundle fetched when a chart nears the screen
	baseline              int64
	parts, lazyParts      []string
}

var (
	stylesheetRe = regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)"`)
	scriptRe     = regexp.MustCompile(`<script src="([^"]+)"`)
	lazyRe       = regexp.MustCompile(`data-echarts="([^"]+)"`)
	noscriptRe   = regexp.MustCompile(`(?s)<noscript>.*?</noscript>`)
)

// firstView fetches / and what its <head> loads, each with brotli and
// without compression.
func firstView(ctx context.Context, base string) (*view, error) {
	v := &view{}
	page, n, err := fetchSize(ctx, base+"/", "identity")
	if err != nil {
		return nil, err
	}
	nb, err := sizeOnly(ctx, base+"/", "br")
	if err != nil {
		return nil, err
	}
	v.plain, v.brotli = n, nb
	v.parts = append(v.parts, fmt.Sprintf("/ %s (%s)", numfmt.Group(nb), numfmt.Group(n)))
	head := string(page)
	if i := strings.Index(head, "</head>"); i >= 0 {
		head = head[:i]
	}
	// What a <noscript> loads is only fetched without JavaScript.
	head = noscriptRe.ReplaceAllString(head, "")
	var urls []string
	for _, re := range []*regexp.Regexp{stylesheetRe, scriptRe} {
		for _, m := range re.FindAllStringSubmatch(head, -1) {
			urls = append(urls, m[1])
		}
	}
	if len(urls) == 0 {
		return nil, errors.New("the page's <head> loads no stylesheet or script")
	}
	for _, u := range urls {
		p, err := sizeOnly(ctx, base+u, "identity")
		if err != nil {
			return nil, err
		}
		c, err := sizeOnly(ctx, base+u, "br")
		if err != nil {
			return nil, err
		}
		v.plain += p
		v.brotli += c
		v.parts = append(v.parts, fmt.Sprintf("%s %s (%s)", filepath.Base(u), numfmt.Group(c), numfmt.Group(p)))
	}
	for _, m := range lazyRe.FindAllStringSubmatch(head, -1) {
		p, err := sizeOnly(ctx, base+m[1], "identity")
		if err != nil {
			return nil, err
		}
		c, err := sizeOnly(ctx, base+m[1], "br")
		if err != nil {
			return nil, err
		}
		v.lazyPlain += p
		v.lazyBrotli += c
		v.lazyParts = append(v.lazyParts, fmt.Sprintf("%s %s (%s)", filepath.Base(m[1]), numfmt.Group(c), numfmt.Group(p)))
	}
	return v, nil
}

// fullECharts is the complete echarts build of the npm package, which the
// pages loaded in their <head> before the tree-shaken bundle.
const fullECharts = "dashboards/web/node_modules/echarts/dist/echarts.min.js"

// firstViewBaseline is the same page as it used to be sent: every body
// uncompressed, with the complete echarts.min.js loaded in the <head>.
func (b *bench) firstViewBaseline(v *view) (string, string) {
	fi, err := os.Stat(fullECharts)
	if err != nil {
		return "not measured: " + err.Error() + " (run make assets)", ""
	}
	v.baseline = v.plain + fi.Size()
	return fmt.Sprintf("uncompressed, with the full echarts.min.js in the <head>: %s", bytesText(v.baseline)),
		fmt.Sprintf("Baseline: the first view's bodies uncompressed (%s) plus the npm package's complete dist/echarts.min.js (%s), as / was sent before compression and the tree-shaken, lazily loaded bundle.",
			numfmt.Group(v.plain), numfmt.Group(fi.Size()))
}

func fetchSize(ctx context.Context, url, enc string) ([]byte, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept-Encoding", enc) // set by hand: the client leaves the body as sent
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if enc == "br" && resp.Header.Get("Content-Encoding") != "br" {
		return nil, 0, fmt.Errorf("GET %s with Accept-Encoding br: sent as %q", url, resp.Header.Get("Content-Encoding"))
	}
	return body, int64(len(body)), nil
}

func sizeOnly(ctx context.Context, url, enc string) (int64, error) {
	_, n, err := fetchSize(ctx, url, enc)
	return n, err
}

func bytesText(n int64) string { return numfmt.Group(n) + " B" }

func ratioText(a, b int64) string {
	if b == 0 {
		return ""
	}
	return percent(float64(a) / float64(b))
}

// lighthouseDir holds Lighthouse, pinned by its package-lock.json.
const lighthouseDir = "bench/lighthouse"

// lighthouseCommand installs Lighthouse from the lock file when it is
// missing and returns its command line.
func (b *bench) lighthouseCommand(ctx context.Context) ([]string, error) {
	cli := filepath.Join(lighthouseDir, "node_modules", "lighthouse", "cli", "index.js")
	if _, err := os.Stat(cli); err != nil {
		b.log.Info("installing Lighthouse (npm ci)", "dir", lighthouseDir)
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = lighthouseDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("npm ci in %s: %v: %s", lighthouseDir, err, oneLine(string(out)))
		}
	}
	if _, err := os.Stat(chromium); err != nil {
		return nil, fmt.Errorf("no Chromium at %s: %w", chromium, err)
	}
	return []string{"node", cli}, nil
}

// chromium is Debian's Chromium, which Lighthouse drives (CHROME_PATH).
const chromium = "/usr/bin/chromium"

// lighthouse runs Lighthouse cfg.lighthouseRuns times on url and returns
// the median of each category score (0–100: Performance, Accessibility,
// Best Practices, SEO) and each run's scores.
func (b *bench) lighthouse(ctx context.Context, lh []string, url, formFactor string) ([4]int, []string, error) {
	var all [4][]int
	var runs []string
	for i := range b.cfg.lighthouseRuns {
		out := filepath.Join(b.dir, reportName(url, formFactor, i))
		args := append(slices.Clone(lh[1:]), url, "--quiet", "--output=json", "--output-path="+out,
			"--only-categories=performance,accessibility,best-practices,seo",
			"--chrome-flags=--headless --no-sandbox")
		if formFactor == "desktop" {
			args = append(args, "--preset=desktop")
		}
		cmd := exec.CommandContext(ctx, lh[0], args...)
		cmd.Env = append(os.Environ(), "CHROME_PATH="+chromium)
		if msg, err := cmd.CombinedOutput(); err != nil {
			return [4]int{}, nil, fmt.Errorf("lighthouse %s (%s): %v: %s", url, formFactor, err, oneLine(string(msg)))
		}
		s, err := lighthouseScores(out)
		if err != nil {
			return [4]int{}, nil, err
		}
		for k := range s {
			all[k] = append(all[k], s[k])
		}
		runs = append(runs, fmt.Sprintf("%d, %d, %d, %d", s[0], s[1], s[2], s[3]))
		b.log.Info("lighthouse", "url", url, "form_factor", formFactor, "run", i+1, "scores", runs[len(runs)-1])
	}
	var med [4]int
	for k := range all {
		slices.Sort(all[k])
		med[k] = all[k][len(all[k])/2]
	}
	return med, runs, nil
}

// reportName is the file name of a Lighthouse report: one per page, form
// factor and run, so a -dir keeps every report of the run for reading.
func reportName(url, formFactor string, run int) string {
	page := "root"
	if u, err := neturl.Parse(url); err == nil && strings.Trim(u.Path, "/") != "" {
		page = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
				return r
			}
			return '_'
		}, strings.Trim(u.Path, "/"))
	}
	return fmt.Sprintf("lighthouse-%s-%s-%d.json", page, formFactor, run)
}

// lighthouseScores reads the four category scores (0–100) of a
// Lighthouse JSON report.
func lighthouseScores(path string) ([4]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return [4]int{}, err
	}
	var rep struct {
		Categories map[string]struct {
			Score *float64 `json:"score"`
		} `json:"categories"`
		RuntimeError *struct {
			Code, Message string
		} `json:"runtimeError"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return [4]int{}, fmt.Errorf("reading %s: %w", path, err)
	}
	if rep.RuntimeError != nil && rep.RuntimeError.Code != "" {
		return [4]int{}, fmt.Errorf("lighthouse: %s: %s", rep.RuntimeError.Code, rep.RuntimeError.Message)
	}
	var s [4]int
	for i, c := range []string{"performance", "accessibility", "best-practices", "seo"} {
		cat, ok := rep.Categories[c]
		if !ok || cat.Score == nil {
			return [4]int{}, fmt.Errorf("%s: no %s score", path, c)
		}
		s[i] = int(*cat.Score*100 + 0.5)
	}
	return s, nil
}
