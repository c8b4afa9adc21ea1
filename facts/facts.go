// Package facts holds the raw facts collectors bring in from a
// municipality's systems, from which the built-in measures are computed.
// It depends only on the standard library and the strategy package.
package facts

import (
	"time"

	"github.com/malbild/malbild/strategy"
)

// Case is one case record from a case-management export. It carries no
// personal data.
type Case struct {
	ID          string    // diarienummer
	Type        string    // ärendetyp
	Department  string    // enhet / förvaltning
	Channel     string    // kanal as exported
	Digital     bool      // received through an e-service
	Application bool      // an application (ansökan), counted by digital_share
	Received    time.Time // inkom
	Decided     time.Time // beslutad; zero when not decided
}

// EService is one e-service in a catalogue snapshot.
type EService struct {
	Snapshot   time.Time // date of the snapshot
	ID         string
	Name       string
	Category   string
	Department string
	URL        string
	Integrated bool // integrated with a back-office system
	EID        bool // requires e-ID
	Active     bool
}

// SurveyResponse is one answer about a system in a survey export.
type SurveyResponse struct {
	Survey   string
	ID       string // response id; derived from content when the export has none
	System   string
	Group    string // respondent group
	Score    float64
	ScaleMin int
	ScaleMax int
	Answered time.Time
}

// ProbeResult is one availability check of a service.
type ProbeResult struct {
	Service  string
	URL      string
	Time     time.Time
	OK       bool
	Status   int
	Duration time.Duration
	Error    string
}

// MaintenanceWindow is a planned maintenance window for a service.
type MaintenanceWindow struct {
	Service string
	Start   time.Time
	End     time.Time
	Note    string
}

// BenchmarkValue is an external key figure, e.g. from Kolada.
type BenchmarkValue struct {
	Source       string // "kolada"
	KPI          string
	Municipality string // four-digit code, or a group id
	Year         int
	Gender       string // T, K, M
	Value        *float64
	Status       string
	Deleted      bool
}

// Batch is what a collector writes in one go: every row of one file or one
// upstream answer. A batch is validated whole before any of it is written;
// Version orders it against earlier imports of the same rows.
type Batch struct {
	Tenant    string
	Collector string
	Source    string // file name or URL the rows came from
	Version   uint64

	Cases        []Case
	EServices    []EService
	Responses    []SurveyResponse
	Probes       []ProbeResult
	Maintenance  []MaintenanceWindow
	Benchmarks   []BenchmarkValue
	Observations []strategy.Observation
}

// Rows returns the number of rows in the batch.
func (b *Batch) Rows() int {
	return len(b.Cases) + len(b.EServices) + len(b.Responses) + len(b.Probes) +
		len(b.Maintenance) + len(b.Benchmarks) + len(b.Observations)
}
