package followup

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/internal/browsertest"
	"github.com/malbild/malbild/internal/oidctest"
)

// newOIDCEnv is the test environment with sign-in through a provider
// running on loopback, next to the users file.
func newOIDCEnv(t *testing.T) (*env, *oidctest.Provider) { return newOIDCEnvWith(t, nil) }

// newOIDCEnvWith is newOIDCEnv with the auth options changed by mod.
func newOIDCEnvWith(t *testing.T, mod func(o *auth.Options)) (*env, *oidctest.Provider) {
	t.Helper()
	idp := oidctest.Start(t, func() time.Time { return testNow })
	e := newEnvAuth(t, nil, func(o *auth.Options, base string) {
		o.OIDC = &auth.OIDCOptions{Issuer: idp.Issuer(), ClientID: idp.ClientID(), ClientSecret: idp.ClientSecret(),
			RedirectURL: base + OIDCCallbackPath, PostLogoutURL: base + "/", DisplayName: "Exempelstads konto",
			Scopes: []string{"openid", "profile", "email", "groups"},
			Groups: []auth.OIDCGroup{
				{Group: "malbild-admin", Role: auth.Admin},
				{Group: "it-redaktorer", Role: auth.Editor, Owners: []string{"IT-avdelningen"}},
			}}
		if mod != nil {
			mod(o)
		}
	})
	return e, idp
}

func staff(name string, groups ...string) *oidctest.User {
	return &oidctest.User{Subject: "sub-" + name, Username: name + "@exempelstad.se", Name: strings.ToUpper(name[:1]) + name[1:] + " Exempel", Groups: groups}
}

