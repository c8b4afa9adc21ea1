// Package config reads malbild.yaml: strict (unknown keys are errors),
// every problem reported as file:line: message, relative paths resolved
// against the file's directory, and every setting overridable from
// MALBILD_* environment variables.
package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/internal/strictyaml"
)

// Config is the whole of malbild.yaml.
type Config struct {
	File          string
	Listen        string
	BaseURL       string
	ClickHouse    ClickHouse
	DataDir       string
	SpoolDir      string
	StateDir      string
	Strategies    []string
	Log           Log
	Accessibility Accessibility
	Auth          Auth
	Metrics       Metrics
	Collectors    []collectors.Instance
	// RunCollectors says whether `malbild serve` runs the collectors
	// (default true). Replicas behind a load balancer run with false, and
	// one collector role (`malbild collect`) runs them for the whole
	// installation (docs/deploy.md).
	RunCollectors bool

	runCollectorsBad string // a value of --collectors or MALBILD_RUN_COLLECTORS that is no boolean
}

// ClickHouse says where the data lives. With URL empty, Målbild runs a
// managed local clickhouse-server with its data in DataDir.
type ClickHouse struct {
	URL          string `yaml:"url"`
	PasswordFile string `yaml:"password_file"`
	Password     string `yaml:"-"` // only from MALBILD_CLICKHOUSE_PASSWORD or the file
	DataDir      string `yaml:"data_dir"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text, json (default: text on a terminal, json otherwise)
}

// Accessibility is the contact on the accessibility statement page.
type Accessibility struct {
	Email        string `yaml:"email"`
	Phone        string `yaml:"phone"`
	URL          string `yaml:"url"`
	Organisation string `yaml:"organisation"`
	Updated      string `yaml:"updated"` // date the statement was last reviewed
}

// Auth configures who may see internal pages and write.
type Auth struct {
	UsersFile     string        `yaml:"users_file"`
	TrustedHeader TrustedHeader `yaml:"trusted_header"`
	// AllEditors lets every editor write for every goal and indicator.
	AllEditors   bool          `yaml:"all_editors"`
	SessionTTL   time.Duration `yaml:"session_ttl"`
	CookieSecure *bool         `yaml:"cookie_secure"`
	// OIDC is sign-in with an OpenID Connect identity provider (oidc.go).
	OIDC *OIDC `yaml:"oidc"`
}

// TrustedHeader is single sign-on through a reverse proxy: the user name
// comes from Header, honoured only on requests from Proxies.
type TrustedHeader struct {
	Header  string   `yaml:"header"`
	Proxies []string `yaml:"proxies"` // IPs or CIDRs
	Role    string   `yaml:"role"`    // role for users not in the users file (default viewer)
}

type file struct {
	Listen        string        `yaml:"listen"`
	BaseURL       string        `yaml:"base_url"`
	ClickHouse    ClickHouse    `yaml:"clickhouse"`
	DataDir       string        `yaml:"data_dir"`
	SpoolDir      string        `yaml:"spool_dir"`
	StateDir      string        `yaml:"state_dir"`
	Strategies    []string      `yaml:"strategies"`
	Log           Log           `yaml:"log"`
	Accessibility Accessibility `yaml:"accessibility"`
	Auth          Auth          `yaml:"auth"`
	Metrics       Metrics       `yaml:"metrics"`
	Collectors    yaml.Node     `yaml:"collectors"`
	RunCollectors *bool         `yaml:"run_collectors"`
}

// Default returns the configuration used without a config file.
func Default() *Config {
	return &Config{
		Listen:  "127.0.0.1:8080",
		DataDir: "data",
		Log:     Log{Level: "info"},
		Auth:    Auth{SessionTTL: 12 * time.Hour},

		RunCollectors: true,
	}
}

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse validates data read from file. All problems are reported together.
func Parse(file string, data []byte) (*Config, error) {
	root, err := strictyaml.Parse(file, data)
	if err != nil {
		return nil, err
	}
	var f fileT
	if err := strictyaml.Decode(file, root, &f.file); err != nil {
		return nil, err
	}
	c := Default()
	c.File = file
	var errs strictyaml.Errors
	at := func(key string) *yaml.Node { return valueNode(root, key) }
	setStr := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	setStr(&c.Listen, f.Listen)
	setStr(&c.BaseURL, f.BaseURL)
	setStr(&c.DataDir, f.DataDir)
	c.SpoolDir, c.StateDir = f.SpoolDir, f.StateDir
	c.ClickHouse = f.ClickHouse
	c.Strategies = f.Strategies
	if f.Log.Level != "" {
		c.Log.Level = f.Log.Level
	}
	c.Log.Format = f.Log.Format
	c.Accessibility = f.Accessibility
	if f.Auth.SessionTTL == 0 {
		f.Auth.SessionTTL = c.Auth.SessionTTL
	}
	c.Auth = f.Auth
	c.Metrics = f.Metrics
	if f.RunCollectors != nil {
		c.RunCollectors = *f.RunCollectors
	}

	dir := filepath.Dir(file)
	c.DataDir = resolve(dir, c.DataDir)
	c.SpoolDir = resolve(dir, c.SpoolDir)
	c.StateDir = resolve(dir, c.StateDir)
	c.ClickHouse.DataDir = resolve(dir, c.ClickHouse.DataDir)
	c.ClickHouse.PasswordFile = resolve(dir, c.ClickHouse.PasswordFile)
	c.Auth.UsersFile = resolve(dir, c.Auth.UsersFile)
	if c.Auth.OIDC != nil { // oidc.go
		c.Auth.OIDC.ClientSecretFile = resolve(dir, c.Auth.OIDC.ClientSecretFile)
		errs = append(errs, c.checkOIDC(file, root)...)
	}
	for i, s := range c.Strategies {
		c.Strategies[i] = resolve(dir, s)
	}

	for _, e := range c.validate() {
		errs = append(errs, strictyaml.Errorf(file, at(e.key), "%s", e.msg))
	}
	errs = append(errs, c.checkMetrics(file, root)...)
	stateDir := c.StateDir
	if stateDir == "" {
		stateDir = filepath.Join(c.DataDir, "state")
	}
	insts, ierrs := parseCollectors(file, &f.Collectors, stateDir)
	errs = append(errs, ierrs...)
	c.Collectors = insts
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// fileT wraps file so Decode sees a pointer to the yaml-facing struct.
type fileT struct{ file }

type problem struct{ key, msg string }

var logLevels = map[string]bool{"debug": true, "info": true, "warn": true, "error": true}

func (c *Config) validate() []problem {
	var ps []problem
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		ps = append(ps, problem{"listen", fmt.Sprintf("listen %q: want host:port, e.g. 127.0.0.1:8080", c.Listen)})
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ps = append(ps, problem{"base_url", fmt.Sprintf("base_url %q: want an absolute http(s) URL", c.BaseURL)})
		}
	}
	if c.ClickHouse.URL != "" {
		if err := CheckClickHouseURL(c.ClickHouse.URL); err != nil {
			ps = append(ps, problem{"clickhouse", err.Error()})
		}
	}
	if !logLevels[c.Log.Level] {
		ps = append(ps, problem{"log", fmt.Sprintf("log level %q: want debug, info, warn or error", c.Log.Level)})
	}
	if c.Log.Format != "" && c.Log.Format != "text" && c.Log.Format != "json" {
		ps = append(ps, problem{"log", fmt.Sprintf("log format %q: want text or json", c.Log.Format)})
	}
	if e := c.Accessibility.Email; e != "" {
		if _, err := mail.ParseAddress(e); err != nil {
			ps = append(ps, problem{"accessibility", fmt.Sprintf("accessibility email %q is not an e-mail address", e)})
		}
	}
	th := c.Auth.TrustedHeader
	if th.Header != "" && len(th.Proxies) == 0 {
		ps = append(ps, problem{"auth", "auth.trusted_header needs proxies: the addresses of the reverse proxies allowed to set it"})
	}
	for _, p := range th.Proxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			ps = append(ps, problem{"auth", fmt.Sprintf("auth.trusted_header proxy %q is not an IP address or CIDR", p)})
		}
	}
	if th.Role != "" && th.Role != "viewer" && th.Role != "editor" && th.Role != "admin" {
		ps = append(ps, problem{"auth", fmt.Sprintf("auth.trusted_header role %q: want viewer, editor or admin", th.Role)})
	}
	if c.runCollectorsBad != "" {
		ps = append(ps, problem{"run_collectors", fmt.Sprintf("collectors %q: want true or false", c.runCollectorsBad)})
	}
	return ps
}

// CheckClickHouseURL validates a clickhouse:// URL.
func CheckClickHouseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "clickhouse" && u.Scheme != "tcp") || u.Host == "" {
		return fmt.Errorf("clickhouse url %q: want clickhouse://user@host:9000/database", redact(s))
	}
	if _, hasPass := u.User.Password(); hasPass {
		return fmt.Errorf("clickhouse url %q: do not put the password in the URL; use MALBILD_CLICKHOUSE_PASSWORD or clickhouse.password_file", redact(s))
	}
	return nil
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

// DSN returns the ClickHouse DSN with the password filled in. The password
// comes from MALBILD_CLICKHOUSE_PASSWORD or the password file; flags and
// URLs carry none.
func (c *Config) DSN() (string, error) {
	u, err := url.Parse(c.ClickHouse.URL)
	if err != nil {
		return "", err
	}
	pass := c.ClickHouse.Password
	if pass == "" && c.ClickHouse.PasswordFile != "" {
		b, err := os.ReadFile(c.ClickHouse.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("reading ClickHouse password: %w", err)
		}
		pass = strings.TrimRight(string(b), "\r\n")
	}
	if pass != "" {
		user := "default"
		if u.User != nil {
			user = u.User.Username()
		}
		u.User = url.UserPassword(user, pass)
	}
	return u.String(), nil
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// parseCollectors reads the collectors list. Each entry has common keys
// (name, kind, tenant, schedule, timeout); the rest of its keys are the
// kind's options, checked by the kind's factory.
func parseCollectors(file string, n *yaml.Node, stateDir string) ([]collectors.Instance, strictyaml.Errors) {
	var errs strictyaml.Errors
	if n.Kind == 0 {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, strictyaml.Errors{strictyaml.Errorf(file, n, "collectors: want a list")}
	}
	seen := map[string]int{}
	var out []collectors.Instance
	for _, item := range n.Content {
		if item.Kind != yaml.MappingNode {
			errs = append(errs, strictyaml.Errorf(file, item, "collector: want a mapping with name and kind"))
			continue
		}
		inst := collectors.Instance{File: file, Schedule: time.Hour, Timeout: 5 * time.Minute, StateDir: stateDir}
		opts := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: item.Line, Column: item.Column}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := item.Content[i], item.Content[i+1]
			switch k.Value {
			case "name":
				inst.Name = v.Value
			case "kind":
				inst.Kind = v.Value
			case "tenant":
				inst.Tenant = v.Value
				if !kommunkod.MatchString(v.Value) {
					errs = append(errs, strictyaml.Errorf(file, v, "tenant %q: want a four-digit kommunkod, e.g. \"0120\"", v.Value))
				}
			case "schedule", "timeout":
				d, err := time.ParseDuration(v.Value)
				if err != nil || d <= 0 {
					errs = append(errs, strictyaml.Errorf(file, v, "%s %q: want a duration such as 30s, 15m or 24h", k.Value, v.Value))
					continue
				}
				if k.Value == "schedule" {
					inst.Schedule = d
				} else {
					inst.Timeout = d
				}
			default:
				opts.Content = append(opts.Content, k, v)
			}
		}
		switch {
		case inst.Name == "":
			errs = append(errs, strictyaml.Errorf(file, item, "collector without a name"))
			continue
		case !namePattern.MatchString(inst.Name):
			errs = append(errs, strictyaml.Errorf(file, item, "collector name %q: use lower-case letters, digits, '-', '_' and '.'", inst.Name))
			continue
		case inst.Kind == "":
			errs = append(errs, strictyaml.Errorf(file, item, "collector %q has no kind (known: %s)", inst.Name, strings.Join(collectors.Kinds(), ", ")))
			continue
		}
		if line, dup := seen[inst.Name]; dup {
			errs = append(errs, strictyaml.Errorf(file, item, "collector %q already defined at line %d", inst.Name, line))
			continue
		}
		seen[inst.Name] = item.Line
		inst.Options = opts
		if _, err := collectors.New(inst); err != nil {
			errs = append(errs, asErrors(file, item, inst.Name, err)...)
			continue
		}
		out = append(out, inst)
	}
	return out, errs
}

var kommunkod = regexp.MustCompile(`^\d{4}$`)

// asErrors keeps file:line errors from a factory as they are and places
// any other error at the collector's entry.
func asErrors(file string, item *yaml.Node, name string, err error) strictyaml.Errors {
	switch e := err.(type) {
	case strictyaml.Errors:
		return e
	case *strictyaml.Error:
		return strictyaml.Errors{e}
	}
	return strictyaml.Errors{strictyaml.Errorf(file, item, "collector %q: %v", name, err)}
}

// valueNode returns the value node of key in mapping m, or m itself.
func valueNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return m
}

func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}
