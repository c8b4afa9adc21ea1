package demo

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/malbild/malbild/strategy"
)

const seriesHeader = "indikator;period;värde;dimension;kommentar"

// seriesSpec is one series in serier.csv.
type seriesSpec struct {
	name  string                  // value of the indikator column
	value func(t float64) float64 // expected value at t
	kind  strategy.PeriodKind
	lo    float64
	hi    float64
	// dims, when set, adds one row per department besides the total.
	dims []string
	// noise is the standard deviation of the period-to-period noise.
	noise float64
	first time.Time // the first period is the one containing first
}

// periods lists the periods of kind from the one containing from to the
// last one that has ended by now.
func periods(kind strategy.PeriodKind, from, now time.Time) []strategy.Period {
	var out []strategy.Period
	for p := strategy.PeriodOf(kind, from); !p.End().After(now); p = p.Next() {
		out = append(out, p)
	}
	return out
}

// writeSeriesFile writes every series into one file (UTF-8 with BOM, ';',
// decimal comma, CRLF, as Excel saves "CSV UTF-8").
func writeSeriesFile(file string, specs []seriesSpec, seed int64, now time.Time) (int, error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return 0, err
	}
	var b strings.Builder
	b.WriteString("\ufeff" + seriesHeader + "\r\n")
	rows := 0
	for _, s := range specs {
		ps := periods(s.kind, s.first, now)
		for i, p := range ps {
			// A period's value describes its last day, as the progress
			// engine reads it.
			h := key(seed, 'v', hashString(s.name), uint64(unix(p.Start())))
			v := clamp(s.value(unix(lastDay(p)))+s.noise*normal(h), s.lo, s.hi)
			comment := ""
			switch {
			case i == 0:
				comment = "Första mätningen"
			case i == len(ps)-1:
				comment = "Preliminär uppgift"
			}
			writeSeriesRow(&b, s.name, p, v, "", comment)
			rows++
			for j, d := range s.dims {
				off := 0.2 * (unit(key(seed, 'd', hashString(s.name), uint64(j))) - 0.5)
				dv := clamp(v*(1+off)+s.noise*normal(mix(h^uint64(j+1))), s.lo, s.hi)
				writeSeriesRow(&b, s.name, p, dv, "department="+d, "")
				rows++
			}
		}
	}
	err := writeFile(file, func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	})
	return rows, err
}

func writeSeriesRow(b *strings.Builder, name string, p strategy.Period, v float64, dim, comment string) {
	b.WriteString(csvField(name))
	b.WriteByte(';')
	b.WriteString(p.String())
	b.WriteByte(';')
	b.WriteString(decimalComma(v, 1))
	b.WriteByte(';')
	b.WriteString(csvField(dim))
	b.WriteByte(';')
	b.WriteString(csvField(comment))
	b.WriteString("\r\n")
}

// decimalComma formats v with the given decimals and a decimal comma.
func decimalComma(v float64, decimals int) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', decimals, 64), ".", ",", 1)
}

// lastDay is the last day of p at 00:00 in Stockholm.
func lastDay(p strategy.Period) time.Time { return p.End().AddDate(0, 0, -1) }
