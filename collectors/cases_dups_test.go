package collectors

import (
	"fmt"
	"strings"
	"testing"

	"github.com/malbild/malbild/facts"
)

func TestSameHashes(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 2047, 2048, 2049, 5000, 100000} {
		cases := make([]facts.Case, n)
		for i := range cases {
			cases[i].ID = fmt.Sprintf("BN %d", i)
		}
		if sameHashes(cases) {
			t.Fatalf("%d different ids: same hashes", n)
		}
		if n < 2 {
			continue
		}
		for _, dup := range [][2]int{{0, n - 1}, {(n - 1) / 2, (n-1)/2 + 1}, {n - 1, 0}} {
			c := append([]facts.Case(nil), cases...)
			c[dup[0]].ID = c[dup[1]].ID
			if dup[0] != dup[1] && !sameHashes(c) {
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
