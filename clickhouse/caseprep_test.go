package clickhouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// Property: PrepareCases gives the days BatchDays gives and, with any
// stored versions (older, newer, on other days), preparedDeltas gives
// the deltas caseDeltas gives; in one part and in two (≥ 2¹⁶ cases).
func TestPrepareCasesEqualsUnprepared(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 4))
	base := time.Date(1999, 11, 1, 0, 0, 0, 0, strategy.Stockholm)
	random := func(id string) facts.Case {
		c := facts.Case{ID: id, Type: []string{"A", "B", "C"}[r.IntN(3)], Department: []string{"Bygg", "Soc", ""}[r.IntN(3)],
			Digital: r.IntN(2) == 0, Application: r.IntN(4) > 0,
			// Around year ends and summer time changes, to the minute.
			Received: base.Add(time.Duration(r.IntN(30*365*24*60)) * time.Minute)}
		if r.IntN(5) == 0 { // an equal label in another string
			c.Type, c.Department = strings.Clone(c.Type), strings.Clone(c.Department)
		}
		if r.IntN(2) == 0 { // in another location: the same instant
			c.Received = c.Received.UTC()
		}
		if r.IntN(3) > 0 {
			c.Decided = c.Received.Add(time.Duration(r.IntN(70*24*60)-24*60) * time.Minute)
		}
		return c
	}
	for _, n := range []int{1, 2, 1000, 1 << 16, 1<<16 + 7} {
		cases := make([]facts.Case, n)
		for i := range cases {
			cases[i] = random(fmt.Sprintf("K%06d", i))
		}
		if n > 1<<16 { // in time order, as exports mostly are: across summer time changes
			slices.SortFunc(cases, func(a, b facts.Case) int { return a.Received.Compare(b.Received) })
		}
		prior := map[string]priorCase{}
		for i := range cases {
			if r.IntN(3) == 0 {
				o := random(cases[i].ID)
				prior[o.ID] = priorCase{caseState: stateOf(&o), version: uint64(5 + r.IntN(10))}
			}
		}
		p := PrepareCases(cases)
		if !p.Unique() || !p.matches(cases) {
			t.Fatalf("%d cases: unique %v, matches %v", n, p.Unique(), p.matches(cases))
		}
		want := BatchDays(&facts.Batch{Cases: cases})[facts.KindCases].List()
		if got := p.days.List(); !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Fatalf("%d cases: days\n%v\nwant\n%v", n, got, want)
		}
		for _, pr := range []map[string]priorCase{nil, prior} {
			if got, want := figuresText(preparedDeltas(p, cases, 10, pr)), figuresText(caseDeltas(cases, 10, pr)); got != want {
				t.Fatalf("%d cases, %d stored: prepared deltas\n%s\nwant\n%s", n, len(pr), got, want)
			}
		}
		if n >= 2 {
			dup := slices.Clone(cases)
			dup[n-1].ID = dup[0].ID
			if q := PrepareCases(dup); q.Unique() || q.matches(dup) {
				t.Fatalf("%d cases, two with one ID: unique", n)
			}
		}
		// Another slice of the same cases is not the one prepared.
		if p.matches(slices.Clone(cases)) || casePrepFor(WithCasePrep(context.Background(), p), cases[:n-1]) != nil {
			t.Fatalf("%d cases: a CasePrep matches other cases", n)
		}
	}
}
