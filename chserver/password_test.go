package chserver_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/malbild/malbild/chserver"
	"github.com/malbild/malbild/clickhouse"
)

// httpQuery runs query over the HTTP interface as user:password (no
// credentials when user is "") and returns the status and body.
func httpQuery(t *testing.T, s *chserver.Server, user, password, query string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+s.HTTPAddr()+"/", strings.NewReader(query))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestDefaultUserNeedsThePassword: the managed server's only user has a
// generated password kept 0600 in a 0700 data directory; without it
// neither the native nor the HTTP port answers; Målbild connects with it;
// a restart keeps the same password and the data.
func TestDefaultUserNeedsThePassword(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "clickhouse")
	s, err := chserver.Start(ctx, chserver.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Stop() }()

	pwFile := filepath.Join(dir, chserver.PasswordFile)
	b, err := os.ReadFile(pwFile)
	if err != nil {
		t.Fatalf("password file: %v", err)
	}
	pw := strings.TrimSpace(string(b))
	if len(pw) < 32 || pw != s.Password() {
		t.Fatalf("password file holds %d characters; want the server's password of at least 32", len(pw))
	}
	if m := mode(t, pwFile); m != 0o600 {
		t.Errorf("password file mode = %04o, want 0600", m)
	}
	for _, f := range []string{dir, filepath.Join(dir, "users.xml"), filepath.Join(dir, "config.xml")} {
		if m := mode(t, f); m&0o077 != 0 {
			t.Errorf("%s mode = %04o: others may read it", f, m)
		}
	}
	users, _ := os.ReadFile(filepath.Join(dir, "users.xml"))
	if strings.Contains(string(users), pw) || strings.Contains(string(users), "<password></password>") {
		t.Errorf("users.xml holds the password or an empty one:\n%s", users)
	}

	// Without the password, or with a wrong one: refused on both ports.
	if code, body := httpQuery(t, s, "", "", "SELECT 1"); code == http.StatusOK {
		t.Errorf("HTTP without credentials answered 200: %q", body)
	}
	if code, body := httpQuery(t, s, chserver.User, "wrong", "SELECT 1"); code == http.StatusOK {
		t.Errorf("HTTP with a wrong password answered 200: %q", body)
	}
	if st, err := clickhouse.Open(ctx, "clickhouse://default@"+s.Addr()+"/malbild"); err == nil {
		st.Close()
		t.Error("native protocol without a password: connected")
	}
	if st, err := clickhouse.Open(ctx, "clickhouse://default:wrong@"+s.Addr()+"/malbild"); err == nil {
		st.Close()
		t.Error("native protocol with a wrong password: connected")
	}

	// With it: Målbild connects, migrates and writes.
	st, err := clickhouse.Open(ctx, s.DSN("malbild"))
	if err != nil {
		t.Fatalf("connecting with the server's DSN: %v", err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if code, body := httpQuery(t, s, chserver.User, pw, "CREATE TABLE malbild.kept (x UInt8) ENGINE = TinyLog"); code != http.StatusOK {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := httpQuery(t, s, chserver.User, pw, "INSERT INTO malbild.kept (x) VALUES (7)"); code != http.StatusOK {
		t.Fatalf("insert: %d %s", code, body)
	}

	// A restart keeps the password and the data, and still refuses
	// connections without it.
	s.Stop()
	n, err := s.Restart(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s = n
	if n.Password() != pw {
		t.Fatal("the password changed across a restart")
	}
	if b, _ := os.ReadFile(pwFile); strings.TrimSpace(string(b)) != pw {
		t.Fatal("the password file changed across a restart")
	}
	if code, body := httpQuery(t, n, chserver.User, pw, "SELECT x FROM malbild.kept"); code != http.StatusOK || strings.TrimSpace(body) != "7" {
		t.Errorf("after restart: %d %q, want 200 \"7\"", code, body)
	}
	if code, _ := httpQuery(t, n, "", "", "SELECT 1"); code == http.StatusOK {
		t.Error("after restart, HTTP without credentials answered 200")
	}
	if st, err := clickhouse.Open(ctx, "clickhouse://default@"+n.Addr()+"/malbild"); err == nil {
		st.Close()
		t.Error("after restart, native protocol without a password: connected")
	}
	st, err = clickhouse.Open(ctx, n.DSN("malbild"))
	if err != nil {
		t.Fatalf("after restart, connecting with the DSN: %v", err)
	}
	st.Close()
}

// TestOldDataDirGetsAPassword: a data directory from before passwords
// (users.xml with an empty password, group-readable files) is made
// private and the server needs the new password.
func TestOldDataDirGetsAPassword(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "clickhouse")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := `<?xml version="1.0"?><yandex><users><default><password></password></default></users></yandex>`
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755) // umask aside
	s, err := chserver.Start(context.Background(), chserver.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("data directory mode = %04o, want 0700", m)
	}
	if m := mode(t, filepath.Join(dir, "users.xml")); m != 0o600 {
		t.Errorf("users.xml mode = %04o, want 0600", m)
	}
	if code, _ := httpQuery(t, s, "", "", "SELECT 1"); code == http.StatusOK {
		t.Error("HTTP without credentials answered 200")
	}
	if code, body := httpQuery(t, s, chserver.User, s.Password(), "SELECT 1"); code != http.StatusOK {
		t.Errorf("with the password: %d %s", code, body)
	}
}

// TestReadablePasswordFileIsRefused: a password file others may read
// stops the start with a message saying what to do, and starts nothing.
func TestReadablePasswordFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, chserver.PasswordFile)
	if err := os.WriteFile(pwFile, []byte("0123456789abcdef0123456789abcdef\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(pwFile, 0o644)
	_, err := chserver.Start(context.Background(), chserver.Options{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "readable by others") || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("err = %v, want a refusal that says to remove the file", err)
	}
	if strings.Contains(err.Error(), "0123456789abcdef") {
		t.Errorf("the message repeats the password: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.xml")); err == nil {
		t.Error("config.xml written although the start was refused")
	}
}
