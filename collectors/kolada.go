package collectors

import (
	"cmp"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// koladaSample is the commented sample configuration of the kolada kind,
// the same file as examples/collectors/kolada.yaml.
//
//go:embed samples/kolada.yaml
var koladaSample string

const (
	koladaDefaultBase = "https://api.kolada.se/v3"
	koladaUserAgent   = "Malbild/1.0 (+https://github.com/malbild/malbild)"
	// Path segments are kept short so request lines stay well below the
	// usual 2 000-character limits; longer lists are split into requests.
	koladaKPIBudget   = 300
	koladaPlaceBudget = 400
	koladaMaxURL      = 2000
	koladaStatusMax   = 100 // runes kept of a status text
)

func init() { Register("kolada", newKolada) }

// koladaOptions are the options of a kolada instance.
type koladaOptions struct {
	BaseURL         string            `yaml:"base_url"` // default https://api.kolada.se/v3
	KPIs            []string          `yaml:"kpis"`
	Municipalities  []string          `yaml:"municipalities"`   // own code and peers, four digits
	OwnMunicipality string            `yaml:"own_municipality"` // default: the first municipality
	Groups          []string          `yaml:"groups"`           // municipality group ids, e.g. G124026
	Years           yearsOption       `yaml:"years"`            // [2023, 2024] or "2015-2025"; empty = all
	Indicator       map[string]string `yaml:"indicator"`        // KPI → indicator id (own municipality, gender T)
	StateDir        string            `yaml:"state_dir"`        // where the last successful sync date is kept
	RequestTimeout  durationOption    `yaml:"request_timeout"`  // per request, default 30s
	MaxPages        int               `yaml:"max_pages"`        // per run, default 200
}

var (
	kpiPattern          = regexp.MustCompile(`^[A-Z]\d{1,9}$`)
	municipalityPattern = regexp.MustCompile(`^\d{4}$`)
	groupPattern        = regexp.MustCompile(`^G\d{1,10}$`)
)

type koladaCollector struct {
	inst        Instance
	base        *url.URL
	kpis        []string
	places      []string // municipalities, then groups
	own         string
	years       []int
	indicator   map[string]string
	state       string
	fingerprint string
	maxPages    int
	maxBytes    int64 // per answer
	client      *http.Client
	now         func() time.Time
}

// koladaState is what a kolada instance keeps between runs.
type koladaState struct {
	LastSync    string `json:"last_sync"`   // YYYY-MM-DD, Stockholm date the last full run started
	Fingerprint string `json:"fingerprint"` // of the options that decide what is fetched
}

func newKolada(inst Instance) (Collector, error) {
	opts := koladaOptions{BaseURL: koladaDefaultBase, MaxPages: 200}
	if err := DecodeOptions(inst, &opts); err != nil {
		return nil, err
	}
	root := inst.Options
	base, err := httpURL(opts.BaseURL)
	if err != nil {
		return nil, OptionsError(inst, optionAt(root, "base_url"), "base_url: %v", err)
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, OptionsError(inst, optionAt(root, "base_url"), "base_url must not have a query or fragment")
	}
	base.Path = strings.TrimRight(base.Path, "/")
	k := &koladaCollector{
		inst:      inst,
		base:      base,
		indicator: map[string]string{},
		maxPages:  opts.MaxPages,
		maxBytes:  maxResponseBytes,
		years:     opts.Years.years,
		now:       time.Now,
		state:     stateFile(ResolvePath(inst, cmp.Or(opts.StateDir, inst.StateDir)), "kolada", inst.Name),
	}
	if len(opts.KPIs) == 0 {
		return nil, OptionsError(inst, optionAt(root, "kpis"), "no kpis (e.g. kpis: [N15428])")
	}
	seen := map[string]bool{}
	if k.kpis, err = uniqueIDs(inst, "kpis", opts.KPIs, kpiPattern, seen,
		"KPI id", "a capital letter and digits, e.g. N15428"); err != nil {
		return nil, err
	}
	municipalities, err := uniqueIDs(inst, "municipalities", opts.Municipalities, municipalityPattern, seen,
		"municipality", "a four-digit code, e.g. \"0120\" (quote it in YAML)")
	if err != nil {
		return nil, err
	}
	groups, err := uniqueIDs(inst, "groups", opts.Groups, groupPattern, seen,
		"group", "a Kolada group id, e.g. G124026")
	if err != nil {
		return nil, err
	}
	k.places = append(municipalities, groups...)
	if len(k.places) == 0 {
		return nil, OptionsError(inst, optionAt(root, "municipalities"), "no municipalities or groups (e.g. municipalities: [\"0120\"])")
	}
	k.own = opts.OwnMunicipality
	if k.own == "" && len(opts.Municipalities) > 0 {
		k.own = opts.Municipalities[0]
	}
	if opts.OwnMunicipality != "" && !slices.Contains(opts.Municipalities, opts.OwnMunicipality) {
		return nil, OptionsError(inst, optionAt(root, "own_municipality"), "own_municipality %q is not among municipalities", opts.OwnMunicipality)
	}
	for kpi, ind := range opts.Indicator {
		at := optionAt(root, "indicator", kpi)
		if !seen[kpi] || !kpiPattern.MatchString(kpi) {
			return nil, OptionsError(inst, at, "indicator: KPI %q is not among kpis", kpi)
		}
		if !indicatorPattern.MatchString(ind) {
			return nil, OptionsError(inst, at, "indicator: %q is not an indicator id", ind)
		}
		if k.own == "" {
			return nil, OptionsError(inst, optionAt(root, "indicator"), "indicator needs the tenant's own municipality (own_municipality or the first of municipalities)")
		}
		k.indicator[kpi] = ind
	}
	timeout := opts.RequestTimeout.or(30 * time.Second)
	if timeout <= 0 {
		return nil, OptionsError(inst, optionAt(root, "request_timeout"), "request_timeout must be more than 0")
	}
	if k.maxPages < 1 {
		return nil, OptionsError(inst, optionAt(root, "max_pages"), "max_pages must be at least 1")
	}
	k.client = &http.Client{
		Transport: newTransport(nil),
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > 3 {
				return errors.New("stopped after 3 redirects")
			}
			if req.URL.Host != base.Host {
				return fmt.Errorf("redirect to another host (%s) refused", req.URL.Host)
			}
			return nil
		},
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "%s|%v|%v|%v", base, k.kpis, k.places, k.years)
	k.fingerprint = hex.EncodeToString(sum.Sum(nil))[:16]
	for _, r := range k.requests(k.years) {
		if len(r.url) > koladaMaxURL {
			return nil, OptionsError(inst, nil, "a Kolada request would be %d characters long; shorten base_url", len(r.url))
		}
	}
	return k, nil
}

