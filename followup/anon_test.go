package followup

import (
	"net/http"
	"strings"
	"testing"
)

// What an anonymous visitor can learn, through the real sign-in wiring
// (issue 11, item 8).

// TestAnonymousVisitorLearnsNoIDs: a browser that is not signed in gets
// the same answer for an internal indicator or goal as for an id that
// does not exist — on the dashboards (404, not a sign-in redirect) and
// in the follow-up workflow (a sign-in redirect for every id alike).
func TestAnonymousVisitorLearnsNoIDs(t *testing.T) {
	e := newEnv(t)
	anon := e.client("127.0.0.1")
	const unknown = "finns-inte-alls"
	for _, pat := range []string{"/indikator/%s", "/api/v1/indicators/%s", "/api/v1/observations?indicator=%s",
		"/uppfoljning/indikator/%s/2025-T1", "/uppfoljning/mal/%s/2025-T1"} {
		id := "intern-kostnad"
		if strings.Contains(pat, "/mal/") {
			id = "intern-effektivitet"
		}
		a := anon.get(strings.Replace(pat, "%s", id, 1))
		b := anon.get(strings.Replace(pat, "%s", unknown, 1))
		if a.code != b.code {
			t.Errorf("%s: internal %d, unknown %d", pat, a.code, b.code)
		}
		if strings.HasPrefix(pat, "/indikator/") && a.code != http.StatusNotFound {
			t.Errorf("%s: internal %d, want 404", pat, a.code)
		}
		norm := func(s, id string) string { return strings.ReplaceAll(s, id, "⟨id⟩") }
		if norm(a.hdr.Get("Location"), id) != norm(b.hdr.Get("Location"), unknown) {
			t.Errorf("%s: Location %q, unknown %q", pat, a.hdr.Get("Location"), b.hdr.Get("Location"))
		}
		if norm(a.body, id) != norm(b.body, unknown) {
			t.Errorf("%s: the body differs from an unknown id's", pat)
		}
		mustNotContain(t, pat, a.body, secretGoal, secretInd)
	}
	// Signed in, the internal indicator's page opens.
	if a := e.login("vera").get("/indikator/intern-kostnad"); a.code != http.StatusOK || !strings.Contains(a.body, secretInd) {
		t.Errorf("viewer: /indikator/intern-kostnad = %d", a.code)
	}
}

// TestNoCookieUntilSignIn: no page an anonymous browser reaches sets a
// cookie, except the sign-in form (its token) — as the footer says.
func TestNoCookieUntilSignIn(t *testing.T) {
	e := newEnv(t)
	anon := e.client("127.0.0.1")
	for _, p := range []string{"/", "/?lang=en", "/ledning", "/uppfoljning", "/indikator/andel-digitala", "/indikator/intern-kostnad",
		"/tillganglighet", "/api/v1/", "/api/v1/observations.csv", "/metrics", "/-/ready", "/finns-inte",
		"/uppfoljning/rapport", "/uppfoljning/rapport/2025-T1", "/uppfoljning/indikator/andel-digitala/2025-T1",
		"/uppfoljning/mal/ansokningar/2025-T1", "/uppfoljning/uppladdning", "/uppfoljning/logg", "/uppfoljning/anvandare"} {
		a := anon.get(p)
		if c := a.hdr.Values("Set-Cookie"); len(c) > 0 {
			t.Errorf("anonymous GET %s (%d) sets a cookie: %q", p, a.code, c)
		}
		footer := "Kakor används bara när du loggar in."
		if strings.Contains(p, "lang=en") {
			footer = "Cookies are used only when you sign in."
		}
		if a.code != http.StatusSeeOther && strings.Contains(a.hdr.Get("Content-Type"), "text/html") && !strings.Contains(a.body, footer) {
			t.Errorf("anonymous GET %s (%d): the footer does not say that only signing in sets a cookie", p, a.code)
		}
	}
	// Signing in is what sets one: the form's token, then the session.
	if a := anon.get("/logga-in"); len(a.hdr.Values("Set-Cookie")) == 0 {
		t.Error("the sign-in form sets no token cookie")
	}
}
