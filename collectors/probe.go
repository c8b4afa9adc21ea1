package collectors

import (
	"bytes"
	"context"
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// probeSample is the commented sample configuration of the http_probe
// kind, the same file as examples/collectors/http_probe.yaml.
//
//go:embed samples/http_probe.yaml
var probeSample string

const (
	probeUserAgent    = "Malbild-probe/1.0"
	probeMaxRedirects = 5
	probeBodyLimit    = 10 << 20 // read at most this much of a probed page
	probeErrorMax     = 300      // runes kept of an error text
)

func init() { Register("http_probe", newProbe) }

// probeOptions are the options of an http_probe instance.
type probeOptions struct {
	Services    []probeService      `yaml:"services"`
	Timeout     durationOption      `yaml:"request_timeout"` // per request, default 10s
	CAFile      string              `yaml:"ca_file"`         // extra trusted CAs (PEM)
	Concurrency int                 `yaml:"concurrency"`     // probes at once, default 8
	Maintenance []maintenanceOption `yaml:"maintenance"`
}

// probeService is one service to probe.
type probeService struct {
	Name           string    `yaml:"name"`
	URL            string    `yaml:"url"`
	ExpectedStatus statusSet `yaml:"expected_status"` // default 200
	BodyContains   string    `yaml:"body_contains"`
	Method         string    `yaml:"method"` // GET (default) or HEAD
}

// maintenanceOption is a planned maintenance window: either once (start,
// end) or weekly (weekday, from, to).
type maintenanceOption struct {
	Service string      `yaml:"service"` // a service name or "*"
	Start   localTime   `yaml:"start"`
	End     localTime   `yaml:"end"`
	Weekday weekdayOpt  `yaml:"weekday"`
	From    clockOption `yaml:"from"`
	To      clockOption `yaml:"to"`
	Note    string      `yaml:"note"`
}

type probe struct {
	name        string
	services    []probeService
	concurrency int
	client      *http.Client
	timeout     time.Duration
	maint       maintenanceSchedule
	inst        Instance
	now         func() time.Time
}

func newProbe(inst Instance) (Collector, error) {
	opts := probeOptions{Concurrency: 8}
	if err := DecodeOptions(inst, &opts); err != nil {
		return nil, err
	}
	root := inst.Options
	if len(opts.Services) == 0 && len(opts.Maintenance) == 0 {
		return nil, OptionsError(inst, optionAt(root, "services"), "no services to probe (set services: [{name, url}])")
	}
	p := &probe{name: inst.Name, inst: inst, concurrency: opts.Concurrency, now: time.Now}
	p.timeout = opts.Timeout.or(10 * time.Second)
	if p.timeout <= 0 {
		return nil, OptionsError(inst, optionAt(root, "request_timeout"), "request_timeout must be more than 0")
	}
	if inst.Timeout > 0 && p.timeout >= inst.Timeout {
		return nil, OptionsError(inst, optionAt(root, "request_timeout"), "request_timeout %s must be shorter than the instance timeout %s", p.timeout, inst.Timeout)
	}
	if p.concurrency < 1 || p.concurrency > 64 {
		return nil, OptionsError(inst, optionAt(root, "concurrency"), "concurrency must be between 1 and 64")
	}
	seen := map[string]bool{}
	for i, s := range opts.Services {
		at := func(key string) *yaml.Node { return optionAt(root, "services", i, key) }
		s.Name = strings.TrimSpace(s.Name)
		switch {
		case s.Name == "":
			return nil, OptionsError(inst, at("name"), "service needs a name")
		case hasControl(s.Name) || len(s.Name) > 200:
			return nil, OptionsError(inst, at("name"), "service name must be plain text of at most 200 bytes")
		case seen[s.Name]:
			return nil, OptionsError(inst, at("name"), "service %q is listed twice", s.Name)
		}
		seen[s.Name] = true
		u, err := httpURL(s.URL)
		if err != nil {
			return nil, OptionsError(inst, at("url"), "service %q: %v", s.Name, err)
		}
		s.URL = u.String()
		switch strings.ToUpper(s.Method) {
		case "", http.MethodGet:
			s.Method = http.MethodGet
		case http.MethodHead:
			s.Method = http.MethodHead
			if s.BodyContains != "" {
				return nil, OptionsError(inst, at("body_contains"), "service %q: body_contains needs method GET (HEAD has no body)", s.Name)
			}
		default:
			return nil, OptionsError(inst, at("method"), "service %q: method must be GET or HEAD, not %q", s.Name, s.Method)
		}
		if len(s.ExpectedStatus) == 0 {
			s.ExpectedStatus = statusSet{{200, 200}}
		}
		p.services = append(p.services, s)
	}
	var roots *x509.CertPool
	if opts.CAFile != "" {
		pool, err := loadCAFile(ResolvePath(inst, opts.CAFile))
		if err != nil {
			return nil, OptionsError(inst, optionAt(root, "ca_file"), "%v", err)
		}
		roots = pool
	}
	p.client = &http.Client{
		Transport: newTransport(roots),
		Timeout:   p.timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > probeMaxRedirects {
				return fmt.Errorf("stopped after %d redirects", probeMaxRedirects)
			}
			return nil
		},
	}
	maint, err := parseMaintenance(inst, opts.Maintenance, "maintenance")
	if err != nil {
		return nil, err
	}
	p.maint = maint
	return p, nil
}