// uniqueIDs returns the ids of the list option key that are not in seen,
// each once, and adds them to seen. An id that does not match pattern is
// an error at its item: `what "id": want want`.
func uniqueIDs(inst Instance, key string, ids []string, pattern *regexp.Regexp, seen map[string]bool, what, want string) ([]string, error) {
	var out []string
	for i, id := range ids {
		if !pattern.MatchString(id) {
			return nil, OptionsError(inst, optionAt(inst.Options, key, i), "%s %q: want %s", what, id, want)
		}
		if !seen[id] {
			out = append(out, id)
		}
		seen[id] = true
	}
	return out, nil
}

// koladaRequest is one first-page request and what it may answer.
type koladaRequest struct {
	url    string
	kpis   map[string]bool
	places map[string]bool
}

// requests splits the KPIs and places into requests short enough for the
// request-line limits.
func (k *koladaCollector) requests(years []int) []koladaRequest {
	var ys string
	if len(years) > 0 {
		parts := make([]string, len(years))
		for i, y := range years {
			parts[i] = strconv.Itoa(y)
		}
		ys = "/year/" + strings.Join(parts, ",")
	}
	var out []koladaRequest
	for _, kc := range chunkIDs(k.kpis, koladaKPIBudget) {
		for _, pc := range chunkIDs(k.places, koladaPlaceBudget) {
			u := *k.base
			u.Path = k.base.Path + "/data/kpi/" + strings.Join(kc, ",") + "/municipality/" + strings.Join(pc, ",") + ys
			out = append(out, koladaRequest{url: u.String(), kpis: idSet(kc), places: idSet(pc)})
		}
	}
	return out
}

