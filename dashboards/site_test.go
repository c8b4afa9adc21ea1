package dashboards

import (
	"strings"
	"testing"

	"github.com/malbild/malbild/strategy"
)

// TestApplySite: a reloaded base_url and accessibility contact show on the
// next answer, cached pages included.
func TestApplySite(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, func(o *Options) { o.BaseURL = "https://mal.exempelstad.se/" })
	for range 2 { // the second answer comes from the cache
		_, _, body := e.get("/")
		mustContain(t, "/ before", body, "kontakt@exempelstad.se")
	}
	_, _, body := e.get("/api/v1/dcat")
	mustContain(t, "dcat before", body, "https://mal.exempelstad.se/api/v1/", "mailto:kontakt@exempelstad.se")

	e.srv.ApplySite("https://ny.exempelstad.se/", Contact{Name: "Nya kontaktcenter", Email: "ny@exempelstad.se", Phone: "08-999 00 00"})
	for _, path := range []string{"/", "/ledning", "/tillganglighet"} {
		_, _, body := e.get(path)
		mustContain(t, path+" after", body, "ny@exempelstad.se")
		if strings.Contains(body, "kontakt@exempelstad.se") {
			t.Errorf("%s still shows the old contact", path)
		}
	}
	_, _, body = e.get("/tillganglighet")
	mustContain(t, "statement after", body, "Nya kontaktcenter")
	_, _, body = e.get("/api/v1/dcat")
	mustContain(t, "dcat after", body, "https://ny.exempelstad.se/api/v1/", "mailto:ny@exempelstad.se")
	if strings.Contains(body, "mal.exempelstad.se") {
		t.Error("the catalogue still names the old base URL")
	}
}