// Collect probes every service once, concurrently, and writes one batch
// with a result per service and the maintenance windows of this week. A
// failed probe is a result, not an error.
func (p *probe) Collect(ctx context.Context, req Request, out Sink) error {
	now := p.now()
	results := make([]facts.ProbeResult, len(p.services))
	sem := make(chan struct{}, p.concurrency)
	var wg sync.WaitGroup
	for i, s := range p.services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			results[i] = p.check(ctx, s)
		}()
	}
	wg.Wait()
	// A cancelled run says nothing about the services: write nothing
	// rather than a row of false outages.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("http_probe %s: run stopped before all probes finished: %w", p.name, err)
	}
	b := &facts.Batch{
		Tenant:      tenantOf(req, p.inst),
		Collector:   p.name,
		Source:      "http_probe",
		Version:     batchVersion(now),
		Probes:      results,
		Maintenance: p.windows(now),
	}
	if req.Progress != nil {
		req.Progress.Rows(b.Rows())
	}
	if b.Rows() == 0 {
		return nil
	}
	if err := out.Write(ctx, b); err != nil {
		return fmt.Errorf("http_probe %s: writing results: %w", p.name, err)
	}
	return nil
}

// check probes one service.
func (p *probe) check(ctx context.Context, s probeService) facts.ProbeResult {
	start := time.Now()
	r := facts.ProbeResult{Service: s.Name, URL: s.URL, Time: start}
	req, err := http.NewRequestWithContext(ctx, s.Method, s.URL, nil)
	if err != nil {
		r.Error = cleanText(err.Error(), probeErrorMax)
		return r
	}
	req.Header.Set("User-Agent", probeUserAgent)
	resp, err := p.client.Do(req)
	if err != nil {
		r.Duration = time.Since(start)
		r.Error = p.describe(err)
		return r
	}
	defer resp.Body.Close()
	r.Status = resp.StatusCode
	var body []byte
	if s.BodyContains != "" {
		body, err = readCapped(resp.Body, probeBodyLimit)
	} else {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, probeBodyLimit))
	}
	r.Duration = time.Since(start)
	switch {
	case err != nil:
		r.Error = "reading the answer: " + p.describe(err)
	case !s.ExpectedStatus.has(resp.StatusCode):
		r.Error = fmt.Sprintf("status %d, expected %s", resp.StatusCode, s.ExpectedStatus)
	case s.BodyContains != "" && !bytes.Contains(body, []byte(s.BodyContains)):
		r.Error = fmt.Sprintf("answer does not contain %q", cleanText(s.BodyContains, 80))
	default:
		r.OK = true
	}
	return r
}

// describe turns a transport error into a short text for the dashboard.
func (p *probe) describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Sprintf("no answer within %s", p.timeout)
		}
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s", p.timeout)
	}
	return cleanText(err.Error(), probeErrorMax)
}

// windows returns the one-off maintenance windows and the weekly ones
// for the week (Monday to Sunday, Stockholm time) containing now.
func (p *probe) windows(now time.Time) []facts.MaintenanceWindow { return p.maint.week(now) }

// maintenanceSchedule is a checked list of maintenance windows: the
// one-off ones as they are, the weekly ones to be expanded for a range.
// http_probe and prometheus (into: probes) share it.
type maintenanceSchedule struct {
	once   []facts.MaintenanceWindow
	weekly []maintenanceOption
}

