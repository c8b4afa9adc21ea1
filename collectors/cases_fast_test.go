package collectors

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/collectors/swecsv"

	"github.com/malbild/malbild/facts"
)

func TestSameHashes(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 2047, 2048, 2049, 5000, 100000} {
		cases := make([]facts.Case, n)
		for i := range cases {
			cases[i].ID = fmt.Sprintf("BN %d", i)
		}
		if clickhouse.SameIDHashes(cases) {
			t.Fatalf("%d different ids: same hashes", n)
		}
		if n < 2 {
			continue
		}
		for _, dup := range [][2]int{{0, n - 1}, {(n - 1) / 2, (n-1)/2 + 1}, {n - 1, 0}} {
			c := append([]facts.Case(nil), cases...)
			c[dup[0]].ID = c[dup[1]].ID
			if dup[0] != dup[1] && !clickhouse.SameIDHashes(c) {
				t.Fatalf("%d ids, %d equal to %d: no same hashes", n, dup[0], dup[1])
			}
		}
	}
}

// A file whose only problem is an id twice is read again with the check
// on every row; the problems come in file order.
func TestParseCasesDuplicateOnlyAndInOrder(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("Diarienummer;Ärendetyp;Kanal;Inkom;Beslutad\n")
	for i := range 3000 {
		fmt.Fprintf(&sb, "BN %d;Bygglov;Webb;2024-01-02;2024-01-03\n", i)
	}
	sb.WriteString("BN 7;Bygglov;Webb;2024-01-02;2024-01-03\n")    // line 3002
	sb.WriteString("BN 3000;Bygglov;Webb;2024-01-05;2024-01-03\n") // line 3003
	sb.WriteString("BN 2999;Bygglov;Webb;2024-01-05;2024-01-03\n") // line 3004
	sb.WriteString("BN 3001;Bygglov;Webb;2024-01-02;2024-01-03\n") // line 3005
	var rows int
	cases, err := parseCases(strings.NewReader(sb.String()), "d.csv", caseParse{opts: defaultCaseOpts(), now: fileTestNow, rows: func(n int) { rows += n }})
	want := strings.Join([]string{
		`d.csv:3002:1: Diarienummer: case "BN 7" appears twice (first on line 9)`,
		`d.csv:3003:5: Beslutad: decided 2024-01-03 before it was received 2024-01-05`,
		`d.csv:3004:5: Beslutad: decided 2024-01-03 before it was received 2024-01-05`,
		`d.csv:3004:1: Diarienummer: case "BN 2999" appears twice (first on line 3001)`,
	}, "\n")
	if err == nil || err.Error() != want || cases != nil {
		t.Fatalf("%d cases, error:\n%v\nwant:\n%s", len(cases), err, want)
	}
	if rows != 3004 {
		t.Fatalf("progress rows = %d, want 3004 (each row once)", rows)
	}
}

// checkHandlingByCalendar is checkHandling as first written: always by
// the calendar.
func checkHandlingByCalendar(recv time.Time, recvClock bool, dec time.Time, decClock bool) string {
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

func TestCheckHandlingShortcutsAgreeWithTheCalendar(t *testing.T) {
	at := func(y int, m time.Month, d, h, mi int) time.Time {
		return time.Date(y, m, d, h, mi, 0, 0, swecsv.Stockholm)
	}
	recvs := []time.Time{
		at(2024, 3, 5, 14, 2), at(2024, 3, 5, 0, 0), at(2024, 3, 31, 1, 30), at(2024, 3, 31, 3, 30), at(2024, 10, 27, 2, 30),
		at(2024, 2, 29, 12, 0), at(2096, 3, 1, 0, 0), at(2096, 3, 31, 3, 0), at(2097, 3, 1, 23, 59), at(2015, 12, 31, 23, 59),
	}
	var offsets []time.Duration
	for _, d := range []time.Duration{0, 1, 3649, 3650, 3651, 3652, 3653} {
		for _, h := range []time.Duration{-25, -24, -23, -13, -2, -1, 0, 1, 2, 23, 24, 25} {
			offsets = append(offsets, d*24*time.Hour+h*time.Hour, -d*24*time.Hour+h*time.Hour)
		}
	}
	n := 0
	for _, recv := range recvs {
		for _, off := range offsets {
			for _, dec := range []time.Time{recv.Add(off), dayOf(recv.Add(off))} {
				for _, clocks := range [][2]bool{{true, true}, {true, false}, {false, true}, {false, false}} {
					got := checkHandling(recv, clocks[0], dec, clocks[1])
					want := checkHandlingByCalendar(recv, clocks[0], dec, clocks[1])
					if got != want {
						t.Fatalf("received %v (clock %v), decided %v (clock %v): %q, want %q", recv, clocks[0], dec, clocks[1], got, want)
					}
					if got != "" {
						n++
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no case with a problem among the tried")
	}
}
