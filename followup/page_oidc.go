package followup

// Sign-in through the municipality's OpenID Connect provider: the button
// on the sign-in page leads to /logga-in/oidc, which sends the browser to
// the provider; the provider sends it back to /logga-in/oidc/callback.

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strings"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/strategy"
)

// OIDCPath and OIDCCallbackPath are the routes of the sign-in through the
// provider; the redirect URI to register there is base_url +
// OIDCCallbackPath.
const (
	OIDCPath         = "/logga-in/oidc"
	OIDCCallbackPath = "/logga-in/oidc/callback"
)

var oidcMessages = map[string][2]string{
	"login_oidc":          {"Logga in med %s", "Sign in with %s"},
	"login_oidc_intro":    {"Använd samma konto som du loggar in på datorn och i e-posten med.", "Use the account you sign in to your computer and e-mail with."},
	"login_local":         {"Logga in med användarnamn och lösenord", "Sign in with user name and password"},
	"oidc_unavailable":    {"Identitetsleverantören svarar inte just nu. Försök igen om en stund.", "The identity provider is not answering right now. Try again in a while."},
	"oidc_expired":        {"Inloggningen har gått ut eller startades i en annan webbläsare. Försök igen.", "The sign-in expired or was started in another browser. Try again."},
	"oidc_denied":         {"Inloggningen avbröts hos identitetsleverantören.", "The sign-in was cancelled at the identity provider."},
	"oidc_invalid":        {"Svaret från identitetsleverantören kunde inte verifieras. Försök igen; kontakta IT-supporten om det händer igen.", "The identity provider's answer could not be verified. Try again; contact IT support if it happens again."},
	"oidc_no_access":      {"Ditt konto är inte med i någon grupp som ger tillgång till Målbild. Kontakta den som administrerar Målbild i kommunen.", "Your account is in no group that gives access to Målbild. Contact whoever administers Målbild in the municipality."},
	"oidc_users":          {"Användare från %s", "Users from %s"},
	"oidc_users_intro":    {"De som loggat in via identitetsleverantören sedan Målbild startades, med den roll och de ägare som deras grupper gav vid senaste inloggningen. Ändra roller genom gruppmedlemskap hos identitetsleverantören; ändringen gäller från nästa inloggning.", "Those who signed in through the identity provider since Målbild started, with the role and owners their groups gave them at their last sign-in. Change roles through group membership at the identity provider; a change applies from the next sign-in."},
	"oidc_users_cap":      {"Användare från identitetsleverantören", "Users from the identity provider"},
	"oidc_groups":         {"Grupper", "Groups"},
	"last_login":          {"Senaste inloggning", "Last sign-in"},
	"signed_out":          {"Du är utloggad från Målbild", "You are signed out of Målbild"},
	"signed_out_idp":      {"Du skickas vidare för att logga ut även från %s.", "You are being sent on to sign out of %s as well."},
	"signed_out_continue": {"Logga ut från %s", "Sign out of %s"},
	"oidc_no_users":       {"Ingen har loggat in via identitetsleverantören sedan start.", "Nobody has signed in through the identity provider since the start."},
}

func init() { maps.Copy(messages, oidcMessages) }

// oidcStatus is the answer's status for each kind of refusal.
var oidcStatus = map[auth.OIDCErrorKind]int{
	auth.OIDCUnavailable: http.StatusBadGateway,
	auth.OIDCExpired:     http.StatusBadRequest,
	auth.OIDCDenied:      http.StatusForbidden,
	auth.OIDCInvalid:     http.StatusForbidden,
	auth.OIDCNoAccess:    http.StatusForbidden,
}

// serveOIDCStart sends the browser to the provider.
func (s *Service) serveOIDCStart(w http.ResponseWriter, r *http.Request) {
	q := s.request(r)
	if !s.auth.OIDCEnabled() {
		s.fail(w, r, q, errNotFound())
		return
	}
	next := r.URL.Query().Get("next")
	if next == "" {
		next = defaultNext(q)
	}
	to, err := s.auth.StartOIDC(w, r, next)
	if err != nil {
		s.oidcProblem(w, r, q, next, err)
		return
	}
	redirect(w, r, to)
}

// serveOIDCCallback takes the provider's answer and signs the user in.
func (s *Service) serveOIDCCallback(w http.ResponseWriter, r *http.Request) {
	q := s.request(r)
	if !s.auth.OIDCEnabled() {
		s.fail(w, r, q, errNotFound())
		return
	}
	_, next, err := s.auth.FinishOIDC(w, r)
	if err != nil {
		// The callback URL is fixed; the language travels in next.
		if u, perr := url.Parse(next); perr == nil && u.Query().Get("lang") == "en" {
			q.lang = "en"
		}
		if next == "" {
			next = defaultNext(q)
		}
		s.oidcProblem(w, r, q, next, err)
		return
	}
	redirect(w, r, next)
}

// oidcProblem shows the sign-in page again with what went wrong.
func (s *Service) oidcProblem(w http.ResponseWriter, r *http.Request, q *req, next string, err error) {
	var oe *auth.OIDCError
	if !errors.As(err, &oe) {
		s.fail(w, r, q, err)
		return
	}
	s.log.Warn("followup: sign-in through the identity provider failed", "kind", oe.Kind, "err", oe.Detail)
	v := s.loginView(w, r, q, next)
	v.Problem = tr(q.lang, "oidc_"+string(oe.Kind))
	status, ok := oidcStatus[oe.Kind]
	if !ok {
		status = http.StatusForbidden
	}
	s.render(w, r, q, status, "login", tr(q.lang, "login_title"), v)
}

type signedOutView struct {
	chrome
	Provider, EndSession string
}

// signedOut answers a sign-out of a provider's user: Målbild's session has
// ended; the page moves on to the provider's end-session endpoint with a
// Refresh header, and links there too. (A redirect would not do: the
// sign-out is a form, and form-action 'self' stops a form's redirect to
// another host.)
func (s *Service) signedOut(w http.ResponseWriter, r *http.Request, q *req, end string) {
	q.who = nil
	v := &signedOutView{chrome: s.chrome(q, ""), Provider: s.auth.OIDCName(), EndSession: end}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Refresh", "0; url="+end)
	s.render(w, r, q, http.StatusOK, "signedout", tr(q.lang, "signed_out"), v)
}

// oidcUserRow is a user from the provider on the users page.
type oidcUserRow struct {
	Name, DisplayName, RoleLabel, Owners, Groups, LastLogin string
}

func oidcUserRows(q *req, us []auth.OIDCUser) []oidcUserRow {
	var out []oidcUserRow
	for _, u := range us {
		out = append(out, oidcUserRow{Name: u.Name, DisplayName: u.DisplayName, RoleLabel: tr(q.lang, "role_"+string(u.Role)),
			Owners: strings.Join(u.Owners, ", "), Groups: strings.Join(u.Groups, ", "), LastLogin: u.LastLogin.In(strategy.Stockholm).Format("2006-01-02 15:04")})
	}
	return out
}
