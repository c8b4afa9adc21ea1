package demo

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const eserviceHeader = "Id;Namn;Kategori;Förvaltning;Adress;Integrerad;E-legitimation;Status"

// eserviceModel says how the e-service catalogue develops. The catalogue
// is made of segments simulated independently: the municipality's
// services, plus one segment per category or department an indicator
// filters on (e.g. Mölndal's "Egen plattform"), whose services carry that
// category or department.
type eserviceModel struct {
	seed     int64
	host     string // host name in the services' addresses
	segments []*eserviceSegment
}

// eserviceSegment is one part of the catalogue: the number of active
// services and the shares integrated with a back-office system and
// requiring e-ID (0–1), at time t (Unix seconds).
type eserviceSegment struct {
	category   string // overrides the vocabulary's category when set
	department string // overrides the vocabulary's department when set
	prefix     string // id prefix, e.g. "ET"
	offset     int    // first catalogue entry
	active     func(t float64) float64
	integrated func(t float64) float64
	eid        func(t float64) float64
}

type eservice struct {
	id         string
	name       string
	category   string
	department string
	launched   int // quarter index
	retired    int // quarter index, -1 while active
	uInt, uEid float64
	integrated bool
	eid        bool
}

// quarterEnds lists the last day of every quarter from the quarter of
// from up to now.
func quarterEnds(from, now time.Time) []time.Time {
	var out []time.Time
	t := monthStart(from.Year(), time.Month((int(from.Month())-1)/3*3+1))
	for {
		end := t.AddDate(0, 3, -1)
		if end.After(now) {
			return out
		}
		out = append(out, end)
		t = t.AddDate(0, 3, 0)
	}
}

// snapshots simulates the catalogue quarter by quarter and calls emit with
// each snapshot's date and rows (active services and those retired within
// the last year), segment by segment.
func (em *eserviceModel) snapshots(dates []time.Time, emit func(date time.Time, rows []eservice) error) error {
	perDate := make([][]eservice, len(dates))
	for i, seg := range em.segments {
		seg.simulate(newRand(em.seed, 'e', uint64(i)), dates, func(q int, rows []*eservice) {
			for _, s := range rows {
				perDate[q] = append(perDate[q], *s)
			}
		})
	}
	for q, d := range dates {
		if err := emit(d, perDate[q]); err != nil {
			return err
		}
	}
	return nil
}

func (seg *eserviceSegment) simulate(r *rand.Rand, dates []time.Time, emit func(q int, rows []*eservice)) {
	var all []*eservice
	next := 0 // launches so far
	launch := func(q int) {
		i := seg.offset + next
		spec := eserviceCatalogue[i%len(eserviceCatalogue)]
		name := spec.Name
		if round := i / len(eserviceCatalogue); round > 0 {
			// Past the catalogue: relaunches on a new platform.
			name += fmt.Sprintf(" (version %d)", round+1)
		}
		next++
		s := &eservice{
			id: fmt.Sprintf("%s-%04d", seg.prefix, next), name: name,
			category: spec.Category, department: departments[spec.Dept].Admin,
			launched: q, retired: -1, uInt: r.Float64(), uEid: r.Float64(),
		}
		if seg.category != "" {
			s.category = seg.category
		}
		if seg.department != "" {
			s.department = seg.department
		}
		all = append(all, s)
	}
	for q, d := range dates {
		t := unix(d)
		want := max(0, int(math.Round(seg.active(t))))
		var active []*eservice
		for _, s := range all {
			if s.retired < 0 {
				active = append(active, s)
			}
		}
		// Now and then a service is retired (replaced, merged, unused).
		for _, s := range active {
			if q-s.launched >= 4 && r.Float64() < 0.012 {
				s.retired = q
			}
		}
		active = slices.DeleteFunc(active, func(s *eservice) bool { return s.retired >= 0 })
		// Shrink when the plan says so: retire the latest first.
		for len(active) > want {
			active[len(active)-1].retired = q
			active = active[:len(active)-1]
		}
		for len(active) < want {
			launch(q)
			active = append(active, all[len(all)-1])
		}
		flag(active, seg.integrated(t), seg.eid(t))
		var rows []*eservice
		for _, s := range all {
			if s.retired < 0 || q-s.retired < 4 {
				rows = append(rows, s)
			}
		}
		emit(q, rows)
	}
}

// flag marks the round(share × n) active services with the lowest draws as
// integrated and e-ID enabled, so the shares are met exactly and a service
// once integrated normally stays so.
func flag(active []*eservice, integrated, eid float64) {
	set := func(share float64, u func(*eservice) float64, f func(*eservice, bool)) {
		k := int(math.Round(clamp(share, 0, 1) * float64(len(active))))
		idx := slices.Clone(active)
		slices.SortStableFunc(idx, func(a, b *eservice) int {
			switch {
			case u(a) < u(b):
				return -1
			case u(a) > u(b):
				return 1
			}
			return 0
		})
		for i, s := range idx {
			f(s, i < k)
		}
	}
	set(integrated, func(s *eservice) float64 { return s.uInt }, func(s *eservice, v bool) { s.integrated = v })
	set(eid, func(s *eservice) float64 { return s.uEid }, func(s *eservice, v bool) { s.eid = v })
}

// writeEServiceFiles writes one snapshot file per quarter into dir (UTF-8
// with BOM, ';', CRLF, Ja/Nej, Aktiv/Avvecklad).
func (em *eserviceModel) writeEServiceFiles(dir string, from, now time.Time) ([]string, int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, err
	}
	var files []string
	total := 0
	err := em.snapshots(quarterEnds(from, now), func(d time.Time, rows []eservice) error {
		name := filepath.Join(dir, "eservices-"+d.Format("2006-01-02")+".csv")
		files = append(files, name)
		total += len(rows)
		return writeFile(name, func(w io.Writer) error {
			var b strings.Builder
			b.WriteString("\ufeff" + eserviceHeader + "\r\n")
			for _, s := range rows {
				status := "Aktiv"
				if s.retired >= 0 {
					status = "Avvecklad"
				}
				b.WriteString(strings.Join([]string{
					s.id, csvField(s.name), csvField(s.category), csvField(s.department),
					"https://" + em.host + "/" + slug(s.name), yesNo(s.integrated), yesNo(s.eid), status,
				}, ";"))
				b.WriteString("\r\n")
			}
			_, err := io.WriteString(w, b.String())
			return err
		})
	})
	return files, total, err
}

func yesNo(b bool) string {
	if b {
		return "Ja"
	}
	return "Nej"
}

// slug turns a Swedish name into a URL path segment.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'å', 'ä':
			r = 'a'
		case 'ö':
			r = 'o'
		case 'é':
			r = 'e'
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
