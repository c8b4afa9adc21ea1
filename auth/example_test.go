package auth

import (
	"strings"
	"testing"
)

// TestExampleUsersFile keeps examples/users.yaml valid, its comments true
// and its round trip through UsersFile lossless.
func TestExampleUsersFile(t *testing.T) {
	uf, err := LoadUsers("../examples/users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, pw := range map[string]string{"admin": "demo-admin-byt-mig", "it.enheten": "demo-it-byt-mig",
		"ledningsgruppen": "demo-ledning-byt-mig", "lasare": "demo-las-byt-mig"} {
		u := uf.User(name)
		if u == nil || !verify(u.PasswordHash, pw) {
			t.Errorf("%s: the hash does not match the password in the comment", name)
		}
	}
	if u := uf.User("samhallsbyggnad@varmdo.se"); u == nil || u.PasswordHash != "" || !u.Owns("samhällsbyggnadsförvaltningen") {
		t.Errorf("SSO user = %+v", u)
	}
	out, err := uf.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseUsers("again.yaml", out)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Users) != len(uf.Users) || !strings.Contains(string(out), "DEMO ONLY") || !strings.Contains(string(out), "# Password: demo-it-byt-mig") {
		t.Errorf("round trip lost users or comments:\n%s", out)
	}
}
