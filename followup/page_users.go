package followup

import (
	"errors"
	"net/http"
	"strings"

	"github.com/malbild/malbild/auth"
)

type usersView struct {
	chrome
	File     string
	NoFile   bool
	AddURL   string
	Roles    []option
	Users    []userRow
	Problems []string
	// OIDC names the identity provider ("" : none); OIDCUsers signed in
	// through it since the start (page_oidc.go).
	OIDC      string
	OIDCUsers []oidcUserRow
}

type userRow struct {
	Name, DisplayName, Role, RoleLabel, Owners string
	HasPassword, Self                          bool
	Action                                     string
	Roles                                      []option
}

func (s *Service) usersView(q *req) *usersView {
	v := &usersView{chrome: s.chrome(q, "users"), File: s.auth.UsersFile(), NoFile: s.auth.UsersFile() == "", AddURL: q.url("/uppfoljning/anvandare")}
	roles := func(cur auth.Role) []option {
		var out []option
		for _, r := range auth.Roles {
			out = append(out, option{Value: string(r), Label: tr(q.lang, "role_"+string(r)), Checked: r == cur})
		}
		return out
	}
	v.Roles = roles(auth.Viewer)
	v.OIDC, v.OIDCUsers = s.auth.OIDCName(), oidcUserRows(q, s.auth.OIDCUsers())
	for _, u := range s.auth.Users() {
		v.Users = append(v.Users, userRow{Name: u.Name, DisplayName: u.DisplayName, Role: string(u.Role), RoleLabel: tr(q.lang, "role_"+string(u.Role)),
			Owners: strings.Join(u.Owners, ", "), HasPassword: u.HasPassword, Self: u.Name == q.who.Name,
			Action: q.url("/uppfoljning/anvandare/" + u.Name), Roles: roles(u.Role)})
	}
	return v
}

// serveUsers lists the users with forms to change them (admins).
func (s *Service) serveUsers(w http.ResponseWriter, r *http.Request, q *req) {
	v := s.usersView(q)
	if r.URL.Query().Get("sparat") != "" {
		v.Flash = tr(q.lang, "saved")
	}
	s.render(w, r, q, http.StatusOK, "users", tr(q.lang, "users_title"), v)
}

func splitOwners(s string) []string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// checkUserText checks the free texts of a user (name, display name,
// owners) as every other free text is checked.
func checkUserText(u *auth.User) error {
	var pr problems
	u.Name = checkText(&pr, fieldUserName, "", u.Name)
	u.DisplayName = checkText(&pr, fieldDisplayName, "", u.DisplayName)
	for i, o := range u.Owners {
		u.Owners[i] = checkText(&pr, fieldOwner, "", o)
	}
	return pr.err()
}

// changeUsers applies a change to the users file and answers: back to the
// list, or the list again with the problem (400).
func (s *Service) changeUsers(w http.ResponseWriter, r *http.Request, q *req, change func(uf *auth.UsersFile) error) {
	err := s.auth.UpdateUsers(r.Context(), q.who, q.remote, change)
	if err != nil {
		var fe *Error
		if !errors.As(err, &fe) {
			fe = refuse(http.StatusBadRequest, err.Error(), err.Error())
		}
		v := s.usersView(q)
		for _, p := range fe.Problems {
			v.Problems = append(v.Problems, p.In(q.lang))
		}
		s.render(w, r, q, fe.Status, "users", tr(q.lang, "users_title"), v)
		return
	}
	redirect(w, r, q.url("/uppfoljning/anvandare", "sparat", "1"))
}

// postUserAdd adds a user (admins).
func (s *Service) postUserAdd(w http.ResponseWriter, r *http.Request, q *req) {
	u := auth.User{Name: strings.ToLower(strings.TrimSpace(r.PostFormValue("namn"))), DisplayName: strings.TrimSpace(r.PostFormValue("visningsnamn")),
		Role: auth.Role(r.PostFormValue("roll")), Owners: splitOwners(r.PostFormValue("agare"))}
	pw := r.PostFormValue("losenord")
	s.changeUsers(w, r, q, func(uf *auth.UsersFile) error {
		if err := checkUserText(&u); err != nil {
			return err
		}
		if pw != "" {
			h, err := auth.HashPassword(pw, 0)
			if err != nil {
				return err
			}
			u.PasswordHash = h
		}
		return uf.Add(u)
	})
}

// postUserChange changes, re-passwords or removes a user (admins). An
// admin cannot remove or demote themselves, so that some admin remains.
func (s *Service) postUserChange(w http.ResponseWriter, r *http.Request, q *req) {
	name := r.PathValue("name")
	self := name == q.who.Name
	switch r.PostFormValue("atgard") {
	case "andra":
		u := auth.User{Name: name, DisplayName: strings.TrimSpace(r.PostFormValue("visningsnamn")),
			Role: auth.Role(r.PostFormValue("roll")), Owners: splitOwners(r.PostFormValue("agare"))}
		if self && u.Role != auth.Admin {
			s.fail(w, r, q, refuse(http.StatusBadRequest, "Du kan inte ta bort din egen administratörsroll.", "You cannot take away your own administrator role."))
			return
		}
		s.changeUsers(w, r, q, func(uf *auth.UsersFile) error {
			if err := checkUserText(&u); err != nil {
				return err
			}
			return uf.Update(u)
		})
	case "losenord":
		pw := r.PostFormValue("losenord")
		s.changeUsers(w, r, q, func(uf *auth.UsersFile) error {
			h, err := auth.HashPassword(pw, 0)
			if err != nil {
				return err
			}
			return uf.SetPasswordHash(name, h)
		})
	case "ta-bort":
		if self {
			s.fail(w, r, q, refuse(http.StatusBadRequest, "Du kan inte ta bort dig själv.", "You cannot remove yourself."))
			return
		}
		if r.PostFormValue("bekrafta") != "1" {
			s.fail(w, r, q, refuse(http.StatusBadRequest, "Kryssa i rutan för att bekräfta borttagningen.", "Tick the box to confirm the removal."))
			return
		}
		s.changeUsers(w, r, q, func(uf *auth.UsersFile) error { return uf.Remove(name) })
	default:
		s.fail(w, r, q, refuse(http.StatusBadRequest, "Okänd åtgärd.", "Unknown action."))
	}
}
