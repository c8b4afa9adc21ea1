package strategy

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	const d = 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"90d", 90 * d, ""},
		{"6w", 42 * d, ""},
		{"13mo", 13 * 31 * d, ""},
		{"1y", 366 * d, ""},
		{"12h", 12 * time.Hour, ""},
		{"1y6mo", (366 + 6*31) * d, ""},
		{" 2d ", 2 * d, ""},
		{"", 0, "empty duration"},
		{"90", 0, `invalid duration "90": missing unit (use h, d, w, mo or y)`},
		{"90m", 0, `invalid duration "90m": unknown unit (use h, d, w, mo or y)`},
		{"d", 0, `invalid duration "d" (want e.g. 90d, 6w, 13mo or 1y)`},
		{"-5d", 0, `invalid duration "-5d" (want e.g. 90d, 6w, 13mo or 1y)`},
		{"0d", 0, `invalid duration "0d": must be longer than zero`},
		{"99999999999999999999d", 0, `invalid duration "99999999999999999999d": number too large`},
	} {
		got, err := ParseDuration(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseDuration(%q) error = %v, want %s", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if single := FormatDuration(got); tc.in == "90d" && single != "90d" || tc.in == "13mo" && single != "13mo" {
			t.Errorf("FormatDuration(%v) = %q", got, single)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"80", 80, true}, {"-1.5", -1.5, true}, {"1,5", 1.5, true}, {"1 600 000", 1600000, true},
		{"1_000", 1000, true}, {"−3", -3, true}, {"2e3", 2000, true}, {".5", 0.5, true},
		{"NaN", 0, false}, {"Inf", 0, false}, {"infinity", 0, false}, {".inf", 0, false}, {"0x10", 0, false},
		{"1,000.5", 0, false}, {"", 0, false}, {"abc", 0, false}, {"1e999", 0, false},
	} {
		got, err := ParseNumber(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseNumber(%q) = %v, %v", tc.in, got, err)
		}
	}
}
