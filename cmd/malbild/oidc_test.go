package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/malbild/malbild/config"
)

const oidcConfig = `auth:
  cookie_secure: false
  oidc:
    issuer: https://login.microsoftonline.com/tenant/v2.0
    client_id: app
    client_secret_file: oidc-secret
    groups:
      - group: Malbild.Admin
        role: admin
`

func TestOIDCCheck(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "malbild.yaml")
	os.WriteFile(cfg, []byte(oidcConfig), 0o600)
	t.Setenv("MALBILD_BASE_URL", "")
	t.Setenv(config.OIDCSecretEnv, "")

	// No base_url: the redirect URI cannot be built.
	code, _, errs := runCmd(t, "check", cfg)
	if code != 1 || !strings.Contains(errs, cfg+": auth.oidc needs base_url (or MALBILD_BASE_URL)") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	// base_url from the environment; the secret file does not exist.
	t.Setenv("MALBILD_BASE_URL", "https://malbild.kommun.se")
	code, _, errs = runCmd(t, "check", "--config", cfg)
	if code != 1 || !strings.Contains(errs, "reading the OpenID Connect client secret") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	os.WriteFile(filepath.Join(dir, "oidc-secret"), []byte("hemligt\n"), 0o600)
	if code, out, errs := runCmd(t, "check", cfg); code != 0 || !strings.Contains(out, cfg+": ok") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	// A bad group is reported at its line.
	os.WriteFile(cfg, []byte(strings.Replace(oidcConfig, "role: admin", "role: chef", 1)), 0o600)
	code, _, errs = runCmd(t, "check", cfg)
	if code != 1 || !strings.Contains(errs, cfg+`:9: auth.oidc group "Malbild.Admin": role "chef": want viewer, editor or admin`) {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestOIDCNewAuthenticator(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "malbild.yaml")
	os.WriteFile(cfgFile, []byte("base_url: https://malbild.kommun.se/\n"+oidcConfig), 0o600)
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(config.OIDCSecretEnv, "från-miljön")
	o, err := oidcOptions(cfg, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	if o.ClientSecret != "från-miljön" || o.RedirectURL != "https://malbild.kommun.se/logga-in/oidc/callback" ||
		o.PostLogoutURL != "https://malbild.kommun.se/" || len(o.Groups) != 1 || o.Groups[0].Role != "admin" {
		t.Errorf("options %+v", o)
	}
	a, err := newAuthenticator(cfg, nopAudit{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.OIDCEnabled() || a.OIDCName() == "" {
		t.Error("the authenticator has no OIDC sign-in")
	}
}