// parseMaintenance checks the maintenance windows decoded from the list at
// path (keys and indices below the instance's options) and returns them
// as a schedule; problems are "file:line: message" errors.
func parseMaintenance(inst Instance, items []maintenanceOption, path ...any) (maintenanceSchedule, error) {
	var sched maintenanceSchedule
	root := inst.Options
	for i, m := range items {
		item := append(append([]any(nil), path...), i)
		at := func(key string) *yaml.Node { return optionAt(root, append(item, key)...) }
		whole := optionAt(root, item...)
		m.Service = strings.TrimSpace(m.Service)
		m.Note = strings.TrimSpace(m.Note)
		if m.Service == "" {
			return sched, OptionsError(inst, at("service"), "maintenance window needs a service (a service name or \"*\" for all)")
		}
		if hasControl(m.Service) || hasControl(m.Note) {
			return sched, OptionsError(inst, at("service"), "maintenance window: service and note must be plain text")
		}
		once := m.Start.Set || m.End.Set
		weekly := m.Weekday.Set || m.From.Set || m.To.Set
		switch {
		case once && weekly:
			return sched, OptionsError(inst, whole, "maintenance window: give either start and end, or weekday, from and to")
		case once:
			if !m.Start.Set || !m.End.Set {
				return sched, OptionsError(inst, whole, "maintenance window needs both start and end")
			}
			if !m.End.T.After(m.Start.T) {
				return sched, OptionsError(inst, at("end"), "maintenance window ends (%s) before it starts (%s)", m.End.T.Format(time.RFC3339), m.Start.T.Format(time.RFC3339))
			}
			sched.once = append(sched.once, facts.MaintenanceWindow{Service: m.Service, Start: m.Start.T, End: m.End.T, Note: m.Note})
		case weekly:
			if !m.Weekday.Set || !m.From.Set || !m.To.Set {
				return sched, OptionsError(inst, whole, "weekly maintenance window needs weekday, from and to")
			}
			if m.From.Minutes == m.To.Minutes {
				return sched, OptionsError(inst, at("to"), "weekly maintenance window: from and to are the same time")
			}
			sched.weekly = append(sched.weekly, m)
		default:
			return sched, OptionsError(inst, whole, "maintenance window needs start and end, or weekday, from and to")
		}
	}
	return sched, nil
}

// week returns the one-off windows and the weekly ones that start in the
// week (Monday to Sunday, Stockholm time) containing now.
func (s maintenanceSchedule) week(now time.Time) []facts.MaintenanceWindow {
	ws := append([]facts.MaintenanceWindow(nil), s.once...)
	local := now.In(strategy.Stockholm)
	monday := time.Date(local.Year(), local.Month(), local.Day()-(int(local.Weekday())+6)%7, 0, 0, 0, 0, strategy.Stockholm)
	for _, m := range s.weekly {
		offset := (int(m.Weekday.D) + 6) % 7 // days after Monday
		ws = append(ws, m.on(monday.AddDate(0, 0, offset)))
	}
	return ws
}

// over returns the windows that overlap [from, to]: the one-off ones that
// do, and every occurrence of the weekly ones that does, in order of start
// (one-off windows first). Weekly windows keep their local times across
// the switches to and from summer time.
func (s maintenanceSchedule) over(from, to time.Time) []facts.MaintenanceWindow {
	overlaps := func(w facts.MaintenanceWindow) bool { return !w.Start.After(to) && w.End.After(from) }
	var ws []facts.MaintenanceWindow
	for _, w := range s.once {
		if overlaps(w) {
			ws = append(ws, w)
		}
	}
	if len(s.weekly) == 0 || to.Before(from) {
		return ws
	}
	// A window is at most a day long, so one starting the day before from
	// may still be open.
	f, t := from.In(strategy.Stockholm), to.In(strategy.Stockholm)
	last := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, strategy.Stockholm)
	for day := time.Date(f.Year(), f.Month(), f.Day()-1, 0, 0, 0, 0, strategy.Stockholm); !day.After(last); day = day.AddDate(0, 0, 1) {
		for _, m := range s.weekly {
			if day.Weekday() != m.Weekday.D {
				continue
			}
			if w := m.on(day); overlaps(w) {
				ws = append(ws, w)
			}
		}
	}
	return ws
}

// on is the weekly window m starting on day (midnight, Stockholm time);
// a window whose to is before its from ends the next day.
func (m maintenanceOption) on(day time.Time) facts.MaintenanceWindow {
	start := time.Date(day.Year(), day.Month(), day.Day(), 0, m.From.Minutes, 0, 0, strategy.Stockholm)
	endDay := day
	if m.To.Minutes < m.From.Minutes {
		endDay = day.AddDate(0, 0, 1) // over midnight
	}
	end := time.Date(endDay.Year(), endDay.Month(), endDay.Day(), 0, m.To.Minutes, 0, 0, strategy.Stockholm)
	return facts.MaintenanceWindow{Service: m.Service, Start: start, End: end, Note: m.Note}
}

