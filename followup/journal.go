package followup

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/internal/durable"
)

// Outcomes of an audited write as the journal records them.
const (
	outcomePending = ""       // the write was under way, or its result is not yet checked
	outcomeDone    = "done"   // the write returned without error
	outcomeFailed  = "failed" // checked: nothing of it is in the database
)

// journalFormat is the version of a journal file's layout. Readers refuse
// a version they do not know rather than guess.
const journalFormat = 1

// journalEntry is one audited write on its way to the audit trail: the
// audit row it becomes, the outcome known so far, and what to look for in
// the database when the outcome is not known.
type journalEntry struct {
	Format  int                   `json:"format"`
	Entry   clickhouse.AuditEntry `json:"entry"`
	Outcome string                `json:"outcome,omitempty"`
	// Error is why the write failed, as the write reported it.
	Error string     `json:"error,omitempty"`
	Check writeCheck `json:"check"`
}

// writeCheck says where an audited write's data would be, so that a write
// whose outcome was not recorded can be looked up.
type writeCheck struct {
	// Kind is checkObservations, checkAssessment or checkPeriod.
	Kind   string `json:"kind"`
	Tenant string `json:"tenant"`
	// Keys are the value keys an observation write covers; Rows how
	// many observations it wrote; Version their version.
	Keys    []string `json:"keys,omitempty"`
	Rows    int      `json:"rows,omitempty"`
	Version uint64   `json:"version,string"`
	// Subject, ID and Period name an assessment (Version is its
	// revision) or a period (ID is the period, Version its revision).
	Subject string `json:"subject,omitempty"`
	ID      string `json:"id,omitempty"`
	Period  string `json:"period,omitempty"`
}

const (
	checkObservations = "observations"
	checkAssessment   = "assessment"
	checkPeriod       = "period"
)

// journal keeps the entries of audited writes until their audit row is in
// ClickHouse: one JSON file each in dir, written to a temporary file,
// synced and renamed, so that a crash leaves either the whole entry or
// none. Without a dir it keeps them in memory (lost with the process).
type journal struct {
	dir string
	mu  sync.Mutex
	mem map[uint64]journalEntry
	// last is the last sequence number handed out: entries are numbered
	// from the wall clock in nanoseconds, strictly increasing.
	last uint64
}

func openJournal(dir string) (*journal, error) {
	j := &journal{dir: dir, mem: map[uint64]journalEntry{}}
	if dir == "" {
		return j, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("audit journal: %w", err)
	}
	tmps, err := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	if err != nil {
		return nil, fmt.Errorf("audit journal: %w", err)
	}
	for _, t := range tmps {
		if err := os.Remove(t); err != nil {
			return nil, fmt.Errorf("audit journal: removing unfinished %s: %w", t, err)
		}
	}
	return j, nil
}

// seq returns a new sequence number for an entry.
func (j *journal) seq() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.last = max(j.last+1, uint64(time.Now().UnixNano()))
	return j.last
}

func (j *journal) name(seq uint64) string { return fmt.Sprintf("%020d.json", seq) }

// put stores e (keyed by e.Entry.Seq), replacing an earlier version.
func (j *journal) put(e journalEntry) error {
	e.Format = journalFormat
	if j.dir == "" {
		j.mu.Lock()
		j.mem[e.Entry.Seq] = e
		j.mu.Unlock()
		return nil
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit journal: encoding entry: %w", err)
	}
	name := j.name(e.Entry.Seq)
	if err := durable.WriteFile(j.dir, name, data); err != nil {
		return fmt.Errorf("audit journal: writing %s: %w", name, err)
	}
	return nil
}

// remove drops the entry with sequence number seq.
func (j *journal) remove(seq uint64) error {
	if j.dir == "" {
		j.mu.Lock()
		delete(j.mem, seq)
		j.mu.Unlock()
		return nil
	}
	err := os.Remove(filepath.Join(j.dir, j.name(seq)))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("audit journal: %w", err)
	}
	durable.SyncDir(j.dir)
	return nil
}

// list returns the stored entries, oldest first. A file that cannot be
// read is reported by name and left in place for a person to look at.
func (j *journal) list() ([]journalEntry, []error) {
	if j.dir == "" {
		j.mu.Lock()
		defer j.mu.Unlock()
		var out []journalEntry
		for _, e := range j.mem {
			out = append(out, e)
		}
		slices.SortFunc(out, func(a, b journalEntry) int { return compareU64(a.Entry.Seq, b.Entry.Seq) })
		return out, nil
	}
	names, err := filepath.Glob(filepath.Join(j.dir, "*.json"))
	if err != nil {
		return nil, []error{fmt.Errorf("audit journal: %w", err)}
	}
	slices.Sort(names)
	var (
		out  []journalEntry
		errs []error
	)
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			errs = append(errs, fmt.Errorf("audit journal: %w", err))
			continue
		}
		var e journalEntry
		if err := json.Unmarshal(data, &e); err != nil {
			errs = append(errs, fmt.Errorf("audit journal: %s: %w", n, err))
			continue
		}
		if e.Format != journalFormat {
			errs = append(errs, fmt.Errorf("audit journal: %s: format %d, want %d", n, e.Format, journalFormat))
			continue
		}
		if want := j.name(e.Entry.Seq); filepath.Base(n) != want {
			errs = append(errs, fmt.Errorf("audit journal: %s holds entry %s", n, strings.TrimSuffix(want, ".json")))
			continue
		}
		out = append(out, e)
	}
	return out, errs
}

func compareU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