// chunkIDs splits ids into groups whose comma-joined length is at most
// budget.
func chunkIDs(ids []string, budget int) [][]string {
	var out [][]string
	var cur []string
	n := 0
	for _, id := range ids {
		if len(cur) > 0 && n+1+len(id) > budget {
			out = append(out, cur)
			cur, n = nil, 0
		}
		if len(cur) > 0 {
			n++
		}
		cur = append(cur, id)
		n += len(id)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func idSet(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// Collect fetches every request and all its pages, validates everything
// and writes one batch. A normal run asks only for changes since the last
// successful sync (from_date); a backfill (Request.From/To) asks for the
// years in that range in full.
func (k *koladaCollector) Collect(ctx context.Context, req Request, out Sink) error {
	now := k.now()
	years := k.years
	backfill := !req.From.IsZero() || !req.To.IsZero()
	if backfill {
		var err error
		if years, err = k.backfillYears(req, now); err != nil {
			return fmt.Errorf("kolada %s: %w", k.inst.Name, err)
		}
	}
	var st koladaState
	if _, err := loadState(k.state, &st); err != nil {
		return fmt.Errorf("kolada %s: %w", k.inst.Name, err)
	}
	fromDate := ""
	if !backfill && st.Fingerprint == k.fingerprint && isDate(st.LastSync) {
		fromDate = st.LastSync
	}

	var rows []facts.BenchmarkValue
	pages := 0
	for _, r := range k.requests(years) {
		first, _ := url.Parse(r.url)
		if fromDate != "" {
			q := first.Query()
			q.Set("from_date", fromDate)
			first.RawQuery = q.Encode()
		}
		got, n, err := k.fetchAll(ctx, req, first, r, years, k.maxPages-pages)
		pages += n
		if err != nil {
			return fmt.Errorf("kolada %s: %w", k.inst.Name, err)
		}
		rows = append(rows, got...)
	}
	version := batchVersion(now)
	b := &facts.Batch{
		Tenant: tenantOf(req, k.inst), Collector: k.inst.Name, Source: k.base.String(),
		Version: version, Benchmarks: rows,
		Observations: k.observations(rows, tenantOf(req, k.inst), version, now),
	}
	if err := checkObservations(req, b.Observations, ""); err != nil {
		return fmt.Errorf("kolada %s: indicator mapping: %w", k.inst.Name, err)
	}
	if b.Rows() > 0 {
		if err := out.Write(ctx, b); err != nil {
			return fmt.Errorf("kolada %s: writing: %w", k.inst.Name, err)
		}
	}
	if req.Progress != nil {
		req.Progress.Rows(b.Rows())
	}
	if backfill {
		return nil
	}
	st = koladaState{LastSync: now.In(strategy.Stockholm).Format(time.DateOnly), Fingerprint: k.fingerprint}
	if err := saveState(k.state, st); err != nil {
		return fmt.Errorf("kolada %s: %w", k.inst.Name, err)
	}
	return nil
}

// backfillYears is the configured years (or all) within req's range.
func (k *koladaCollector) backfillYears(req Request, now time.Time) ([]int, error) {
	from, to := 1900, now.Year()
	if !req.From.IsZero() {
		from = req.From.In(strategy.Stockholm).Year()
	}
	if !req.To.IsZero() {
		to = req.To.In(strategy.Stockholm).Year()
	}
	if to < from {
		return nil, fmt.Errorf("backfill ends (%d) before it starts (%d)", to, from)
	}
	if len(k.years) == 0 {
		if from < 1990 {
			return nil, nil // everything Kolada has
		}
		var ys []int
		for y := from; y <= to; y++ {
			ys = append(ys, y)
		}
		return ys, nil
	}
	var ys []int
	for _, y := range k.years {
		if y >= from && y <= to {
			ys = append(ys, y)
		}
	}
	if len(ys) == 0 {
		return nil, fmt.Errorf("backfill %d–%d covers none of the configured years", from, to)
	}
	return ys, nil
}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// fetchAll follows one request's pages. Every page is checked: rows must
// be for the KPIs, places and years asked for, and next-page links must
// stay on the base URL's host and not loop.
func (k *koladaCollector) fetchAll(ctx context.Context, req Request, u *url.URL, r koladaRequest, years []int, pagesLeft int) ([]facts.BenchmarkValue, int, error) {
	yearOK := map[int]bool{}
	for _, y := range years {
		yearOK[y] = true
	}
	seen := map[string]bool{}
	var rows []facts.BenchmarkValue
	pages := 0
	for u != nil {
		if pages >= pagesLeft {
			return nil, pages, fmt.Errorf("more than %d pages in one run (max_pages); narrow kpis, municipalities or years", k.maxPages)
		}
		key := u.String()
		if seen[key] {
			return nil, pages, fmt.Errorf("next page %s points back to a page already read", key)
		}
		seen[key] = true
		pages++
		if req.Progress != nil {
			req.Progress.File(key)
		}
		body, err := k.get(ctx, key)
		if err != nil {
			return nil, pages, err
		}
		got, next, err := parseKoladaPage(body)
		if err != nil {
			return nil, pages, fmt.Errorf("%s: %w", key, err)
		}
		for i, v := range got {
			switch {
			case !r.kpis[v.KPI]:
				return nil, pages, fmt.Errorf("%s: value %d is for KPI %s, which was not asked for", key, i+1, v.KPI)
			case !r.places[v.Municipality]:
				return nil, pages, fmt.Errorf("%s: value %d is for municipality %s, which was not asked for", key, i+1, v.Municipality)
			case len(yearOK) > 0 && !yearOK[v.Year]:
				return nil, pages, fmt.Errorf("%s: value %d is for year %d, which was not asked for", key, i+1, v.Year)
			}
		}
		rows = append(rows, got...)
		u = nil
		if next != "" {
			n, err := url.Parse(key)
			if err == nil {
				n, err = n.Parse(next)
			}
			if err != nil {
				return nil, pages, fmt.Errorf("%s: next page %q is not a URL", key, cleanText(next, 200))
			}
			if n.Scheme != k.base.Scheme || n.Host != k.base.Host {
				return nil, pages, fmt.Errorf("%s: next page %s leaves %s", key, cleanText(n.Redacted(), 200), k.base.Host)
			}
			u = n
		}
	}
	return rows, pages, nil
}

// get fetches one page, capped in size.
func (k *koladaCollector) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", koladaUserAgent)
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readCapped(resp.Body, k.maxBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: reading: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d: %s", u, resp.StatusCode, snippet(body))
	}
	return body, nil
}

// observations are the yearly values of mapped KPIs for the tenant's own
// municipality (gender T), for the indicators they feed.
func (k *koladaCollector) observations(rows []facts.BenchmarkValue, tenant string, version uint64, now time.Time) []strategy.Observation {
	var obs []strategy.Observation
	for _, r := range rows {
		ind, ok := k.indicator[r.KPI]
		if !ok || r.Municipality != k.own || r.Gender != "T" || r.Deleted || r.Value == nil {
			continue
		}
		obs = append(obs, strategy.Observation{
			Tenant: tenant, Indicator: ind, Period: strategy.Period{Kind: strategy.Year, Year: r.Year},
			Value: *r.Value, Source: "kolada", Version: version, Recorded: now,
			Comment: "Källa: Kolada, " + r.KPI,
		})
	}
	sort.Slice(obs, func(i, j int) bool {
		if obs[i].Indicator != obs[j].Indicator {
			return obs[i].Indicator < obs[j].Indicator
		}
		return obs[i].Period.Year < obs[j].Period.Year
	})
	return obs
}

// koladaPage is one page of Kolada's /data answer (v2 and v3).
type koladaPage struct {
	Values   *[]koladaEntry `json:"values"`
	NextPage *string        `json:"next_page"`
	NextURL  *string        `json:"next_url"`
}

type koladaEntry struct {
	KPI          string        `json:"kpi"`
	Municipality string        `json:"municipality"`
	Period       json.Number   `json:"period"`
	Values       []koladaValue `json:"values"`
	IsDeleted    bool          `json:"is_deleted"`
}

type koladaValue struct {
	Gender    string   `json:"gender"`
	Status    *string  `json:"status"`
	Value     *float64 `json:"value"`
	IsDeleted bool     `json:"is_deleted"`
}

// parseKoladaPage reads one page and returns its values and the link to
// the next page ("" on the last page). Any malformed entry fails the page.
func parseKoladaPage(data []byte) ([]facts.BenchmarkValue, string, error) {
	var p koladaPage
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, "", fmt.Errorf("malformed Kolada answer: %v", err)
	}
	if p.Values == nil {
		return nil, "", errors.New("malformed Kolada answer: no \"values\" list")
	}
	var rows []facts.BenchmarkValue
	for i, e := range *p.Values {
		at := fmt.Sprintf("values[%d]", i)
		if !kpiPattern.MatchString(e.KPI) {
			return nil, "", fmt.Errorf("%s: KPI id %q is not a capital letter and digits", at, cleanText(e.KPI, 40))
		}
		if !municipalityPattern.MatchString(e.Municipality) && !groupPattern.MatchString(e.Municipality) {
			return nil, "", fmt.Errorf("%s: municipality %q is neither a four-digit code nor a group id", at, cleanText(e.Municipality, 40))
		}
		year, err := strconv.Atoi(e.Period.String())
		if err != nil || year < 1900 || year > 2200 {
			return nil, "", fmt.Errorf("%s: period %q is not a year", at, cleanText(e.Period.String(), 40))
		}
		base := facts.BenchmarkValue{Source: "kolada", KPI: e.KPI, Municipality: e.Municipality, Year: year}
		if len(e.Values) == 0 && e.IsDeleted {
			// A deleted entry without values: mark every gender deleted.
			for _, g := range []string{"T", "K", "M"} {
				r := base
				r.Gender, r.Deleted = g, true
				rows = append(rows, r)
			}
			continue
		}
		genders := map[string]bool{}
		for j, v := range e.Values {
			at := fmt.Sprintf("%s.values[%d]", at, j)
			switch v.Gender {
			case "T", "K", "M":
			default:
				return nil, "", fmt.Errorf("%s: gender %q is not T, K or M", at, cleanText(v.Gender, 10))
			}
			if genders[v.Gender] {
				return nil, "", fmt.Errorf("%s: gender %s appears twice", at, v.Gender)
			}
			genders[v.Gender] = true
			r := base
			r.Gender = v.Gender
			r.Deleted = e.IsDeleted || v.IsDeleted
			if v.Value != nil && !r.Deleted {
				val := *v.Value
				r.Value = &val
			}
			if v.Status != nil {
				r.Status = cleanText(*v.Status, koladaStatusMax)
			}
			rows = append(rows, r)
		}
	}
	next := ""
	switch {
	case p.NextPage != nil && *p.NextPage != "":
		next = *p.NextPage
	case p.NextURL != nil && *p.NextURL != "":
		next = *p.NextURL
	}
	return rows, strings.TrimSpace(next), nil
}

// yearsOption is a list of years ([2023, 2024]), a single year, or a
// range "2015-2025".
type yearsOption struct{ years []int }

func (y *yearsOption) UnmarshalYAML(n *yaml.Node) error {
	year := func(n *yaml.Node, s string) (int, error) {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 1990 || v > 2100 {
			return 0, lineError(n, "invalid year %q (want e.g. 2024)", s)
		}
		return v, nil
	}
	set := map[int]bool{}
	switch n.Kind {
	case yaml.ScalarNode:
		lo, hi, isRange := strings.Cut(n.Value, "-")
		if !isRange {
			hi = lo
		}
		a, err := year(n, lo)
		if err != nil {
			return err
		}
		b, err := year(n, hi)
		if err != nil {
			return err
		}
		if b < a {
			return lineError(n, "years %q: the range ends before it starts", n.Value)
		}
		for v := a; v <= b; v++ {
			set[v] = true
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return lineError(c, "years: want a list of years")
			}
			v, err := year(c, c.Value)
			if err != nil {
				return err
			}
			set[v] = true
		}
	default:
		return lineError(n, "years: want a list of years or a range such as \"2015-2025\"")
	}
	y.years = y.years[:0]
	for v := range set {
		y.years = append(y.years, v)
	}
	sort.Ints(y.years)
	return nil
}
