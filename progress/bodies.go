package progress

import (
	"fmt"

	"github.com/malbild/malbild/strategy"
)

// BodyCount is the completion of a goal's or a report's body reports:
// "2 av 3 ansvariga har rapporterat".
type BodyCount struct {
	Reported, Total int
}

// Text says the count in lang.
func (c BodyCount) Text(lang string) string {
	if lang == "en" {
		return fmt.Sprintf("%d of %d bodies have reported", c.Reported, c.Total)
	}
	return fmt.Sprintf("%d av %d ansvariga har rapporterat", c.Reported, c.Total)
}

// BodyCompletion is how many of goal g's responsible bodies have reported
// (reported says whether a body, by id, has): the one completion figure
// the follow-up's period report and the dashboards' /uppfoljning show.
func BodyCompletion(g *strategy.Goal, reported func(body string) bool) BodyCount {
	var c BodyCount
	for _, b := range g.Bodies {
		c.Total++
		if reported(b.ID) {
			c.Reported++
		}
	}
	return c
}
