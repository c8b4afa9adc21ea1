package main

import (
	"strings"
	"testing"

	"github.com/malbild/malbild/examples"
	"github.com/malbild/malbild/internal/municipalities"
	"github.com/malbild/malbild/strategy"
)

func TestShareAddsUp(t *testing.T) {
	for _, tc := range []struct{ total, n int }{{30_000_000, 290}, {1_000_001, 290}, {5, 290}, {0, 3}, {7, 1}} {
		sum, lo, hi := 0, tc.total, 0
		for i := range tc.n {
			s := share(tc.total, tc.n, i)
			sum += s
			lo, hi = min(lo, s), max(hi, s)
		}
		if sum != tc.total || hi-lo > 1 {
			t.Errorf("share(%d, %d): sum %d, parts %d…%d; want sum %d, parts within 1", tc.total, tc.n, sum, lo, hi, tc.total)
		}
	}
}

func TestMunicipalityStrategy(t *testing.T) {
	example, file, err := examples.Strategy("varmdo")
	if err != nil {
		t.Fatal(err)
	}
	m, ok := municipalities.Lookup("2584") // Kiruna
	if !ok {
		t.Fatal("2584 not in the register")
	}
	data, err := municipalityStrategy(example, m)
	if err != nil {
		t.Fatal(err)
	}
	st, err := strategy.ParseWith(file, data, strategy.Options{ReadFile: examples.ReadFile})
	if err != nil {
		t.Fatalf("the made strategy does not parse: %v", err)
	}
	if st.Municipality.Code != "2584" || st.Municipality.Name != m.Name || st.Municipality.Slug != "k2584" {
		t.Errorf("municipality = %+v, want code 2584, name %q, slug k2584", st.Municipality, m.Name)
	}
	if _, err := municipalityStrategy([]byte("id: x\n"), m); err == nil || !strings.Contains(err.Error(), "no municipality code, name and slug") {
		t.Errorf("a strategy without municipality: err = %v", err)
	}
}
