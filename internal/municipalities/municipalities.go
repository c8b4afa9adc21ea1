// Package municipalities names Sweden's 290 municipalities by their
// kommunkod (four digits, e.g. "0120" Värmdö), from an embedded copy of the
// municipality register (municipalities.csv: kommunkod,namn,lanskod).
//
// Benchmarks (Kolada, the demo data) identify peers by kommunkod; pages show
// names.
package municipalities

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"sort"
	"strings"
)

//go:embed municipalities.csv
var registerCSV string

// Municipality is one row of the register.
type Municipality struct {
	Code   string // kommunkod, four digits
	Name   string // e.g. "Värmdö"
	County string // länskod, two digits
}

var byCode = mustParse(registerCSV)

func mustParse(s string) map[string]Municipality {
	m, err := parse(s)
	if err != nil {
		panic("municipalities: " + err.Error())
	}
	return m
}

func parse(s string) (map[string]Municipality, error) {
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = 3
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "kommunkod,namn,lanskod" {
		return nil, fmt.Errorf("municipalities.csv: header must be kommunkod,namn,lanskod")
	}
	m := make(map[string]Municipality, len(rows)-1)
	for i, row := range rows[1:] {
		code := row[0]
		if len(code) != 4 || strings.Trim(code, "0123456789") != "" || row[1] == "" {
			return nil, fmt.Errorf("municipalities.csv:%d: bad row %q", i+2, row)
		}
		if _, dup := m[code]; dup {
			return nil, fmt.Errorf("municipalities.csv:%d: kommunkod %s twice", i+2, code)
		}
		m[code] = Municipality{Code: code, Name: row[1], County: row[2]}
	}
	return m, nil
}

// Lookup returns the municipality with the kommunkod code. A code given
// without its leading zero ("120") is accepted too.
func Lookup(code string) (Municipality, bool) {
	code = strings.TrimSpace(code)
	if len(code) == 3 {
		code = "0" + code
	}
	m, ok := byCode[code]
	return m, ok
}

// Name returns the municipality's name, or "" for a code not in the register.
func Name(code string) string {
	m, _ := Lookup(code)
	return m.Name
}

// All returns every municipality, ordered by kommunkod.
func All() []Municipality {
	out := make([]Municipality, 0, len(byCode))
	for _, m := range byCode {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}
