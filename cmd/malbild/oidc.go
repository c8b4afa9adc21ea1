package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/config"
)

// oidcOptions turns auth.oidc into the authenticator's options: nil when
// it is not configured. The client secret comes from
// MALBILD_OIDC_CLIENT_SECRET or client_secret_file (never a flag); the
// redirect URI is base_url + /logga-in/oidc/callback.
func oidcOptions(cfg *config.Config, env func(string) (string, bool)) (*auth.OIDCOptions, error) {
	o := cfg.Auth.OIDC
	if o == nil {
		return nil, nil
	}
	redirect, err := cfg.OIDCRedirectURL()
	if err != nil {
		return nil, err
	}
	secret, err := o.ClientSecretValue(env)
	if err != nil {
		return nil, err
	}
	groups := make([]auth.OIDCGroup, 0, len(o.Groups))
	for _, g := range o.Groups {
		groups = append(groups, auth.OIDCGroup{Group: g.Group, Role: auth.Role(g.Role), Owners: g.Owners})
	}
	return &auth.OIDCOptions{
		Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: secret, RedirectURL: redirect,
		PostLogoutURL: strings.TrimRight(cfg.BaseURL, "/") + "/", DisplayName: o.DisplayName, Scopes: o.Scopes,
		UsernameClaim: o.UsernameClaim, NameClaim: o.NameClaim, GroupsClaim: o.GroupsClaim, DefaultRole: auth.Role(o.DefaultRole),
		Groups: groups, SessionTTL: o.SessionTTL, ClockSkew: o.ClockSkew,
	}, nil
}

// checkOIDC is what `malbild check` adds for auth.oidc beyond the file's
// own checks: base_url (which may come from the environment) and a
// readable client secret.
func checkOIDC(cfg *config.Config) error {
	if cfg.Auth.OIDC == nil {
		return nil
	}
	if _, err := oidcOptions(cfg, os.LookupEnv); err != nil {
		return fmt.Errorf("%s: %w", cfg.File, err)
	}
	return nil
}

// checkOIDCFile is checkOIDC for a config file named on the command line,
// with the environment applied as `malbild serve` would.
func checkOIDCFile(cfg *config.Config) error {
	if cfg.Auth.OIDC == nil {
		return nil
	}
	c := *cfg
	if err := c.Override(os.LookupEnv, nil); err != nil {
		return fmt.Errorf("%s: %w", cfg.File, err)
	}
	return checkOIDC(&c)
}
