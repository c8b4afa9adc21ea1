package config

// This file holds the auth.oidc block: sign-in with the municipality's own
// OpenID Connect identity provider (Entra ID, Keycloak, AD FS, ...).

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/internal/strictyaml"
)

// OIDCSecretEnv holds the OpenID Connect client secret; like the
// ClickHouse password it has no flag and no config key on purpose.
const OIDCSecretEnv = "MALBILD_OIDC_CLIENT_SECRET"

// OIDCCallbackPath is where the identity provider sends the browser back;
// the redirect URI to register is base_url + OIDCCallbackPath.
const OIDCCallbackPath = "/logga-in/oidc/callback"

// OIDC is sign-in with an OpenID Connect identity provider. Nil: off.
type OIDC struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + /.well-known/openid-configuration.
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// ClientSecretFile holds the client secret (or MALBILD_OIDC_CLIENT_SECRET).
	// Neither: a public client (PKCE only).
	ClientSecretFile string `yaml:"client_secret_file"`
	// ClientSecret exists only to refuse a secret written into the file.
	ClientSecret string `yaml:"client_secret"`
	// DisplayName is the provider's name on the sign-in button and on the
	// users page, e.g. "Värmdö kommuns konto".
	DisplayName string   `yaml:"display_name"`
	Scopes      []string `yaml:"scopes"`
	// UsernameClaim names the user (default preferred_username, then email).
	UsernameClaim string `yaml:"username_claim"`
	// NameClaim is the display name (default name).
	NameClaim string `yaml:"name_claim"`
	// GroupsClaim carries the groups or app roles (default groups; Entra ID
	// app roles: roles).
	GroupsClaim string `yaml:"groups_claim"`
	// DefaultRole is the role of a user whose matching groups give owners
	// but no role (default viewer). No matching group at all: no access.
	DefaultRole string `yaml:"default_role"`
	// SessionTTL bounds a session from this provider (default and maximum:
	// auth.session_ttl). Roles are re-read at the next sign-in.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// ClockSkew is how far the provider's clock may be off (default 2m).
	ClockSkew time.Duration `yaml:"clock_skew"`
	Groups    []OIDCGroup   `yaml:"groups"`
}

// OIDCGroup maps one group (or app role) value of the groups claim to a
// role and to the owners its members write for.
type OIDCGroup struct {
	Group  string   `yaml:"group"`
	Role   string   `yaml:"role"`
	Owners []string `yaml:"owners"`
}

