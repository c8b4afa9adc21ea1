package strategy

import "fmt"

// MeasureSpec is what the strategy format needs to know of a built-in
// measure, a KPI Målbild computes in ClickHouse from raw facts: its name,
// unit and parameters, and its title for the pages. The measures
// themselves (facts, parameters, SQL and documentation) are defined in one
// place, the registry in package clickhouse (clickhouse.Measures), which
// registers each measure here when it is loaded; a program that reads
// strategies with measures imports that package.
type MeasureSpec struct {
	Name   string
	Unit   Unit
	Params []string // parameters an indicator may set
	Title  Text
}

// Measures lists the registered built-in measures by name. Fill it with
// RegisterMeasure, never directly.
var Measures = map[string]MeasureSpec{}

// RegisterMeasure makes m known to the strategy parser. Registering a
// name twice, or a measure without name, unit or title, is a programming
// error and panics (like database/sql.Register).
func RegisterMeasure(m MeasureSpec) {
	if m.Name == "" || m.Unit == "" || m.Title.SV == "" || m.Title.EN == "" {
		panic(fmt.Sprintf("strategy: measure %q registered without name, unit or title", m.Name))
	}
	if _, dup := Measures[m.Name]; dup {
		panic("strategy: measure " + m.Name + " registered twice")
	}
	Measures[m.Name] = m
}
