package demo

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/strategy"
)

// Instances returns the collector instances that point the real
// collectors at the generated files and the loopback upstreams, as if
// they had been configured in malbild.yaml. File collectors watch their
// directories (state under Dir/state), so a second run reads nothing new.
func (p *Plan) Instances() []collectors.Instance {
	state := filepath.Join(p.Dir, "state")
	var out []collectors.Instance
	add := func(name, kind string, schedule, timeout time.Duration, opts map[string]any) {
		out = append(out, collectors.Instance{
			Name: name, Kind: kind, Tenant: p.Tenant, Schedule: schedule, Timeout: timeout,
			Options: optionsNode(opts),
		})
	}
	f := p.Files
	if len(f.Cases) > 0 {
		add("demo-arenden", "cases_csv", 24*time.Hour, 10*time.Minute, map[string]any{
			"dir": f.CasesDir, "pattern": "arenden-*.csv", "watch": true, "state_dir": state,
		})
	}
	if len(f.EServices) > 0 {
		add("demo-etjanster", "eservices", 24*time.Hour, 5*time.Minute, map[string]any{
			"dir": f.EServicesDir, "pattern": "eservices-*.csv", "watch": true, "state_dir": state,
		})
	}
	if len(f.Surveys) > 0 {
		add("demo-systemenkat", "survey_csv", 24*time.Hour, 5*time.Minute, map[string]any{
			"dir": f.SurveyDir, "pattern": "enkat-*.csv", "watch": true, "state_dir": state,
			"scale_min": 1, "scale_max": 5,
		})
	}
	if f.Series != "" {
		add("demo-serier", "series_csv", time.Hour, 5*time.Minute, map[string]any{
			"path": f.Series, "watch": true, "state_dir": state,
		})
	}
	if k := p.Kolada; k.BaseURL != "" && len(k.KPIs) > 0 {
		add("demo-kolada", "kolada", 24*time.Hour, 5*time.Minute, map[string]any{
			"base_url": k.BaseURL, "kpis": k.KPIs, "municipalities": k.Municipalities,
			"years": fmt.Sprintf("%d-%d", k.FirstYear, k.LastYear), "indicator": k.Indicator,
			"state_dir": state, "request_timeout": "30s",
		})
	}
	if pr := p.Prometheus; pr.URL != "" {
		// From the clock back to the history's start, which for an ended
		// strategy lies years back.
		days := int(math.Ceil(p.Clock.Sub(pr.From).Hours()/24)) + 1
		query := map[string]any{
			"name": "eservices-up", "into": "probes",
			"query":          `probe_success{job="eservices"}`,
			"duration_query": `probe_duration_seconds{job="eservices"}`,
			"step":           fmt.Sprintf("%ds", int(pr.Step.Seconds())),
		}
		if ws := p.maintenanceOptions(); len(ws) > 0 {
			query["maintenance"] = ws
		}
		add("demo-prometheus", "prometheus", time.Hour, 10*time.Minute, map[string]any{
			"address": pr.URL, "lookback": fmt.Sprintf("%dd", days), "state_dir": state,
			"request_timeout": "1m",
			"queries":         []map[string]any{query},
		})
	}
	if len(p.Probes) > 0 {
		var services []map[string]any
		for _, t := range p.Probes {
			s := map[string]any{"name": t.Name, "url": t.URL}
			if t.Healthy {
				s["body_contains"] = "Logga in"
			}
			services = append(services, s)
		}
		add("demo-probe", "http_probe", 5*time.Minute, time.Minute, map[string]any{
			"services": services, "request_timeout": "5s", "concurrency": 4,
		})
	}
	return out
}

// maintenanceOptions are the maintenance windows of the services in the
// Prometheus history, as the prometheus query's maintenance option: a
// weekly rule per service, or, when the windows change length from week
// to week (which a weekly rule cannot say), every window on its own.
func (p *Plan) maintenanceOptions() []map[string]any {
	var out []map[string]any
	if ws := p.Prometheus.Weekly; ws != nil {
		clock := func(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
		for _, w := range ws {
			out = append(out, map[string]any{
				"service": w.Service, "note": w.Note,
				"weekday": strings.ToLower(w.Weekday.String()), "from": clock(w.From), "to": clock(w.To),
			})
		}
		return out
	}
	for _, w := range p.Maintenance {
		out = append(out, map[string]any{
			"service": w.Service, "note": w.Note,
			"start": w.Start.In(strategy.Stockholm).Format(time.RFC3339),
			"end":   w.End.In(strategy.Stockholm).Format(time.RFC3339),
		})
	}
	return out
}

// optionsNode turns options into the YAML node a collector factory
// decodes, by marshalling them and parsing the text back.
func optionsNode(opts map[string]any) *yaml.Node {
	b, err := yaml.Marshal(opts)
	if err != nil {
		panic(fmt.Sprintf("demo: marshalling collector options: %v", err)) // only plain values go in
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		panic(fmt.Sprintf("demo: parsing collector options: %v", err))
	}
	return &n
}