// TestBrowserOIDC signs in through the identity provider in headless
// Chromium: the sign-in page offers the provider and the password form,
// an editor from the provider works on the pages their group gives them,
// an admin sees them on the users page and in the audit trail, someone in
// no listed group is turned away, and signing out goes through the
// provider's end-session endpoint.
func TestBrowserOIDC(t *testing.T) {
	e, idp := newOIDCEnv(t)
	ctx := browsertest.Start(t)
	base := e.srv.URL
	oidcButton := chromedp.CSS(`.fu-oidc a.fu-button`)

	browsertest.Navigate(t, ctx, base+"/uppfoljning/rapport/2025-T1", chromedp.WaitVisible(oidcButton), chromedp.WaitVisible(chromedp.ID("namn")))
	if text := browsertest.Eval[string](t, ctx, `document.querySelector("main").innerText`); !strings.Contains(text, "Logga in med Exempelstads konto") {
		t.Errorf("sign-in page: %q", text)
	}
	browsertest.CheckAxe(t, ctx, "sign-in page with a provider")
	browsertest.CheckPage(t, ctx, "sign-in page with a provider")
	browsertest.Navigate(t, ctx, base+"/logga-in?lang=en", chromedp.WaitVisible(oidcButton))
	browsertest.CheckAxe(t, ctx, "English sign-in page with a provider")
	browsertest.Navigate(t, ctx, base+"/uppfoljning/rapport/2025-T1", chromedp.WaitVisible(oidcButton))

	// An editor through the provider lands where they were going.
	idp.Queue(staff("dana", "alla-anstallda", "it-redaktorer"))
	browsertest.Do(t, ctx, "signing in through the provider",
		chromedp.Click(oidcButton),
		chromedp.WaitVisible(chromedp.CSS(`.fu-bar`)),
	)
	if loc := browsertest.Run(t, ctx, "reading the location", chromedp.Location()); loc != base+"/uppfoljning/rapport/2025-T1" {
		t.Fatalf("after sign-in at %s", loc)
	}
	if bar := browsertest.Eval[string](t, ctx, `document.querySelector(".fu-bar").innerText`); !strings.Contains(bar, "Dana Exempel") {
		t.Errorf("bar %q does not name the user", bar)
	}
	browsertest.CheckPage(t, ctx, "work list of a provider's editor")
	// Their group makes them an editor for IT-avdelningen: the indicator
	// it owns has a form, the goal Kommunstyrelsen owns has none.
	browsertest.Navigate(t, ctx, base+"/uppfoljning/indikator/andel-digitala/2025-T1", chromedp.WaitVisible(chromedp.ID("kommentar")))
	browsertest.Navigate(t, ctx, base+"/uppfoljning/mal/ansokningar/2025-T1", chromedp.WaitReady(chromedp.CSS("main")))
	if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("#kommentar").length`); n != 0 {
		t.Error("an editor for IT-avdelningen may write for Kommunstyrelsen's goal")
	}

	// Signing out ends the session here and at the provider.
	// The sign-out page moves on to the provider by itself (Refresh); the
	// provider sends the browser back to the start page.
	browsertest.Do(t, ctx, "signing out",
		chromedp.Click(chromedp.CSS(`form.fu-logout button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form.fu-logout`)),
		chromedp.WaitNotPresent(chromedp.CSS(`a[href*="id_token_hint"]`)),
	)
	calls := idp.EndSessionCalls()
	if len(calls) != 1 || calls[0].Get("id_token_hint") == "" || calls[0].Get("post_logout_redirect_uri") != base+"/" {
		t.Fatalf("end-session calls %v", calls)
	}
	if loc := browsertest.Run(t, ctx, "reading the location", chromedp.Location()); loc != base+"/" {
		t.Errorf("after sign-out at %s, want the start page", loc)
	}
	browsertest.Navigate(t, ctx, base+"/uppfoljning/rapport", chromedp.WaitVisible(oidcButton))

	// Someone in no listed group is turned away, in plain words.
	idp.Queue(staff("olle", "alla-anstallda"))
	browsertest.Do(t, ctx, "signing in without a listed group",
		chromedp.Click(oidcButton),
		chromedp.WaitVisible(chromedp.CSS(`.fu-problems`)),
	)
	if text := browsertest.Eval[string](t, ctx, `document.querySelector(".fu-problems").innerText`); !strings.Contains(text, "inte med i någon grupp som ger tillgång") {
		t.Errorf("refusal: %q", text)
	}
	browsertest.CheckAxe(t, ctx, "refused sign-in")
	browsertest.CheckPage(t, ctx, "refused sign-in")

	// An admin through the provider sees both on the users page.
	idp.Queue(staff("eva", "malbild-admin"))
	browsertest.Do(t, ctx, "signing in as an admin through the provider",
		chromedp.Click(oidcButton),
		chromedp.WaitVisible(chromedp.CSS(`.fu-bar`)),
	)
	browsertest.Navigate(t, ctx, base+"/uppfoljning/anvandare", chromedp.WaitReady(chromedp.CSS("main")))
	text := browsertest.Eval[string](t, ctx, `document.querySelector("main").innerText`)
	for _, want := range []string{"Användare från Exempelstads konto", "dana@exempelstad.se", "Dana Exempel", "IT-avdelningen", "it-redaktorer", "eva@exempelstad.se", "administratör"} {
		if !strings.Contains(text, want) {
			t.Errorf("users page lacks %q:\n%s", want, text)
		}
	}
	browsertest.CheckAxe(t, ctx, "users page with provider users")
	browsertest.CheckPage(t, ctx, "users page with provider users")

	var trail []string
	for _, a := range e.audit() {
		trail = append(trail, a.Action+":"+a.Actor)
	}
	if got, want := strings.Join(trail, " "), "login:dana@exempelstad.se logout:dana@exempelstad.se login.failed:olle@exempelstad.se login:eva@exempelstad.se"; !strings.Contains(got, want) {
		t.Errorf("audit trail %q, want %q", got, want)
	}
}

// TestOIDCPages checks the sign-in page's offer and the answers to
// refused sign-ins over plain HTTP, in Swedish and English.
func TestOIDCPages(t *testing.T) {
	e, idp := newOIDCEnv(t)
	c := e.client("127.0.0.1")
	a := c.get("/logga-in?lang=en")
	mustContain(t, "English sign-in page", a.body, "Sign in with Exempelstads konto", `href="/logga-in/oidc?lang=en&amp;next=`, `id="losenord"`)

	// The provider says no; the answer comes back in the page's language.
	start := c.get("/logga-in/oidc?next=%2Fuppfoljning%2Frapport%3Flang%3Den")
	if start.code != 303 || !strings.HasPrefix(start.hdr.Get("Location"), idp.Issuer()) {
		t.Fatalf("start: %d %s", start.code, start.hdr.Get("Location"))
	}
	loc := start.hdr.Get("Location")
	state := loc[strings.Index(loc, "state=")+len("state="):]
	if i := strings.IndexByte(state, '&'); i >= 0 {
		state = state[:i]
	}
	denied := c.get(OIDCCallbackPath + "?error=access_denied&state=" + state)
	if denied.code != 403 {
		t.Fatalf("denied: %d", denied.code)
	}
	mustContain(t, "denied", denied.body, "The sign-in was cancelled at the identity provider.")

	// A callback nobody started.
	stray := e.client("127.0.0.1").get(OIDCCallbackPath + "?code=x&state=y")
	if stray.code != 400 {
		t.Fatalf("stray callback: %d", stray.code)
	}
	mustContain(t, "stray callback", stray.body, "Inloggningen har gått ut eller startades i en annan webbläsare.")
	for _, a := range e.audit() {
		if a.Action != "login.failed" {
			t.Errorf("audit %+v", a)
		}
	}
}

