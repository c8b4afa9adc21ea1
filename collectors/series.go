package collectors

import (
	"context"
	_ "embed"
	"io"
	"strings"
	"time"

	"github.com/malbild/malbild/collectors/swecsv"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// seriesSample is the commented sample configuration of the series_csv
// kind, the same file as examples/collectors/series_csv.yaml.
//
//go:embed samples/series_csv.yaml
var seriesSample string

func init() { Register("series_csv", newSeries) }

// SeriesOptions are the options of a series_csv instance: indicator
// values per period, from a template anyone can fill in.
type SeriesOptions struct {
	FileOptions `yaml:",inline"`
	// Columns renames the columns the file uses.
	Columns SeriesColumns `yaml:"columns"`
	// Indicators, when set, are the only indicator ids this instance may
	// write. The strategy's indicators are always checked as well.
	Indicators []string `yaml:"indicators"`
}

// SeriesColumns are header names of a series file; empty means the
// default (Swedish or English).
type SeriesColumns struct {
	Indicator string `yaml:"indicator"` // indikator / indicator
	Period    string `yaml:"period"`    // period
	Value     string `yaml:"value"`     // värde / value
	Dimension string `yaml:"dimension"` // dimension (optional)
	Comment   string `yaml:"comment"`   // kommentar / comment (optional)
}

// seriesSource is the Source of the observations series_csv writes.
const seriesSource = "series_csv"

type seriesCollector struct {
	inst    Instance
	opts    SeriesOptions
	allowed map[string]bool // from the indicators option; nil = any
	now     func() time.Time
}

func newSeries(inst Instance) (Collector, error) {
	var o SeriesOptions
	if err := decodeFileOptions(inst, &o); err != nil {
		return nil, err
	}
	c := &seriesCollector{inst: inst, opts: o, now: time.Now}
	if o.Indicators != nil {
		c.allowed = make(map[string]bool, len(o.Indicators))
		for i, id := range o.Indicators {
			if !validIndicatorID(id) {
				return nil, OptionsError(inst, optionAt(inst.Options, "indicators", i), "indicators: %q is not an indicator id (lower-case letters, digits, '_', '.' and '-')", id)
			}
			c.allowed[id] = true
		}
	}
	return c, nil
}

func (c *seriesCollector) Collect(ctx context.Context, req Request, out Sink) error {
	return collectFiles(ctx, seriesSource, c.inst, &c.opts.FileOptions, c.now, req, out,
		func(r io.Reader, f sourceFile, rows func(int), b *facts.Batch) (err error) {
			b.Observations, err = parseSeries(r, f.Path, seriesParse{
				opts: &c.opts, allowed: c.allowed, known: req.Indicators, units: req.Units,
				now: c.now(), rows: rows,
			})
			return err
		})
}

// seriesParse is what parseSeries needs besides the file.
type seriesParse struct {
	opts    *SeriesOptions
	allowed map[string]bool          // ids this instance may write; nil = any
	known   map[string]bool          // the strategy's ids; nil = not checked
	units   map[string]strategy.Unit // units where known, for range checks
	now     time.Time                // periods starting after now are errors; also Recorded
	rows    func(n int)              // progress: n more rows read; may be nil
}

// Column positions in parseSeries.
const (
	seriesIndicator = iota
	seriesPeriod
	seriesValue
	seriesDimension
	seriesComment
)

// parseSeries reads a series file into observations (without tenant and
// version, which the caller sets). Any problem rejects the whole file: the
// error lists the first problems as file:line:column: reason.
func parseSeries(r io.Reader, name string, p seriesParse) ([]strategy.Observation, error) {
	o := p.opts
	c := o.Columns
	t, err := openCSV(r, name, &o.FileOptions, []column{
		seriesIndicator: {names: []string{"indikator", "indicator"}, override: c.Indicator, required: true},
		seriesPeriod:    {names: []string{"period"}, override: c.Period, required: true},
		seriesValue:     {names: []string{"värde", "value"}, override: c.Value, required: true},
		seriesDimension: {names: []string{"dimension"}, override: c.Dimension},
		seriesComment:   {names: []string{"kommentar", "comment"}, override: c.Comment},
	})
	if err != nil {
		return nil, err
	}
	idx := t.idx
	type key struct {
		id  string
		per strategy.Period
		dim strategy.Dimension
	}
	var out []strategy.Observation
	seen := map[key]int{} // → line
	err = t.eachRow(p.rows, idx, func(w row) {
		ob := strategy.Observation{Source: seriesSource, Recorded: p.now}
		j := idx[seriesIndicator]
		ob.Indicator = w.required(j, "indicator id")
		switch {
		case w.bad:
		case !validIndicatorID(ob.Indicator):
			w.failf(j, "%s is not an indicator id (lower-case letters, digits, '_', '.' and '-')", swecsv.Quote(ob.Indicator))
		case p.known != nil && !p.known[ob.Indicator]:
			w.failf(j, "unknown indicator %s: the strategy has no indicator with that id", swecsv.Quote(ob.Indicator))
		case p.allowed != nil && !p.allowed[ob.Indicator]:
			w.failf(j, "indicator %s is not among this collector's indicators", swecsv.Quote(ob.Indicator))
		}
		j = idx[seriesPeriod]
		if per, err := strategy.ParsePeriod(w.rec[j]); err != nil {
			w.failf(j, "%v", err)
		} else if per.Start().After(p.now) {
			w.failf(j, "period %s is in the future", per)
		} else {
			ob.Period = per
		}
		if j = idx[seriesDimension]; !w.empty(j) {
			ob.Dimension = parseDimension(&w, j)
		}
		keyOK := !w.bad
		j = idx[seriesValue]
		f := w.fails
		ob.Value = w.number(j)
		if w.fails == f && p.units[ob.Indicator] == strategy.UnitPercent && (ob.Value < 0 || ob.Value > 100) {
			w.failf(j, "%s percent is outside 0–100", strings.TrimSpace(w.rec[j]))
		}
		ob.Comment = w.text(idx[seriesComment])
		if keyOK {
			k := key{ob.Indicator, ob.Period, ob.Dimension}
			if first, dup := seen[k]; dup {
				w.failf(idx[seriesIndicator], "%s %s%s appears twice (first on line %d)", ob.Indicator, ob.Period, dimLabel(ob.Dimension), first)
			} else {
				seen[k] = t.rd.Line()
			}
		}
		if w.bad {
			return
		}
		out = append(out, ob)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parseDimension reads "kind=value", e.g. department=Socialförvaltningen.
func parseDimension(w *row, j int) strategy.Dimension {
	f := w.fails
	s := w.text(j)
	if w.fails != f {
		return strategy.Dimension{}
	}
	k, v, ok := strings.Cut(s, "=")
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	if !ok || k == "" || v == "" {
		w.failf(j, "dimension %s: want kind=value, e.g. department=Socialförvaltningen", swecsv.Quote(s))
		return strategy.Dimension{}
	}
	return strategy.Dimension{Kind: k, Value: v}
}

func dimLabel(d strategy.Dimension) string {
	if d.IsTotal() {
		return ""
	}
	return " " + d.Kind + "=" + d.Value
}

// validIndicatorID reports whether id has the form of a strategy's
// indicator id: lower-case letters, digits, '_', '.' and '-', starting
// with a letter or digit.
func validIndicatorID(id string) bool {
	if id == "" || len(id) > 200 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !alnum && (i == 0 || (c != '_' && c != '.' && c != '-')) {
			return false
		}
	}
	return true
}
