package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/config"
)

func runUser(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"user"}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUserCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.yaml")
	f := "--users-file=" + path
	t.Setenv("MALBILD_CONFIG", "")
	t.Chdir(t.TempDir()) // no malbild.yaml around

	code, out, errs := runUser(t, "anna-lösenord-1\n", "add", "anna", "--role", "admin", "--display-name", "Anna Admin", "--cost", "10", f)
	if code != 0 || !strings.Contains(out, "added anna (admin)") {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("users file: %v %v", fi, err)
	}
	code, _, errs = runUser(t, "", "add", "bo", "--role", "editor", "--owners", "IT-avdelningen, Kultur", "--no-password", f)
	if code != 0 {
		t.Fatalf("add without password: %d %s", code, errs)
	}
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"x\n", []string{"add", "anna", "--role", "admin", "--cost", "10", f}, "already exists"},
		{"ett-långt-lösenord\n", []string{"add", "cy", "--role", "chef", f}, `--role "chef"`},
		{"kort\n", []string{"add", "cy", "--role", "viewer", "--cost", "10", f}, "too short"},
		{"", []string{"add", "cy", "--role", "viewer", f}, "no password on standard input"},
		{"", []string{"add", "Cy Cyson", "--role", "viewer", f}, "user name"},
		{"ett-långt-lösenord\n", []string{"passwd", "nobody", "--cost", "10", f}, "no user nobody"},
		{"", []string{"remove", "nobody", f}, "no such user"},
		{"", []string{"add", "cy", "--role", "viewer", "--cost", "4", f}, "--cost 4"},
		{"", []string{"list"}, "no users file"},
	} {
		code, _, errs := runUser(t, c.stdin, c.args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errs, c.want)
		}
	}
	if code, _, _ := runUser(t, "", "frobnicate", f); code != 2 {
		t.Errorf("unknown subcommand: exit %d", code)
	}
	if code, _, _ := runUser(t, "", f); code != 2 {
		t.Errorf("no subcommand: exit %d", code)
	}
	uf, err := auth.LoadUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	old := uf.User("anna").PasswordHash
	if code, out, errs := runUser(t, "nytt-lösenord-22\r\n", "passwd", "anna", "--cost", "10", f); code != 0 || !strings.Contains(out, "changed the password of anna") {
		t.Fatalf("passwd: %d %s %s", code, out, errs)
	}
	uf, _ = auth.LoadUsers(path)
	if h := uf.User("anna").PasswordHash; h == old || h == "" {
		t.Error("passwd did not change the hash")
	}
	// The password never appears in the file.
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "nytt-lösenord") || strings.Contains(string(data), "anna-lösenord") {
		t.Error("a password is in the users file in clear text")
	}
	code, out, _ = runUser(t, "", "list", f)
	if code != 0 {
		t.Fatalf("list: %d", code)
	}
	for _, want := range []string{"NAME", "anna", "admin", "Anna Admin", "bo", "editor", "IT-avdelningen, Kultur", "no (trusted header only)"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := runUser(t, "", "remove", "bo", f); code != 0 || !strings.Contains(out, "removed bo") {
		t.Fatalf("remove: %d %s", code, out)
	}
	uf, _ = auth.LoadUsers(path)
	if len(uf.Users) != 1 || uf.Users[0].Name != "anna" {
		t.Errorf("users after remove: %+v", uf.Users)
	}
	// The users file can come from the environment too.
	t.Setenv("MALBILD_USERS_FILE", path)
	if code, out, _ := runUser(t, "", "list"); code != 0 || !strings.Contains(out, "anna") {
		t.Errorf("list with MALBILD_USERS_FILE: %d %s", code, out)
	}
}

func TestNewAuthenticatorFromConfig(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.yaml")
	if code, _, errs := runUser(t, "", "add", "sso", "--role", "editor", "--no-password", "--users-file="+users); code != 0 {
		t.Fatal(errs)
	}
	cfgFile := filepath.Join(dir, "malbild.yaml")
	os.WriteFile(cfgFile, []byte("auth:\n  users_file: users.yaml\n  cookie_secure: false\n  trusted_header:\n    header: X-User\n    proxies: [192.0.2.1]\n"), 0o600)
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newAuthenticator(cfg, nopAudit{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/ledning", nil)
	r.RemoteAddr = "192.0.2.1:5000"
	r.Header.Set("X-User", "sso")
	if user, ok := a.Authorizer(r); !ok || user != "sso" {
		t.Errorf("Authorizer = %q %v", user, ok)
	}
	r.RemoteAddr = "192.0.2.2:5000"
	if _, ok := a.Authorizer(r); ok {
		t.Error("the trusted header counted from a non-proxy")
	}
}

type nopAudit struct{}

func (nopAudit) WriteAudit(context.Context, clickhouse.AuditEntry) error { return nil }
