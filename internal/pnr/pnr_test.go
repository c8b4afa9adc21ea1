package pnr

import (
	"strings"
	"testing"
)

// cases are the table tests; they also seed FuzzFind.
var cases = []struct {
	in   string
	want Kind
}{
	// 10 and 12 digits, with and without a separator.
	{"811218-9876", Personnummer},
	{"8112189876", Personnummer},
	{"19811218-9876", Personnummer},
	{"198112189876", Personnummer},
	{"19121212-1212", Personnummer},
	{"Handläggare Anna (19121212-1212)", Personnummer},
	{"Sökande 811218-9876 ringde", Personnummer},
	{"ab811218-9876cd", Personnummer},
	{"-8112189876", Personnummer},
	// Over 100 years old: '+'.
	{"121212+1212", Personnummer},
	{"19121212+1212", Personnummer},
	// Space, dashes and other separators people type or paste.
	{"121212 1212", Personnummer},
	{"19121212 1212", Personnummer},
	{"19121212–1212", Personnummer}, // en dash
	{"121212—1212", Personnummer},   // em dash
	{"121212−1212", Personnummer},   // minus sign
	{"121212\u00a01212", Personnummer},
	{"121212\u20111212", Personnummer},
	{"pnr:121212 1212.", Personnummer},
	// Samordningsnummer: day + 60.
	{"701063-2391", Samordningsnummer},
	{"197010632391", Samordningsnummer},
	{"121272-1219", Samordningsnummer},
	{"121272 1219", Samordningsnummer},
	// Leap days: 10 digits allow 29 February, 12 digits need a leap year.
	{"200229-1231", Personnummer},
	{"20000229-1235", Personnummer},
	{"19000229-0001", ""},
	{"190229-0001", ""}, // check digit wrong
	// Wrong check digit: an ordinary id.
	{"811218-9875", ""},
	{"8112189875", ""},
	{"198112189875", ""},
	{"121212-1213", ""},
	{"121212 1213", ""},
	{"19121212–1213", ""},
	// Not a date.
	{"811318-9876", ""}, // month 13
	{"811200-9876", ""}, // day 0
	{"810231-9876", ""}, // 31 February
	{"17121212-1212", ""},
	// Wrong shape or part of a longer number.
	{"81121898765", ""},   // 11 digits
	{"2811218-9876", ""},  // 7 digits before the separator
	{"81-12189876", ""},   // separator in the wrong place
	{"9811218-98760", ""}, // longer run
	{"12-121212-1212", ""},
	{"121212-1212-12", ""},
	{"121212 1212 12", ""},
	{"121212  1212", ""}, // two separators
	{"121212--1212", ""},
	// Dates, times, phone numbers, amounts, case numbers.
	{"2024-03-05 14:02", ""},
	{"2024-03-05", ""},
	{"20240305", ""},
	{"BN 2024/0153", ""},
	{"SN 2024/10153", ""},
	{"R-2024-00017", ""},
	{"070-123 45 67", ""},
	{"08-121 212 12", ""},
	{"+46 70 123 45 67", ""},
	{"0046701234567", ""},
	{"1 212 121 212 kr", ""},
	{"12 121 212,12 kr", ""},
	{"4 000 000", ""},
	{"1212121212,5", Personnummer}, // a number that is also a valid personnummer is refused: better safe
	{"", ""},
	{"\xff121212-1212\xfe", Personnummer},
}

func TestFind(t *testing.T) {
	for _, c := range cases {
		kind, ok := Find(c.in)
		if kind != c.want || ok != (c.want != "") {
			t.Errorf("Find(%q) = %q, %v; want %q", c.in, kind, ok, c.want)
		}
	}
}

func TestKindNames(t *testing.T) {
	if Personnummer.Swedish() != "ett personnummer" || Samordningsnummer.Swedish() != "ett samordningsnummer" ||
		!strings.Contains(Samordningsnummer.English(), "coordination number") {
		t.Error(Personnummer.Swedish(), Samordningsnummer.Swedish(), Samordningsnummer.English())
	}
}

// FuzzFind checks properties that hold for any input: Find does not
// panic; a match needs at least ten digits; padding with letters does not
// hide a match; removing every digit removes every match.
func FuzzFind(f *testing.F) {
	for _, c := range cases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, ok := Find(s)
		if ok != (kind != "") {
			t.Fatalf("Find(%q) = %q, %v", s, kind, ok)
		}
		if !ok {
			return
		}
		if strings.Count(s, "")-1 < 10 {
			t.Fatalf("Find(%q) matched fewer than ten characters", s)
		}
		digits := 0
		for i := 0; i < len(s); i++ {
			if isDigit(s[i]) {
				digits++
			}
		}
		if digits < 10 {
			t.Fatalf("Find(%q) matched with %d digits", s, digits)
		}
		if k2, ok2 := Find("x" + s + "x"); !ok2 || k2 != kind {
			t.Fatalf("Find(%q) = %q but padded %q, %v", s, kind, k2, ok2)
		}
		if _, ok := Find(strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return 'x'
			}
			return r
		}, s)); ok {
			t.Fatalf("Find(%q) still matches without digits", s)
		}
	})
}
