package collectors

import (
	"context"
	_ "embed"
	"io"
	"time"

	"github.com/malbild/malbild/collectors/swecsv"
	"github.com/malbild/malbild/facts"
)

// casesSample is the commented sample configuration of the cases_csv
// kind, the same file as examples/collectors/cases_csv.yaml.
//
//go:embed samples/cases_csv.yaml
var casesSample string

func init() { Register("cases_csv", newCases) }

// CasesOptions are the options of a cases_csv instance: case-management
// exports with one row per case.
type CasesOptions struct {
	FileOptions `yaml:",inline"`
	// Columns renames the columns the export uses.
	Columns CaseColumns `yaml:"columns"`
	// DigitalChannels are the Kanal values that count as digital
	// (case-insensitive). Default: E-tjänst, Webb, Mina sidor.
	DigitalChannels []string `yaml:"digital_channels"`
	// ApplicationValues are the Ärendeslag values that make a case an
	// application. Default: Ansökan. Without an Ärendeslag column every
	// case is an application.
	ApplicationValues []string `yaml:"application_values"`
}

// CaseColumns are header names of a cases export; empty means the default.
type CaseColumns struct {
	ID         string `yaml:"id"`         // Diarienummer
	Type       string `yaml:"type"`       // Ärendetyp
	Kind       string `yaml:"kind"`       // Ärendeslag (optional)
	Department string `yaml:"department"` // Enhet (optional)
	Channel    string `yaml:"channel"`    // Kanal
	Received   string `yaml:"received"`   // Inkom
	Decided    string `yaml:"decided"`    // Beslutad
}

var (
	defaultDigitalChannels   = []string{"E-tjänst", "Webb", "Mina sidor"}
	defaultApplicationValues = []string{"Ansökan"}
)

// maxHandling is the longest handling time that is not an export error.
const maxHandlingYears = 10

type casesCollector struct {
	inst Instance
	opts CasesOptions
	now  func() time.Time
}

func newCases(inst Instance) (Collector, error) {
	var o CasesOptions
	if err := decodeFileOptions(inst, &o); err != nil {
		return nil, err
	}
	return &casesCollector{inst: inst, opts: o, now: time.Now}, nil
}

func (o *CasesOptions) check(inst Instance) error {
	if err := o.FileOptions.check(inst); err != nil {
		return err
	}
	if err := checkValues(inst, "digital_channels", o.DigitalChannels); err != nil {
		return err
	}
	if err := checkValues(inst, "application_values", o.ApplicationValues); err != nil {
		return err
	}
	if o.DigitalChannels == nil {
		o.DigitalChannels = defaultDigitalChannels
	}
	if o.ApplicationValues == nil {
		o.ApplicationValues = defaultApplicationValues
	}
	return nil
}

func (c *casesCollector) Collect(ctx context.Context, req Request, out Sink) error {
	return collectFiles(ctx, "cases_csv", c.inst, &c.opts.FileOptions, c.now, req, out,
		func(r io.Reader, f sourceFile, rows func(int), b *facts.Batch) (err error) {
			b.Cases, err = parseCases(r, f.Path, caseParse{opts: &c.opts, now: c.now(), rows: rows})
			return err
		})
}

// caseParse is what parseCases needs besides the file.
type caseParse struct {
	opts *CasesOptions
	now  time.Time   // dates after now are errors
	rows func(n int) // progress: n more rows read; may be nil
}

// Column positions in parseCases.
const (
	caseID = iota
	caseType
	caseKind
	caseDepartment
	caseChannel
	caseReceived
	caseDecided
)

// parseCases reads a case-management export. Any problem rejects the whole
// file: the error lists the first problems as file:line:column: reason.
func parseCases(r io.Reader, name string, p caseParse) ([]facts.Case, error) {
	o := p.opts
	c := o.Columns
	t, err := openCSV(r, name, &o.FileOptions, []column{
		caseID:         {names: []string{"Diarienummer"}, override: c.ID, required: true},
		caseType:       {names: []string{"Ärendetyp"}, override: c.Type, required: true},
		caseKind:       {names: []string{"Ärendeslag"}, override: c.Kind},
		caseDepartment: {names: []string{"Enhet"}, override: c.Department},
		caseChannel:    {names: []string{"Kanal"}, override: c.Channel, required: true},
		caseReceived:   {names: []string{"Inkom"}, override: c.Received, required: true},
		caseDecided:    {names: []string{"Beslutad"}, override: c.Decided, required: true},
	})
	if err != nil {
		return nil, err
	}
	idx := t.idx
	digital, application := foldSet(o.DigitalChannels), foldSet(o.ApplicationValues)
	cases := make([]facts.Case, 0, t.rd.MaxRows())
	seen := make(map[string]int, t.rd.MaxRows()) // case id → line
	// The dates are checked for personal numbers by pastTime.
	err = t.eachRow(p.rows, idx[caseID:caseChannel+1], func(w row) {
		var k facts.Case
		k.ID = w.required(idx[caseID], "case id")
		idOK := !w.bad
		k.Type = w.text(idx[caseType])
		kind := w.text(idx[caseKind])
		k.Department = w.text(idx[caseDepartment])
		k.Channel = w.text(idx[caseChannel])
		var recvClock, decClock bool
		f := w.fails
		k.Received, recvClock = w.pastTime(idx[caseReceived], p.now)
		if j := idx[caseDecided]; !w.empty(j) {
			k.Decided, decClock = w.pastTime(j, p.now)
			if w.fails == f {
				if msg := checkHandling(k.Received, recvClock, k.Decided, decClock); msg != "" {
					w.failf(j, "%s", msg)
				}
			}
		}
		if idOK {
			if first, dup := seen[k.ID]; dup {
				w.failf(idx[caseID], "case %s appears twice (first on line %d)", swecsv.Quote(k.ID), first)
			} else {
				seen[k.ID] = t.rd.Line()
			}
		}
		if w.bad {
			return
		}
		k.Digital = digital.has(k.Channel)
		k.Application = idx[caseKind] < 0 || application.has(kind)
		cases = append(cases, k)
	})
	if err != nil {
		return nil, err
	}
	return cases, nil
}

// checkHandling says what is wrong with a case's received and decided
// times, or "". Without a time of day on both, only the dates count: a
// case received 14:02 and decided that day is fine.
func checkHandling(recv time.Time, recvClock bool, dec time.Time, decClock bool) string {
	before := dec.Before(recv)
	if !recvClock || !decClock {
		ry, rm, rd := recv.Date()
		dy, dm, dd := dec.Date()
		before = dy < ry || (dy == ry && (dm < rm || (dm == rm && dd < rd)))
	}
	if before {
		return "decided " + stamp(dec, decClock) + " before it was received " + stamp(recv, recvClock)
	}
	if dec.After(recv.AddDate(maxHandlingYears, 0, 0)) {
		return "handling time of more than 10 years (received " + recv.Format("2006-01-02") + ", decided " + dec.Format("2006-01-02") + ")"
	}
	return ""
}

// stamp formats t as it was written: a date, or a date and time.
func stamp(t time.Time, clock bool) string {
	if clock {
		return t.Format("2006-01-02 15:04")
	}
	return t.Format("2006-01-02")
}
