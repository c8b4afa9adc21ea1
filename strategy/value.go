package strategy

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

var numberRE = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

// ParseNumber reads a finite decimal number as people write it in strategy
// files: "80", "1.5", "1,5" (decimal comma), "1 600 000" or "1_600_000"
// (digit grouping), with an optional sign; "−" (U+2212) counts as a minus.
func ParseNumber(s string) (float64, error) {
	t := normalizeMinus(strings.TrimSpace(s))
	t = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "_", "").Replace(t)
	if strings.Count(t, ",") == 1 && !strings.Contains(t, ".") {
		t = strings.Replace(t, ",", ".", 1)
	}
	if !numberRE.MatchString(t) {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return v, nil
}

func normalizeMinus(s string) string { return strings.ReplaceAll(s, "\u2212", "-") }

// specKind is the form a target value was written in.
type specKind int

const (
	specAbsolute specKind = iota // "80"
	specPercent                  // "-30%": relative to the baseline, in percent
	specDelta                    // "+30": a change in the indicator's unit
	specHalve                    // "halve"
	specDouble                   // "double"
)

// targetSpec is a parsed target value.
type targetSpec struct {
	op   string // threshold: ">", ">=", "<" or "<="; "" otherwise
	kind specKind
	n    float64 // the number written (with its sign for percent and delta)
	text string  // canonical spelling, kept in Target.Spec
}

func (t targetSpec) relative() bool { return t.kind != specAbsolute }

// parseTargetSpec reads a target value: "80" (absolute), "-30%" / "+10%"
// (relative to the baseline, in percent), "+30" / "-5" (a change in the
// indicator's unit), "halve" or "double". A leading sign always means a
// change: an absolute target is written without one.
//
// A threshold target ("> 50", "≥ 80", ">= 80", "< 5", "≤ 2") is an absolute
// value with a comparison in front.
func parseTargetSpec(s string) (targetSpec, error) {
	t := normalizeMinus(strings.TrimSpace(s))
	for _, op := range []struct{ written, op, canon string }{
		{">=", ">=", "≥"}, {"≥", ">=", "≥"}, {"<=", "<=", "≤"}, {"≤", "<=", "≤"}, {">", ">", ">"}, {"<", "<", "<"},
	} {
		body, ok := strings.CutPrefix(t, op.written)
		if !ok {
			continue
		}
		body = strings.TrimSpace(body)
		n, err := ParseNumber(body)
		if err != nil || body[0] == '+' || body[0] == '-' {
			return targetSpec{}, fmt.Errorf("invalid threshold target %q (want a comparison and a number, e.g. > 50 or ≥ 80)", s)
		}
		return targetSpec{op: op.op, kind: specAbsolute, n: n, text: op.canon + " " + formatNumber(n)}, nil
	}
	switch strings.ToLower(t) {
	case "":
		return targetSpec{}, fmt.Errorf("empty target value")
	case "halve":
		return targetSpec{kind: specHalve, text: "halve"}, nil
	case "double":
		return targetSpec{kind: specDouble, text: "double"}, nil
	}
	if body, ok := strings.CutSuffix(t, "%"); ok {
		body = strings.TrimSpace(body)
		if body == "" || (body[0] != '+' && body[0] != '-') {
			return targetSpec{}, fmt.Errorf("target %q: a percentage needs a sign (+%s%% or -%s%% relative to the baseline; %s for the absolute value)", s, body, body, body)
		}
		n, err := ParseNumber(body)
		if err != nil {
			return targetSpec{}, fmt.Errorf("invalid target %q (want e.g. 80, -30%%, +30, halve or double)", s)
		}
		return targetSpec{kind: specPercent, n: n, text: formatSigned(n) + "%"}, nil
	}
	n, err := ParseNumber(t)
	if err != nil {
		return targetSpec{}, fmt.Errorf("invalid target %q (want e.g. 80, -30%%, +30, halve or double)", s)
	}
	if t[0] == '+' || t[0] == '-' {
		return targetSpec{kind: specDelta, n: n, text: formatSigned(n)}, nil
	}
	return targetSpec{kind: specAbsolute, n: n, text: formatNumber(n)}, nil
}

// resolve returns the absolute value of the target given the baseline.
func (t targetSpec) resolve(baseline float64) float64 {
	switch t.kind {
	case specPercent:
		// (100+p)/100 rather than 1+p/100 keeps e.g. 42 * 70 / 100 exact.
		return baseline * (100 + t.n) / 100
	case specDelta:
		return baseline + t.n
	case specHalve:
		return baseline / 2
	case specDouble:
		return baseline * 2
	}
	return t.n
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func formatSigned(v float64) string {
	if v >= 0 {
		return "+" + formatNumber(v)
	}
	return formatNumber(v)
}

// cutApprox strips a marker of an approximate value ("~50", "≈ 50",
// "ca 50", "ca. 50", "cirka 50", "about 50") and reports whether there was one.
func cutApprox(s string) (string, bool) {
	t := strings.TrimSpace(s)
	lower := strings.ToLower(t)
	for _, p := range []string{"~", "≈", "ca.", "ca ", "cirka ", "about ", "approx. ", "approximately "} {
		if strings.HasPrefix(lower, p) {
			return strings.TrimSpace(t[len(p):]), true
		}
	}
	return s, false
}
