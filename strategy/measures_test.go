package strategy

import (
	"strings"
	"testing"
)

// Without the registry loaded (a program that does not import package
// clickhouse), a measure is refused with a message that says why.
func TestMeasuresNotRegistered(t *testing.T) {
	saved := Measures
	Measures = map[string]MeasureSpec{}
	t.Cleanup(func() { Measures = saved })
	_, err := Parse("s.yaml", []byte(`id: s
title: S
start: 2025-01-01
municipality: {code: "0120", name: Värmdö kommun}
areas:
  - id: a
    title: A
    goals:
      - id: g
        title: G
        indicators:
          - {id: i, title: I, unit: percent, direction: increase, source: {measure: digital_share}}
`))
	if err == nil || !strings.Contains(err.Error(), `unknown measure "digital_share" (no built-in measures are registered`) {
		t.Fatalf("parse without a registry: %v", err)
	}
}

func TestRegisterMeasureTwicePanics(t *testing.T) {
	saved := Measures
	Measures = map[string]MeasureSpec{}
	t.Cleanup(func() { Measures = saved })
	m := MeasureSpec{Name: "x", Unit: UnitCount, Title: Text{SV: "X", EN: "X"}}
	RegisterMeasure(m)
	for _, bad := range []MeasureSpec{m, {Name: "y", Unit: UnitCount}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterMeasure(%+v) did not panic", bad)
				}
			}()
			RegisterMeasure(bad)
		}()
	}
}