// ClientSecretValue reads the client secret: MALBILD_OIDC_CLIENT_SECRET
// (looked up with env) wins over client_secret_file. Empty without either.
func (o *OIDC) ClientSecretValue(env func(string) (string, bool)) (string, error) {
	if v, ok := env(OIDCSecretEnv); ok && v != "" {
		return v, nil
	}
	if o.ClientSecretFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(o.ClientSecretFile)
	if err != nil {
		return "", fmt.Errorf("reading the OpenID Connect client secret: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("the OpenID Connect client secret file %s is empty", o.ClientSecretFile)
	}
	return s, nil
}

// OIDCRedirectURL is the redirect URI to register at the provider:
// base_url + OIDCCallbackPath. base_url may come from the environment, so
// it is checked here, when the server starts, rather than in Parse.
func (c *Config) OIDCRedirectURL() (string, error) {
	if c.BaseURL == "" {
		return "", fmt.Errorf("auth.oidc needs base_url (or %s): the redirect URI registered at the identity provider is base_url + %s", "MALBILD_BASE_URL", OIDCCallbackPath)
	}
	return strings.TrimRight(c.BaseURL, "/") + OIDCCallbackPath, nil
}

// checkOIDC validates auth.oidc, each problem at the line of its key.
func (c *Config) checkOIDC(file string, root *yaml.Node) strictyaml.Errors {
	o := c.Auth.OIDC
	if o == nil {
		return nil
	}
	block := valueNode(valueNode(root, "auth"), "oidc")
	at := func(key string) *yaml.Node { return valueNode(block, key) }
	var errs strictyaml.Errors
	add := func(n *yaml.Node, format string, args ...any) {
		errs = append(errs, strictyaml.Errorf(file, n, format, args...))
	}
	if o.Issuer == "" {
		add(block, "auth.oidc needs issuer: the identity provider's issuer URL, e.g. https://login.microsoftonline.com/TENANT-ID/v2.0")
	} else if err := checkIssuer(o.Issuer); err != nil {
		add(at("issuer"), "auth.oidc issuer %q: %v", o.Issuer, err)
	}
	if o.ClientID == "" {
		add(block, "auth.oidc needs client_id: the application (client) id registered at the identity provider")
	}
	if o.ClientSecret != "" {
		add(at("client_secret"), "auth.oidc: do not put the client secret in the config file; use client_secret_file or %s", OIDCSecretEnv)
	}
	if len(o.Scopes) > 0 && !contains(o.Scopes, "openid") {
		add(at("scopes"), "auth.oidc scopes %v: must include openid", o.Scopes)
	}
	for _, k := range []struct{ key, v string }{{"username_claim", o.UsernameClaim}, {"name_claim", o.NameClaim}, {"groups_claim", o.GroupsClaim}} {
		if strings.ContainsAny(k.v, " \t\r\n") {
			add(at(k.key), "auth.oidc %s %q: a claim name has no spaces", k.key, k.v)
		}
	}
	if o.DefaultRole != "" && !validRole(o.DefaultRole) {
		add(at("default_role"), "auth.oidc default_role %q: want viewer, editor or admin", o.DefaultRole)
	}
	if o.SessionTTL < 0 || (o.SessionTTL > 0 && o.SessionTTL < time.Minute) {
		add(at("session_ttl"), "auth.oidc session_ttl %s: want at least 1m", o.SessionTTL)
	}
	if o.SessionTTL > c.Auth.SessionTTL {
		add(at("session_ttl"), "auth.oidc session_ttl %s is longer than auth.session_ttl %s", o.SessionTTL, c.Auth.SessionTTL)
	}
	if o.ClockSkew < 0 || o.ClockSkew > 10*time.Minute {
		add(at("clock_skew"), "auth.oidc clock_skew %s: want 0 to 10m", o.ClockSkew)
	}
	if len(o.Groups) == 0 {
		add(block, "auth.oidc needs groups: which groups of %s give which role (a user in no listed group has no access)", claimOr(o.GroupsClaim, "groups"))
	}
	gn := valueNode(block, "groups")
	seen := map[string]int{}
	for i, g := range o.Groups {
		n := gn
		if gn.Kind == yaml.SequenceNode && i < len(gn.Content) {
			n = gn.Content[i]
		}
		switch {
		case strings.TrimSpace(g.Group) == "":
			add(n, "auth.oidc group without a name (group: the value in the %s claim, e.g. a group's object id)", claimOr(o.GroupsClaim, "groups"))
			continue
		case g.Role == "" && len(g.Owners) == 0:
			add(n, "auth.oidc group %q gives neither a role nor owners", g.Group)
		case g.Role != "" && !validRole(g.Role):
			add(valueNode(n, "role"), "auth.oidc group %q: role %q: want viewer, editor or admin", g.Group, g.Role)
		}
		for _, ow := range g.Owners {
			if strings.TrimSpace(ow) == "" || len(ow) > 200 || strings.ContainsAny(ow, "\r\n\t") {
				add(valueNode(n, "owners"), "auth.oidc group %q: owner %q must be one non-empty line of at most 200 bytes", g.Group, ow)
			}
		}
		if line, dup := seen[g.Group]; dup {
			add(n, "auth.oidc group %q already listed at line %d", g.Group, line)
		}
		seen[g.Group] = n.Line
	}
	return errs
}

func claimOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func validRole(r string) bool { return r == "viewer" || r == "editor" || r == "admin" }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkIssuer wants an https URL; plain http only on a loopback address
// (tests and local trials).
func checkIssuer(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("want an absolute https URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("an issuer URL has no query or fragment")
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("want https (plain http only on localhost)")
		}
	}
	return nil
}
