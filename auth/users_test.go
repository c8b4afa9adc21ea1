package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func testHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestParseUsers(t *testing.T) {
	h := testHash(t, "correct horse battery")
	data := "# comment kept\nusers:\n" +
		"  - name: anna\n    display_name: Anna Admin\n    role: admin\n    password_hash: \"" + h + "\"\n" +
		"  - name: bo\n    role: editor\n    owners: [Kommunstyrelsen, \"IT-avdelningen\"]\n    password_hash: \"" + h + "\"\n" +
		"  - name: sso.user@kommun.se\n    role: viewer\n"
	uf, err := ParseUsers("users.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(uf.Users) != 3 {
		t.Fatalf("got %d users", len(uf.Users))
	}
	bo := uf.User("bo")
	if bo == nil || bo.Role != Editor || len(bo.Owners) != 2 || bo.Line != 7 {
		t.Fatalf("bo = %+v", bo)
	}
	if !bo.Owns("kommunstyrelsen ") || bo.Owns("Kultur") || bo.Owns("") {
		t.Error("Owns does not match owners ignoring case and space")
	}
	if got := uf.User("anna").Display(); got != "Anna Admin" {
		t.Errorf("display = %q", got)
	}
	if got := uf.User("sso.user@kommun.se").Display(); got != "sso.user@kommun.se" {
		t.Errorf("display without a display name = %q", got)
	}
}

func TestParseUsersErrors(t *testing.T) {
	h := testHash(t, "correct horse battery")
	for _, c := range []struct{ name, data, want string }{
		{"unknown key", "users:\n  - name: a\n    role: viewer\n    pasword_hash: x\n", `u.yaml:4: unknown key "pasword_hash" (did you mean "password_hash"?)`},
		{"bad role", "users:\n  - name: a\n    role: boss\n", `u.yaml:2: user a: role "boss": want viewer, editor or admin`},
		{"bad name", "users:\n  - name: Anna Svensson\n    role: viewer\n", `u.yaml:2: user name "Anna Svensson"`},
		{"no name", "users:\n  - role: viewer\n", "u.yaml:2: user entry without a name"},
		{"duplicate", "users:\n  - name: a\n    role: viewer\n  - name: a\n    role: admin\n", "u.yaml:4: user a is already defined at line 2"},
		{"bad hash", "users:\n  - name: a\n    role: viewer\n    password_hash: secret\n", "u.yaml:2: user a: password_hash is not a bcrypt hash"},
		{"duplicate key", "users:\n  - name: a\n    role: viewer\n    role: admin\n", "u.yaml:4:"},
		{"no list", "people: []\n", `u.yaml:1: unknown key "people"`},
		{"empty", "", "u.yaml: file is empty"},
		{"multiline owner", "users:\n  - name: a\n    role: editor\n    owners: [\"x\\ny\"]\n", "must be one non-empty line"},
		{"good hash, bad role", "users:\n  - name: a\n    role: x\n    password_hash: \"" + h + "\"\n", `role "x"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseUsers("u.yaml", []byte(c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestUsersFileEditKeepsComments(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.yaml")
	h := testHash(t, "correct horse battery")
	orig := "# Our users.\nusers:\n  # The administrator.\n  - name: anna\n    role: admin # full rights\n    password_hash: \"" + h + "\"\n"
	if err := os.WriteFile(path, []byte(orig), 0o640); err != nil {
		t.Fatal(err)
	}
	uf, err := LoadUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := uf.Add(User{Name: "bo", Role: Editor, Owners: []string{"IT"}, PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	if err := uf.Add(User{Name: "bo", Role: Editor}); err == nil {
		t.Error("adding bo twice worked")
	}
	if err := uf.Add(User{Name: "cy", Role: "chief"}); err == nil {
		t.Error("adding a user with an unknown role worked")
	}
	if err := uf.Update(User{Name: "anna", DisplayName: "Anna A", Role: Admin}); err != nil {
		t.Fatal(err)
	}
	h2 := testHash(t, "another long password")
	if err := uf.SetPasswordHash("bo", h2); err != nil {
		t.Fatal(err)
	}
	if err := uf.SetPasswordHash("nobody", h2); !errors.Is(err, ErrNoUser) {
		t.Errorf("SetPasswordHash(nobody) = %v", err)
	}
	if err := uf.Save(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, want := range []string{"# Our users.", "# The administrator.", "# full rights", `display_name: "Anna A"`, `owners: ["IT"]`, h2} {
		if !strings.Contains(string(data), want) {
			t.Errorf("saved file lacks %q:\n%s", want, data)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want the old 0640", fi.Mode().Perm())
	}
	again, err := LoadUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	if a := again.User("anna"); a == nil || a.PasswordHash != h || a.DisplayName != "Anna A" {
		t.Errorf("anna after update = %+v (password must stay)", a)
	}
	if err := again.Remove("anna"); err != nil {
		t.Fatal(err)
	}
	if err := again.Remove("anna"); !errors.Is(err, ErrNoUser) {
		t.Errorf("second remove = %v", err)
	}
	if err := again.Save(); err != nil {
		t.Fatal(err)
	}
	final, err := LoadUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(final.Users) != 1 || final.Users[0].Name != "bo" {
		t.Errorf("users after remove = %+v", final.Users)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestNewUsersFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.yaml")
	uf := NewUsersFile(path)
	if err := uf.Add(User{Name: "anna", Role: Admin, PasswordHash: testHash(t, "correct horse battery")}); err != nil {
		t.Fatal(err)
	}
	if err := uf.Save(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	if _, err := LoadUsers(path); err != nil {
		t.Fatal(err)
	}
}

func TestPasswords(t *testing.T) {
	for _, pw := range []string{"", "short", "ninechars", strings.Repeat("x", 73), "\xff\xfe invalid utf8"} {
		if _, err := HashPassword(pw, bcrypt.MinCost); err == nil {
			t.Errorf("HashPassword(%q) worked", pw)
		}
	}
	h, err := HashPassword("tiotecken!", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if !verify(h, "tiotecken!") || verify(h, "tiotecken?") || verify("", "") || verify(h, strings.Repeat("y", 100)) {
		t.Error("verify does not tell right from wrong")
	}
}

func TestRoles(t *testing.T) {
	if !Admin.AtLeast(Editor) || !Editor.AtLeast(Viewer) || Viewer.AtLeast(Editor) || Role("x").AtLeast(Viewer) {
		t.Error("role order is wrong")
	}
	var nobody *Identity
	if nobody.Is(Viewer) || nobody.MayEdit("IT") {
		t.Error("a nil identity has rights")
	}
	ed := &Identity{Role: Editor, Owners: []string{"IT-avdelningen"}}
	if !ed.MayEdit("", "it-avdelningen") || ed.MayEdit("Kultur") || ed.MayEdit() {
		t.Error("editor rights follow owners wrongly")
	}
	all := &Identity{Role: Editor, allEditors: true}
	if !all.MayEdit("Kultur") {
		t.Error("all_editors does not let an editor write everywhere")
	}
	if (&Identity{Role: Viewer, Owners: []string{"IT"}, allEditors: true}).MayEdit("IT") {
		t.Error("a viewer may edit")
	}
	if !(&Identity{Role: Admin}).MayEdit("anything") {
		t.Error("an admin may not edit")
	}
}
