package dashboards

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/malbild/malbild/strategy"
)

// An ended strategy (2023–2024, seen in June 2025): / and /ledning show
// its lifecycle and that it has ended, and /ledning's period picker offers
// only the strategy's own report periods and its follow-up after the end
// (the full year 2024), never 2025's.
func TestLifecycleOnGlancePages(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{hierarchyStrategy(t)}, openInternal)
	lifecycle := []string{"Antagen 2012 av kommunfullmäktige.", "Gäller 2023-01-01 – 2024-12-31.", "Ansvarig: IT-chefen.",
		"Strategiperioden är slut (2024-12-31)."}
	for _, path := range []string{"/", "/ledning"} {
		code, _, body := e.get(path)
		if code != http.StatusOK {
			t.Fatalf("%s = %d\n%s", path, code, body)
		}
		mustContain(t, path, body, lifecycle...)
	}

	_, _, body := e.get("/ledning")
	sel := regexp.MustCompile(`(?s)<select id="period" name="period">(.*?)</select>`).FindStringSubmatch(body)
	if sel == nil {
		t.Fatal("/ledning has no period picker")
	}
	var got []string
	for _, m := range regexp.MustCompile(`<option value="([^"]+)"`).FindAllStringSubmatch(sel[1], -1) {
		got = append(got, m[1])
	}
	want := []string{"2024", "2024-T2", "2024-T1", "2023", "2023-T2", "2023-T1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("period picker = %v, want %v", got, want)
	}
	if !strings.Contains(sel[1], `<option value="2024" selected>`) {
		t.Errorf("the picker does not open on the follow-up after the end (2024):\n%s", sel[1])
	}
	if code, _, _ := e.get("/ledning?period=2024-T1"); code != http.StatusOK {
		t.Errorf("/ledning?period=2024-T1 = %d, want 200", code)
	}
}