// TestOIDCSignOutPage signs in through the provider over plain HTTP and
// signs out: the answer ends the session and moves on to the provider's
// end-session endpoint.
func TestOIDCSignOutPage(t *testing.T) {
	e, idp := newOIDCEnv(t)
	c := e.client("127.0.0.1")
	idp.Queue(staff("eva", "malbild-admin"))
	to := e.srv.URL + "/logga-in/oidc?next=%2Fuppfoljning%2Frapport"
	for i := 0; i < 5 && to != ""; i++ { // through the provider and back
		resp, err := c.hc.Get(to)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		to = resp.Header.Get("Location")
		if strings.HasPrefix(to, "/") {
			to = e.srv.URL + to
		}
	}
	a := c.get("/uppfoljning/rapport")
	if a.code != 200 || c.csrf == "" {
		t.Fatalf("signed in through the provider: %d", a.code)
	}
	mustContain(t, "work list", a.body, "Eva Exempel", `class="fu-logout"`)
	out := c.post("/logga-ut", url.Values{})
	refresh := out.hdr.Get("Refresh")
	if out.code != 200 || !strings.HasPrefix(refresh, "0; url="+idp.Issuer()+"/logout?") || !strings.Contains(refresh, "id_token_hint=") {
		t.Fatalf("sign-out: %d, Refresh %q", out.code, refresh)
	}
	mustContain(t, "sign-out page", out.body, "Du är utloggad från Målbild", "Logga ut från Exempelstads konto")
	mustNotContain(t, "sign-out page", out.body, `class="fu-logout"`)
	if a := c.get("/uppfoljning/rapport"); a.code != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", a.code)
	}
}

// TestOIDCOnly: with the provider as the only way in, the sign-in page
// has no password form.
func TestOIDCOnly(t *testing.T) {
	e, _ := newOIDCEnvWith(t, func(o *auth.Options) { o.UsersFile, o.TrustedHeader, o.Proxies = "", "", nil })
	body := e.client("127.0.0.1").get("/logga-in").body
	mustContain(t, "sign-in page", body, "Logga in med Exempelstads konto")
	mustNotContain(t, "sign-in page", body, `id="losenord"`, "Logga in med användarnamn och lösenord")
}

// TestOIDCNotConfigured: without a provider the routes do not exist and
// the sign-in page is as before.
func TestOIDCNotConfigured(t *testing.T) {
	e := newEnv(t)
	c := e.client("127.0.0.1")
	if a := c.get("/logga-in/oidc"); a.code != 404 {
		t.Errorf("/logga-in/oidc without a provider: %d", a.code)
	}
	mustNotContain(t, "sign-in page", c.get("/logga-in").body, "/logga-in/oidc")
}
