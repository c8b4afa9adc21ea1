package dashboards

import (
	"time"

	"github.com/malbild/malbild/strategy"
)

// Numbers and values are formatted by progress.FormatNumber and
// progress.FormatValue; dates are ISO dates, the Swedish norm.

// formatDate writes a date as 2025-03-31 in Europe/Stockholm.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.In(strategy.Stockholm).Format("2006-01-02")
}

// formatDateTime writes a time as 2025-03-31 14:02 in Europe/Stockholm.
func formatDateTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.In(strategy.Stockholm).Format("2006-01-02 15:04")
}
