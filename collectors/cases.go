package collectors

import (
	"context"
	_ "embed"
	"io"
	"time"

	"github.com/malbild/malbild/clickhouse"
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
	ps := &prepSink{next: out}
	return collectFiles(ctx, "cases_csv", c.inst, &c.opts.FileOptions, c.now, req, ps,
		func(r io.Reader, f sourceFile, rows func(int), b *facts.Batch) (err error) {
			b.Cases, ps.prep, err = parsePreparedCases(r, f.Path, caseParse{opts: &c.opts, now: c.now(), rows: rows})
			return err
		})
}

// prepSink hands the CasePrep of the file just parsed to the write of its
// batch (clickhouse.WithCasePrep), which then need not compute it again.
type prepSink struct {
	next Sink
	prep *clickhouse.CasePrep // of the last file parsed; nil: none
}

func (s *prepSink) Write(ctx context.Context, b *facts.Batch) error {
	if s.prep != nil {
		ctx = clickhouse.WithCasePrep(ctx, s.prep)
		s.prep = nil
	}
	return s.next.Write(ctx, b)
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
//
// The rows are read first by quickCases, on the undecoded bytes in parts
// at once, stopping at the first problem, and without the duplicate-id
// check, which a map of every id would make the slowest part; a sort of
// the ids' hashes then shows that a good file has no id twice. A file
// with a problem or with two equal hashes is read again row by row with
// the check on every row, which finds the problems and their places in
// file order.
func parseCases(r io.Reader, name string, p caseParse) ([]facts.Case, error) {
	cases, _, err := parsePreparedCases(r, name, p)
	return cases, err
}

// parsePreparedCases is parseCases that also returns, when the quick pass
// read the file, the write's preparation of the cases
// (clickhouse.PrepareCases), made on every core while the cases are at
// hand; its test of the ids' hashes is the quick pass's duplicate check.
func parsePreparedCases(r io.Reader, name string, p caseParse) ([]facts.Case, *clickhouse.CasePrep, error) {
	o := p.opts
	t, err := openCSV(r, name, &o.FileOptions, caseColumns(o))
	if err != nil {
		return nil, nil, err
	}
	cr := caseReader{idx: t.idx, now: p.now, digital: foldSet(o.DigitalChannels), application: foldSet(o.ApplicationValues)}
	// The dates are checked for personal numbers by pastTime.
	personal := t.idx[caseID : caseChannel+1]
	cases, passed, ok := cr.quickCases(t, p.rows)
	if ok {
		if prep := clickhouse.PrepareCases(cases); prep.Unique() {
			return cases, prep, nil
		}
	}
	cases = nil // free for the garbage collector before the careful pass makes its own
	if err := t.rewind(); err != nil {
		return nil, nil, err
	}
	cases, err = readCases(t, &cr, personal, skipRows(p.rows, passed))
	return cases, nil, err
}

// caseColumns are the columns of a cases export, by their positions in
// parseCases.
func caseColumns(o *CasesOptions) []column {
	c := o.Columns
	return []column{
		caseID:         {names: []string{"Diarienummer"}, override: c.ID, required: true},
		caseType:       {names: []string{"Ärendetyp"}, override: c.Type, required: true},
		caseKind:       {names: []string{"Ärendeslag"}, override: c.Kind},
		caseDepartment: {names: []string{"Enhet"}, override: c.Department},
		caseChannel:    {names: []string{"Kanal"}, override: c.Channel, required: true},
		caseReceived:   {names: []string{"Inkom"}, override: c.Received, required: true},
		caseDecided:    {names: []string{"Beslutad"}, override: c.Decided, required: true},
	}
}

// skipRows reports to progress the rows after the first n.
func skipRows(progress func(int), n int) func(int) {
	if progress == nil {
		return nil
	}
	return func(rows int) {
		skip := min(n, rows)
		n -= skip
		if rows > skip {
			progress(rows - skip)
		}
	}
}

// caseReader reads the fields of a case row.
type caseReader struct {
	idx                  []int
	now                  time.Time // dates after now are errors
	digital, application foldSet
}

// read reads a case from w, with every check but the one for an id
// seen before; idOK says whether the id itself is good.
func (cr *caseReader) read(w *row) (k facts.Case, idOK bool) {
	idx := cr.idx
	k.ID = w.required(idx[caseID], "case id")
	idOK = !w.bad
	k.Type = w.text(idx[caseType])
	kind := w.text(idx[caseKind])
	k.Department = w.text(idx[caseDepartment])
	k.Channel = w.text(idx[caseChannel])
	var recvClock, decClock bool
	f := w.fails
	k.Received, recvClock = w.pastTime(idx[caseReceived], cr.now)
	if j := idx[caseDecided]; !w.empty(j) {
		k.Decided, decClock = w.pastTime(j, cr.now)
		if w.fails == f {
			if msg := checkHandling(k.Received, recvClock, k.Decided, decClock); msg != "" {
				w.failf(j, "%s", msg)
			}
		}
	}
	k.Digital = cr.digital.has(k.Channel)
	k.Application = idx[caseKind] < 0 || cr.application.has(kind)
	return k, idOK
}

// readCases reads the rows of t one by one, collecting the problems, a
// case id seen on an earlier row among them.
func readCases(t *csvTable, cr *caseReader, personal []int, progress func(int)) ([]facts.Case, error) {
	idx := t.idx
	cases := make([]facts.Case, 0, t.rd.MaxRows())
	seen := make(map[string]int, t.rd.MaxRows()) // case id → line
	err := t.eachRow(progress, personal, func(w row) {
		k, idOK := cr.read(&w)
		if idOK {
			if first, dup := seen[k.ID]; dup {
				w.failf(idx[caseID], "case %s appears twice (first on line %d)", swecsv.Quote(k.ID), first)
			} else {
				seen[k.ID] = t.rd.Line()
			}
		}
		if !w.bad {
			cases = append(cases, k)
		}
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
	// A later instant is never on an earlier day: only an earlier one
	// needs the dates.
	if before && (!recvClock || !decClock) {
		ry, rm, rd := recv.Date()
		dy, dm, dd := dec.Date()
		before = dy < ry || (dy == ry && (dm < rm || (dm == rm && dd < rd)))
	}
	if before {
		return "decided " + stamp(dec, decClock) + " before it was received " + stamp(recv, recvClock)
	}
	// Ten years are more than 3650 days (3651 when 2100 is one of them,
	// less an hour when summer time begins): only a longer handling time
	// needs the calendar.
	if dec.Sub(recv) > 365*maxHandlingYears*24*time.Hour && dec.After(recv.AddDate(maxHandlingYears, 0, 0)) {
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
