// Package municipalities is the register of Sweden's 290 municipalities:
// SCB's four-digit kommunkod, the short name and the county code, embedded
// from municipalities.csv (a copy of shared/data/municipalities.csv, CC0
// "swedish-geodata", codes as of 2024).
package municipalities

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"strings"
	"sync"
)

//go:embed municipalities.csv
var data string

// Municipality is one row of the register.
type Municipality struct {
	Code   string // "0120"
	Name   string // short name: "Värmdö", "Stockholm", "Gotland"
	County string // länskod, the code's first two digits: "01"
}

var (
	once   sync.Once
	all    []Municipality
	byCode map[string]int
)

func load() {
	rows, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		panic(fmt.Sprintf("municipalities: embedded register: %v", err)) // fixed at build time, tested
	}
	byCode = map[string]int{}
	for i, r := range rows {
		if i == 0 {
			continue // kommunkod,namn,lanskod
		}
		if len(r) != 3 {
			panic(fmt.Sprintf("municipalities: embedded register line %d: %d fields, want 3", i+1, len(r)))
		}
		byCode[r[0]] = len(all)
		all = append(all, Municipality{Code: r[0], Name: r[1], County: r[2]})
	}
}

// Name is the short name of the municipality with kommunkod code.
func Name(code string) (string, bool) {
	once.Do(load)
	i, ok := byCode[code]
	if !ok {
		return "", false
	}
	return all[i].Name, true
}

// Lookup is the register's row for code.
func Lookup(code string) (Municipality, bool) {
	once.Do(load)
	i, ok := byCode[code]
	if !ok {
		return Municipality{}, false
	}
	return all[i], true
}

// All lists every municipality in code order (a copy).
func All() []Municipality {
	once.Do(load)
	return append([]Municipality(nil), all...)
}
