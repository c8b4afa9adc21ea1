package collectors

import (
	"io"
	"time"

	"github.com/malbild/malbild/strategy"
)

// SeriesCheck says how ParseSeries checks a series file that did not come
// through a configured collector (an upload in the follow-up workflow).
type SeriesCheck struct {
	// Known is the set of the strategy's indicator ids; nil: not checked.
	Known map[string]bool
	// Units gives indicators' units for range checks (percent 0–100).
	Units map[string]strategy.Unit
	// Now: periods starting after it are errors; it is also Recorded.
	Now time.Time
}

// ParseSeries reads a file in the series_csv template (indikator;period;
// värde;dimension;kommentar, or the English headers; any delimiter and
// encoding series_csv accepts) into observations without tenant and
// version, with Source "series_csv". Any problem rejects the whole file
// with file:line:column errors. It is the parser the series_csv kind uses.
func ParseSeries(r io.Reader, name string, c SeriesCheck) ([]strategy.Observation, error) {
	return parseSeries(r, name, seriesParse{opts: &SeriesOptions{}, known: c.Known, units: c.Units, now: c.Now})
}
