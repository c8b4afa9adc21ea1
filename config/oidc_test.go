package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodOIDC = `base_url: https://malbild.kommun.se
auth:
  session_ttl: 10h
  oidc:
    issuer: https://login.microsoftonline.com/0b3c-tenant/v2.0
    client_id: 6f1e-app
    client_secret_file: secrets/oidc
    display_name: Kommunens konto
    groups_claim: roles
    session_ttl: 8h
    groups:
      - group: Malbild.Admin
        role: admin
      - group: Malbild.Redaktor
        role: editor
        owners: [IT-avdelningen, Kommunstyrelsen]
      - group: KS
        owners: [Kommunstyrelsen]
`

func TestOIDCConfig(t *testing.T) {
	c, err := Parse(filepath.Join("etc", "malbild.yaml"), []byte(goodOIDC))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Auth.OIDC
	if o == nil || o.Issuer != "https://login.microsoftonline.com/0b3c-tenant/v2.0" || o.GroupsClaim != "roles" || o.SessionTTL != 8*time.Hour ||
		len(o.Groups) != 3 || o.Groups[1].Owners[1] != "Kommunstyrelsen" || o.Groups[2].Role != "" {
		t.Fatalf("decoded %+v", o)
	}
	if want := filepath.Join("etc", "secrets", "oidc"); o.ClientSecretFile != want {
		t.Errorf("secret file %q, want %q (relative to the config file)", o.ClientSecretFile, want)
	}
	if u, err := c.OIDCRedirectURL(); err != nil || u != "https://malbild.kommun.se/logga-in/oidc/callback" {
		t.Errorf("redirect URL %q, %v", u, err)
	}
	c.BaseURL = ""
	if _, err := c.OIDCRedirectURL(); err == nil || !strings.Contains(err.Error(), "auth.oidc needs base_url") {
		t.Errorf("redirect URL without base_url: %v", err)
	}
}

func TestOIDCConfigRejections(t *testing.T) {
	base := "auth:\n  oidc:\n    issuer: https://idp.example/realms/kommun\n    client_id: malbild\n    groups:\n      - group: g\n        role: viewer\n"
	for _, tc := range []struct{ name, src, want string }{
		{"no issuer", "auth:\n  oidc:\n    client_id: malbild\n    groups: [{group: g, role: viewer}]\n", `c.yaml:3: auth.oidc needs issuer`},
		{"http issuer", strings.Replace(base, "https://idp.example", "http://idp.example", 1), `c.yaml:3: auth.oidc issuer "http://idp.example/realms/kommun": want https (plain http only on localhost)`},
		{"issuer not a URL", strings.Replace(base, "https://idp.example/realms/kommun", "idp.example", 1), `c.yaml:3: auth.oidc issuer "idp.example": want an absolute https URL`},
		{"no client id", strings.Replace(base, "    client_id: malbild\n", "", 1), `c.yaml:3: auth.oidc needs client_id`},
		{"secret in the file", base + "    client_secret: hemligt\n", `c.yaml:8: auth.oidc: do not put the client secret in the config file; use client_secret_file or MALBILD_OIDC_CLIENT_SECRET`},
		{"no groups", strings.Split(base, "    groups:")[0], `c.yaml:3: auth.oidc needs groups: which groups of groups give which role (a user in no listed group has no access)`},
		{"bad role", strings.Replace(base, "role: viewer", "role: superuser", 1), `c.yaml:7: auth.oidc group "g": role "superuser": want viewer, editor or admin`},
		{"bad default role", base + "    default_role: owner\n", `c.yaml:8: auth.oidc default_role "owner": want viewer, editor or admin`},
		{"group gives nothing", base + "      - group: h\n", `c.yaml:8: auth.oidc group "h" gives neither a role nor owners`},
		{"group without name", base + "      - role: admin\n", `c.yaml:8: auth.oidc group without a name`},
		{"duplicate group", base + "      - group: g\n        role: admin\n", `c.yaml:8: auth.oidc group "g" already listed at line 6`},
		{"no openid scope", base + "    scopes: [profile, email]\n", `c.yaml:8: auth.oidc scopes [profile email]: must include openid`},
		{"session longer than auth's", base + "    session_ttl: 24h\n", `c.yaml:8: auth.oidc session_ttl 24h0m0s is longer than auth.session_ttl 12h0m0s`},
		{"clock skew", base + "    clock_skew: 1h\n", `c.yaml:8: auth.oidc clock_skew 1h0m0s: want 0 to 10m`},
		{"unknown key", base + "    client_secrets_file: x\n", `c.yaml:8: unknown key "client_secrets_file" (did you mean "client_secret_file"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := Parse("c.yaml", []byte(base)); err != nil {
		t.Fatalf("base config: %v", err)
	}
	if _, err := Parse("c.yaml", []byte(strings.Replace(base, "https://idp.example", "http://127.0.0.1:5556", 1))); err != nil {
		t.Fatalf("http issuer on loopback: %v", err)
	}
}

func TestOIDCClientSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	os.WriteFile(file, []byte("från-fil\n"), 0o600)
	o := &OIDC{ClientSecretFile: file}
	none := func(string) (string, bool) { return "", false }
	if s, err := o.ClientSecretValue(none); err != nil || s != "från-fil" {
		t.Errorf("from file: %q, %v", s, err)
	}
	env := func(k string) (string, bool) { return "från-miljö", k == OIDCSecretEnv }
	if s, err := o.ClientSecretValue(env); err != nil || s != "från-miljö" {
		t.Errorf("environment should win: %q, %v", s, err)
	}
	os.WriteFile(file, []byte("\n"), 0o600)
	if _, err := o.ClientSecretValue(none); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty file: %v", err)
	}
	if s, err := (&OIDC{}).ClientSecretValue(none); err != nil || s != "" {
		t.Errorf("public client: %q, %v", s, err)
	}
}
