package collectors

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// DryRun is a Sink that prints what would be written and writes nothing:
// per batch its collector, source and, for each table it touches, the row
// count and the first rows.
type DryRun struct {
	w     io.Writer
	first int

	mu      sync.Mutex
	batches int
	rows    int
}

// NewDryRun returns a dry-run sink printing to w, showing the first n rows
// of each table in a batch (n <= 0: 3).
func NewDryRun(w io.Writer, n int) *DryRun {
	if n <= 0 {
		n = 3
	}
	return &DryRun{w: w, first: n}
}

// Write prints b.
func (d *DryRun) Write(ctx context.Context, b *facts.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "batch %s: collector %s, tenant %s, version %d, %s\n", strconv.Quote(b.Source), b.Collector, b.Tenant, b.Version, countNoun(int64(b.Rows()), "row", "rows"))
	for _, t := range batchTables(b) {
		fmt.Fprintf(&sb, "  %s: %s\n", t.name, countNoun(int64(t.n), "row", "rows"))
		for i := 0; i < t.n && i < d.first; i++ {
			fmt.Fprintf(&sb, "    %s\n", t.row(i))
		}
		if t.n > d.first {
			fmt.Fprintf(&sb, "    … %d more\n", t.n-d.first)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.batches++
	d.rows += b.Rows()
	_, err := io.WriteString(d.w, sb.String())
	return err
}

// Totals returns how many batches and rows the dry run has seen.
func (d *DryRun) Totals() (batches, rows int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.batches, d.rows
}

// dryTable is one ClickHouse table's share of a batch, for printing.
type dryTable struct {
	name string
	n    int
	row  func(i int) string
}

// batchTables lists the tables b would write to, with a printer per row.
// The names are the ClickHouse tables in schema/.
func batchTables(b *facts.Batch) []dryTable {
	var ts []dryTable
	add := func(name string, n int, row func(int) string) {
		if n > 0 {
			ts = append(ts, dryTable{name, n, row})
		}
	}
	add("cases", len(b.Cases), func(i int) string {
		c := b.Cases[i]
		return fmt.Sprintf("id=%q type=%q department=%q channel=%q digital=%t application=%t received=%s decided=%s",
			c.ID, c.Type, c.Department, c.Channel, c.Digital, c.Application, dryTime(c.Received), dryTime(c.Decided))
	})
	add("eservice_snapshots", len(b.EServices), func(i int) string {
		e := b.EServices[i]
		return fmt.Sprintf("snapshot=%s id=%q name=%q category=%q department=%q integrated=%t eid=%t active=%t",
			dryDate(e.Snapshot), e.ID, e.Name, e.Category, e.Department, e.Integrated, e.EID, e.Active)
	})
	add("survey_responses", len(b.Responses), func(i int) string {
		r := b.Responses[i]
		return fmt.Sprintf("survey=%q id=%q system=%q group=%q score=%g scale=%d–%d answered=%s",
			r.Survey, r.ID, r.System, r.Group, r.Score, r.ScaleMin, r.ScaleMax, dryDate(r.Answered))
	})
	add("probe_results", len(b.Probes), func(i int) string {
		p := b.Probes[i]
		return fmt.Sprintf("service=%q time=%s ok=%t status=%d duration=%s error=%q",
			p.Service, dryTime(p.Time), p.OK, p.Status, p.Duration, p.Error)
	})
	add("maintenance_windows", len(b.Maintenance), func(i int) string {
		m := b.Maintenance[i]
		return fmt.Sprintf("service=%q start=%s end=%s note=%q", m.Service, dryTime(m.Start), dryTime(m.End), m.Note)
	})
	add("benchmark_values", len(b.Benchmarks), func(i int) string {
		v := b.Benchmarks[i]
		val := "null"
		if v.Value != nil {
			val = strconv.FormatFloat(*v.Value, 'g', -1, 64)
		}
		return fmt.Sprintf("source=%q kpi=%q municipality=%q year=%d gender=%q value=%s deleted=%t",
			v.Source, v.KPI, v.Municipality, v.Year, v.Gender, val, v.Deleted)
	})
	add("observations", len(b.Observations), func(i int) string {
		o := b.Observations[i]
		return fmt.Sprintf("indicator=%q period=%s dimension=%s value=%g comment=%q",
			o.Indicator, o.Period, dryDimension(o.Dimension), o.Value, o.Comment)
	})
	return ts
}

func dryTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(strategy.Stockholm).Format("2006-01-02 15:04")
}

func dryDate(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(strategy.Stockholm).Format("2006-01-02")
}

func dryDimension(d strategy.Dimension) string {
	if d.IsTotal() {
		return "total"
	}
	return strconv.Quote(d.Kind + "=" + d.Value)
}