// statusSet is a set of accepted HTTP status codes, from a single code
// (200), a class ("2xx"), a range ("200-299") or a list of these.
type statusSet []statusRange

type statusRange struct{ lo, hi int }

func (s *statusSet) UnmarshalYAML(n *yaml.Node) error {
	var items []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{n}
	case yaml.SequenceNode:
		items = n.Content
	default:
		return lineError(n, "expected_status must be a status code, a range like 2xx or 200-299, or a list of these")
	}
	var set statusSet
	for _, it := range items {
		if it.Kind != yaml.ScalarNode {
			return lineError(it, "expected_status items must be codes or ranges")
		}
		r, err := parseStatusRange(it.Value)
		if err != nil {
			return lineError(it, "%v", err)
		}
		set = append(set, r)
	}
	if len(set) == 0 {
		return lineError(n, "expected_status is empty")
	}
	*s = set
	return nil
}

func parseStatusRange(v string) (statusRange, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	bad := fmt.Errorf("invalid status %q (want e.g. 200, 2xx or 200-299)", v)
	code := func(s string) (int, bool) {
		c, err := strconv.Atoi(s)
		return c, err == nil && c >= 100 && c <= 599
	}
	if len(v) == 3 && strings.HasSuffix(v, "xx") && v[0] >= '1' && v[0] <= '5' {
		c := int(v[0]-'0') * 100
		return statusRange{c, c + 99}, nil
	}
	if lo, hi, ok := strings.Cut(v, "-"); ok {
		l, ok1 := code(strings.TrimSpace(lo))
		h, ok2 := code(strings.TrimSpace(hi))
		if !ok1 || !ok2 || h < l {
			return statusRange{}, bad
		}
		return statusRange{l, h}, nil
	}
	c, ok := code(v)
	if !ok {
		return statusRange{}, bad
	}
	return statusRange{c, c}, nil
}

func (s statusSet) has(code int) bool {
	for _, r := range s {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

func (s statusSet) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		switch {
		case r.lo == r.hi:
			parts[i] = strconv.Itoa(r.lo)
		case r.lo%100 == 0 && r.hi == r.lo+99:
			parts[i] = fmt.Sprintf("%dxx", r.lo/100)
		default:
			parts[i] = fmt.Sprintf("%d-%d", r.lo, r.hi)
		}
	}
	return strings.Join(parts, ", ")
}

// localTime is an instant in the options: RFC 3339, or "2025-03-01 22:00"
// in Europe/Stockholm time.
type localTime struct {
	T   time.Time
	Set bool
}

var localLayouts = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

func (t *localTime) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return lineError(n, "want a time such as 2025-03-01 22:00 or 2025-03-01T22:00:00+01:00")
	}
	v := strings.TrimSpace(n.Value)
	if ts, err := time.Parse(time.RFC3339, v); err == nil {
		t.T, t.Set = ts, true
		return nil
	}
	for _, l := range localLayouts {
		if ts, err := time.ParseInLocation(l, v, strategy.Stockholm); err == nil {
			t.T, t.Set = ts, true
			return nil
		}
	}
	return lineError(n, "invalid time %q (want e.g. 2025-03-01 22:00 or 2025-03-01T22:00:00+01:00)", v)
}

// weekdayOpt is a day of the week, in English or Swedish.
type weekdayOpt struct {
	D   time.Weekday
	Set bool
}

var weekdayNames = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"söndag": time.Sunday, "måndag": time.Monday, "tisdag": time.Tuesday, "onsdag": time.Wednesday,
	"torsdag": time.Thursday, "fredag": time.Friday, "lördag": time.Saturday,
}

func (w *weekdayOpt) UnmarshalYAML(n *yaml.Node) error {
	d, ok := weekdayNames[strings.ToLower(strings.TrimSpace(n.Value))]
	if n.Kind != yaml.ScalarNode || !ok {
		return lineError(n, "invalid weekday %q (want monday … sunday, or måndag … söndag)", n.Value)
	}
	w.D, w.Set = d, true
	return nil
}

// clockOption is a time of day "HH:MM", as minutes after midnight; "24:00"
// is the end of the day.
type clockOption struct {
	Minutes int
	Set     bool
}

func (c *clockOption) UnmarshalYAML(n *yaml.Node) error {
	v := strings.TrimSpace(n.Value)
	h, m, ok := strings.Cut(v, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if n.Kind != yaml.ScalarNode || !ok || err1 != nil || err2 != nil || len(m) != 2 ||
		hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return lineError(n, "invalid time of day %q (want HH:MM, e.g. 02:00)", n.Value)
	}
	c.Minutes, c.Set = hh*60+mm, true
	return nil
}
