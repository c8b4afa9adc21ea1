package clickhouse

import (
	"context"
	"hash/maphash"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// CasePrep is what a write of cases computes from the cases alone,
// before it looks at their stored versions: whether their IDs are
// unique, the days they fall on, and what they add to the case figures.
// A collector that has the cases in memory while it still checks them
// (cases_csv) makes it with PrepareCases on every core and passes it to
// the write with WithCasePrep; WriteBatch then uses it instead of
// computing the same on one core after the look-up. A write whose cases
// are not the slice the CasePrep was made of ignores it.
//
// The additions to the figures, needed only once the cases are inserted,
// are counted in the background: while the collector hands the batch on
// and the write looks up stored versions and inserts the cases, which
// mostly waits for ClickHouse.
type CasePrep struct {
	first  *facts.Case // the cases it was made of: their first element
	n      int         // and their number
	unique bool        // no two IDs have the same 64-bit hash
	days   Days        // received and decided days (BatchDays)

	done chan struct{} // closed when adds is set
	adds *caseFigures
}

// Unique reports whether the cases' IDs are unique, as SameIDHashes
// finds: true means no two are equal.
func (p *CasePrep) Unique() bool { return p != nil && p.unique }

// PrepareCases prepares a write of cases (see CasePrep), in parts at once
// on large inputs. The cases must not change until the write.
func PrepareCases(cases []facts.Case) *CasePrep {
	p := &CasePrep{n: len(cases), done: make(chan struct{})}
	if len(cases) > 0 {
		p.first = &cases[0]
	}
	var (
		wg    sync.WaitGroup
		dup   bool
		parts []casePrepPart
	)
	wg.Go(func() { dup = SameIDHashes(cases) })
	if half := len(cases) / 2; half >= 1<<15 {
		parts = make([]casePrepPart, 2)
		wg.Go(func() { parts[1].addDays(cases[half:]) })
		parts[0].addDays(cases[:half])
	} else {
		parts = make([]casePrepPart, 1)
		parts[0].addDays(cases)
	}
	wg.Wait()
	p.unique = !dup
	if !p.unique {
		close(p.done)
		return p // of no use to a write
	}
	p.days.days = map[time.Time]bool{}
	for i := range parts {
		for d := range parts[i].days {
			p.days.days[dayTime(d)] = true
		}
	}
	go func() {
		defer close(p.done)
		var wg sync.WaitGroup
		for i := 1; i < len(parts); i++ {
			wg.Go(func() { parts[i].addFigures() })
		}
		parts[0].addFigures()
		wg.Wait()
		p.adds = parts[0].figures()
		for i := 1; i < len(parts); i++ {
			p.adds.merge(parts[i].figures())
		}
	}()
	return p
}

// figures waits for the additions to the figures and returns them.
func (p *CasePrep) figures() *caseFigures {
	<-p.done
	return p.adds
}

// matches reports whether p was made of cases.
func (p *CasePrep) matches(cases []facts.Case) bool {
	return p != nil && p.unique && p.n == len(cases) && len(cases) > 0 && p.first == &cases[0]
}

type casePrepKey struct{}

// WithCasePrep returns ctx carrying p for the write of the cases p was
// made of.
func WithCasePrep(ctx context.Context, p *CasePrep) context.Context {
	return context.WithValue(ctx, casePrepKey{}, p)
}

// casePrepFor returns the CasePrep ctx carries for cases, or nil.
func casePrepFor(ctx context.Context, cases []facts.Case) *CasePrep {
	p, _ := ctx.Value(casePrepKey{}).(*CasePrep)
	if !p.matches(cases) {
		return nil
	}
	return p
}

// casePrepPart is one part of a PrepareCases: each case's Stockholm dates
// are found once and serve its days, months and handling days, and its
// case type and department are counted by a number (the labels of a file
// are few and mostly shared strings, which a small cache of recent pairs
// finds without hashing them).
type casePrepPart struct {
	cases     []facts.Case
	recv, dec []int32            // days since 1970-01-01 (Stockholm calendar); not decided: MinInt32
	days      map[int32]struct{} // the days of the cases
	pairs     []typeDep          // by number
	byPair    map[typeDep]int32
	recent    [64]recentPair
	counts    map[monthPair]countVal
	handling  map[monthPairDays]int64
}

type typeDep struct{ typ, dep string }

type recentPair struct {
	p    typeDep
	n    int32
	used bool
}

type monthPair struct {
	m month
	p int32
}

type monthPairDays struct {
	m    month
	p    int32
	days uint32
}

// addDays finds each case's received and decided days.
func (q *casePrepPart) addDays(cases []facts.Case) {
	q.cases = cases
	q.recv = make([]int32, len(cases))
	q.dec = make([]int32, len(cases))
	q.days = map[int32]struct{}{}
	var rz, dz zoneCache
	for i := range cases {
		c := &cases[i]
		rd := rz.day(c.Received)
		q.recv[i] = rd
		q.days[rd] = struct{}{}
		q.dec[i] = math.MinInt32
		if !c.Decided.IsZero() {
			dd := dz.day(c.Decided)
			q.dec[i] = dd
			q.days[dd] = struct{}{}
		}
	}
}

// addFigures counts what the cases add to the figures, from their days.
func (q *casePrepPart) addFigures() {
	q.byPair = map[typeDep]int32{}
	q.counts = map[monthPair]countVal{}
	q.handling = map[monthPairDays]int64{}
	for i := range q.cases {
		c := &q.cases[i]
		p := q.pair(c.Type, c.Department)
		rd := q.recv[i]
		k := monthPair{monthOfDay(rd), p}
		v := q.counts[k]
		v.n++
		if c.Application {
			v.apps++
			if c.Digital {
				v.digital++
			}
		}
		q.counts[k] = v
		// Not decided, or decided before received: no handling time
		// (addHandling).
		if dd := q.dec[i]; dd != math.MinInt32 && dd >= rd {
			q.handling[monthPairDays{monthOfDay(dd), p, uint32(dd - rd)}]++
		}
	}
}

// pair is the number of a case type and department.
func (q *casePrepPart) pair(typ, dep string) int32 {
	h := len(typ)*31 + len(dep)*7
	if len(typ) > 0 {
		h += int(typ[len(typ)-1])
	}
	if len(dep) > 0 {
		h += int(dep[len(dep)-1]) * 3
	}
	r := &q.recent[h&(len(q.recent)-1)]
	if r.used && r.p.typ == typ && r.p.dep == dep {
		return r.n
	}
	k := typeDep{typ, dep}
	n, ok := q.byPair[k]
	if !ok {
		n = int32(len(q.pairs))
		q.pairs = append(q.pairs, k)
		q.byPair[k] = n
	}
	*r = recentPair{k, n, true}
	return n
}

// figures are the part's additions as caseFigures.
func (q *casePrepPart) figures() *caseFigures {
	f := &caseFigures{counts: make(map[countKey]countVal, len(q.counts)), handling: make(map[handlingKey]int64, len(q.handling))}
	for k, v := range q.counts {
		p := q.pairs[k.p]
		f.counts[countKey{k.m, p.typ, p.dep}] = v
	}
	for k, v := range q.handling {
		p := q.pairs[k.p]
		f.handling[handlingKey{k.m, p.typ, p.dep, k.days}] = v
	}
	return f
}

// zoneCache finds Stockholm calendar days by the UTC offset of the last
// time's zone (standard or summer time), which the next times mostly
// share.
type zoneCache struct {
	from, to int64 // the zone is in effect for Unix times in [from, to)
	off      int64 // its UTC offset in seconds
	set      bool
}

// day is the Stockholm calendar day of t as days since 1970-01-01, as
// Days.Add and dateValue find it: one conversion of t serves its day, its
// month and the handling days.
func (z *zoneCache) day(t time.Time) int32 {
	u := t.Unix()
	if !z.set || u < z.from || u >= z.to {
		st := t.In(strategy.Stockholm)
		_, off := st.Zone()
		start, end := st.ZoneBounds()
		z.off, z.from, z.to, z.set = int64(off), math.MinInt64, math.MaxInt64, true
		if !start.IsZero() {
			z.from = start.Unix()
		}
		if !end.IsZero() {
			z.to = end.Unix()
		}
	}
	s := u + z.off
	if s < 0 {
		s -= 86400 - 1 // floor, before 1970
	}
	return int32(s / 86400)
}

// dayTime is day d (days since 1970-01-01) at midnight Stockholm time,
// the key of Days.
func dayTime(d int32) time.Time {
	y, m, day := time.Unix(int64(d)*86400, 0).UTC().Date()
	return time.Date(y, m, day, 0, 0, 0, 0, strategy.Stockholm)
}

// monthOfDay is the month of day d (days since 1970-01-01).
func monthOfDay(d int32) month {
	y, m, _ := time.Unix(int64(d)*86400, 0).UTC().Date()
	return month(y*12 + int(m) - 1)
}

// merge adds o to f.
func (f *caseFigures) merge(o *caseFigures) {
	for k, v := range o.counts {
		x := f.counts[k]
		f.counts[k] = countVal{x.n + v.n, x.apps + v.apps, x.digital + v.digital}
	}
	for k, v := range o.handling {
		f.handling[k] += v
	}
}

// clone returns a copy of f.
func (f *caseFigures) clone() *caseFigures {
	return &caseFigures{counts: maps.Clone(f.counts), handling: maps.Clone(f.handling)}
}

// preparedDeltas is caseDeltas of the cases p was made of: p's additions,
// less, for every case with a stored version, that version or, where the
// stored version is newer (it stays), the case itself.
func preparedDeltas(p *CasePrep, cases []facts.Case, version uint64, prior map[string]priorCase) *caseFigures {
	f := p.figures().clone()
	if len(prior) == 0 {
		return f
	}
	for i := range cases {
		c := &cases[i]
		pc, ok := prior[c.ID]
		if !ok {
			continue
		}
		if pc.version > version {
			st := stateOf(c)
			f.add(&st, -1)
			continue
		}
		f.add(&pc.caseState, -1)
	}
	f.prune(nil)
	return f
}

// SameIDHashes reports whether two of the cases' ids have the same 64-bit
// hash, which two equal ids always have (and two different ones almost
// never). The hashes are radix-sorted on their top bits, enough of them
// to leave about one hash per value, and equal hashes are then neighbours
// within a run of equal top bits.
func SameIDHashes(cases []facts.Case) bool {
	if len(cases) < 2 {
		return false
	}
	seed := maphash.MakeSeed()
	h := make([]uint64, len(cases))
	hash := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			h[i] = maphash.String(seed, cases[i].ID)
		}
	}
	if half := len(h) / 2; half >= 1<<15 { // in two halves at once
		var wg sync.WaitGroup
		wg.Go(func() { hash(half, len(h)) })
		hash(0, half)
		wg.Wait()
	} else {
		hash(0, len(h))
	}
	const digit = 11 // bits sorted per pass; the counts fit in L1
	passes := 1
	for passes < 64/digit && len(h)>>(digit*passes) > 0 {
		passes++
	}
	low := 64 - digit*passes // the bits below the sorted ones
	tmp := make([]uint64, len(h))
	var count [1 << digit]int
	for p := range passes {
		shift := low + digit*p
		clear(count[:])
		for _, v := range h {
			count[v>>shift&(1<<digit-1)]++
		}
		sum := 0
		for i, n := range count {
			count[i] = sum
			sum += n
		}
		for _, v := range h {
			d := v >> shift & (1<<digit - 1)
			tmp[count[d]] = v
			count[d]++
		}
		h, tmp = tmp, h
	}
	for i := 0; i < len(h); {
		j := i + 1
		for j < len(h) && h[j]>>low == h[i]>>low {
			j++
		}
		if j-i > 1 {
			run := h[i:j]
			slices.Sort(run)
			for k := 1; k < len(run); k++ {
				if run[k] == run[k-1] {
					return true
				}
			}
		}
		i = j
	}
	return false
}

// HasCasePrep reports whether ctx carries a CasePrep that a write of
// cases would use.
func HasCasePrep(ctx context.Context, cases []facts.Case) bool {
	return casePrepFor(ctx, cases) != nil
}
