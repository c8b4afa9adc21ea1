// Package facts holds the raw facts collectors bring in from a
// municipality's systems, from which the built-in measures are computed.
// It depends only on the standard library and the strategy package.
//
// The JSON names of these types are part of the collectors' spool format
// (format 1 has written them since its first release, so they are the Go
// field names of that time): a Go field may be renamed, its tag may not.
// The spool's golden files (collectors/testdata/spool) check it.
package facts

import (
	"time"

	"github.com/malbild/malbild/strategy"
)

// Case is one case record from a case-management export. It carries no
// personal data.
type Case struct {
	ID          string    `json:"ID"`          // diarienummer
	Type        string    `json:"Type"`        // ärendetyp
	Department  string    `json:"Department"`  // enhet / förvaltning
	Channel     string    `json:"Channel"`     // kanal as exported
	Digital     bool      `json:"Digital"`     // received through an e-service
	Application bool      `json:"Application"` // an application (ansökan), counted by digital_share
	Received    time.Time `json:"Received"`    // inkom
	Decided     time.Time `json:"Decided"`     // beslutad; zero when not decided
}

// EService is one e-service in a catalogue snapshot.
type EService struct {
	Snapshot   time.Time `json:"Snapshot"` // date of the snapshot
	ID         string    `json:"ID"`
	Name       string    `json:"Name"`
	Category   string    `json:"Category"`
	Department string    `json:"Department"`
	URL        string    `json:"URL"`
	Integrated bool      `json:"Integrated"` // integrated with a back-office system
	EID        bool      `json:"EID"`        // requires e-ID
	Active     bool      `json:"Active"`
}

// SurveyResponse is one answer about a system in a survey export.
type SurveyResponse struct {
	Survey   string    `json:"Survey"`
	ID       string    `json:"ID"` // response id; derived from content when the export has none
	System   string    `json:"System"`
	Group    string    `json:"Group"` // respondent group
	Score    float64   `json:"Score"`
	ScaleMin int       `json:"ScaleMin"`
	ScaleMax int       `json:"ScaleMax"`
	Answered time.Time `json:"Answered"`
}

// ProbeResult is one availability check of a service.
type ProbeResult struct {
	Service  string        `json:"Service"`
	URL      string        `json:"URL"`
	Time     time.Time     `json:"Time"`
	OK       bool          `json:"OK"`
	Status   int           `json:"Status"`
	Duration time.Duration `json:"Duration"`
	Error    string        `json:"Error"`
}

// MaintenanceWindow is a planned maintenance window for a service.
type MaintenanceWindow struct {
	Service string    `json:"Service"`
	Start   time.Time `json:"Start"`
	End     time.Time `json:"End"`
	Note    string    `json:"Note"`
}

// BenchmarkValue is an external key figure, e.g. from Kolada.
type BenchmarkValue struct {
	Source       string   `json:"Source"` // "kolada"
	KPI          string   `json:"KPI"`
	Municipality string   `json:"Municipality"` // four-digit code, or a group id
	Year         int      `json:"Year"`
	Gender       string   `json:"Gender"` // T, K, M
	Value        *float64 `json:"Value"`
	Status       string   `json:"Status"`
	Deleted      bool     `json:"Deleted"`
}

// Batch is what a collector writes in one go: every row of one file or one
// upstream answer. A batch is validated whole before any of it is written;
// Version orders it against earlier imports of the same rows.
type Batch struct {
	Tenant    string `json:"Tenant"`
	Collector string `json:"Collector"`
	Source    string `json:"Source"` // file name or URL the rows came from
	Version   uint64 `json:"Version"`

	Cases        []Case                 `json:"Cases"`
	EServices    []EService             `json:"EServices"`
	Responses    []SurveyResponse       `json:"Responses"`
	Probes       []ProbeResult          `json:"Probes"`
	Maintenance  []MaintenanceWindow    `json:"Maintenance"`
	Benchmarks   []BenchmarkValue       `json:"Benchmarks"`
	Observations []strategy.Observation `json:"Observations"`
}

// Rows returns the number of rows in the batch.
func (b *Batch) Rows() int {
	return len(b.Cases) + len(b.EServices) + len(b.Responses) + len(b.Probes) +
		len(b.Maintenance) + len(b.Benchmarks) + len(b.Observations)
}

// Kind names a kind of raw facts. Each built-in measure reads one kind
// (clickhouse.Measures), and a batch with rows of a kind makes the
// measures reading it stale.
type Kind string

// The kinds of raw facts the built-in measures read.
const (
	KindCases     Kind = "cases"     // Cases
	KindEServices Kind = "eservices" // EServices
	KindSurvey    Kind = "survey"    // Responses
	KindProbes    Kind = "probes"    // Probes and Maintenance
)

// Kinds lists the kinds of raw facts b has rows of. Benchmarks and
// observations are none: no built-in measure reads them.
func (b *Batch) Kinds() []Kind {
	var ks []Kind
	if len(b.Cases) > 0 {
		ks = append(ks, KindCases)
	}
	if len(b.EServices) > 0 {
		ks = append(ks, KindEServices)
	}
	if len(b.Responses) > 0 {
		ks = append(ks, KindSurvey)
	}
	if len(b.Probes) > 0 || len(b.Maintenance) > 0 {
		ks = append(ks, KindProbes)
	}
	return ks
}
