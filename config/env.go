package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Setting is one setting that can come from the environment or a flag.
type Setting struct {
	Flag  string // flag name, e.g. "listen"
	Env   string // environment variable, e.g. "MALBILD_LISTEN"
	Usage string
	set   func(c *Config, v string)
}

// Settings lists every setting that can be given as MALBILD_* or a flag.
// Precedence: flag, then environment, then file, then default.
var Settings = []Setting{
	{"listen", "MALBILD_LISTEN", "address to serve on (host:port)", func(c *Config, v string) { c.Listen = v }},
	{"base-url", "MALBILD_BASE_URL", "public URL of this installation, used in the open-data catalogue", func(c *Config, v string) { c.BaseURL = v }},
	{"clickhouse", "MALBILD_CLICKHOUSE", "ClickHouse URL clickhouse://user@host:9000/db; empty runs a managed local server", func(c *Config, v string) { c.ClickHouse.URL = v }},
	{"clickhouse-password-file", "MALBILD_CLICKHOUSE_PASSWORD_FILE", "file holding the ClickHouse password", func(c *Config, v string) { c.ClickHouse.PasswordFile = v }},
	{"clickhouse-data-dir", "MALBILD_CLICKHOUSE_DATA_DIR", "data directory of the managed local ClickHouse (default DATA_DIR/clickhouse)", func(c *Config, v string) { c.ClickHouse.DataDir = v }},
	{"data-dir", "MALBILD_DATA_DIR", "directory for Målbild's own state", func(c *Config, v string) { c.DataDir = v }},
	{"spool-dir", "MALBILD_SPOOL_DIR", "where batches wait while ClickHouse is down (default DATA_DIR/spool)", func(c *Config, v string) { c.SpoolDir = v }},
	{"state-dir", "MALBILD_STATE_DIR", "collector state such as last sync dates (default DATA_DIR/state)", func(c *Config, v string) { c.StateDir = v }},
	{"strategy", "MALBILD_STRATEGIES", "strategy files, comma-separated", func(c *Config, v string) { c.Strategies = splitList(v) }},
	{"log-level", "MALBILD_LOG_LEVEL", "debug, info, warn or error", func(c *Config, v string) { c.Log.Level = v }},
	{"log-format", "MALBILD_LOG_FORMAT", "text or json (default: text on a terminal)", func(c *Config, v string) { c.Log.Format = v }},
	{"users-file", "MALBILD_USERS_FILE", "users file with bcrypt hashes", func(c *Config, v string) { c.Auth.UsersFile = v }},
	{"metrics-listen", "MALBILD_METRICS_LISTEN", "serve /metrics on this address of its own instead of on --listen (host:port)", func(c *Config, v string) { c.Metrics.Listen = v }},
	{"metrics-allow", "MALBILD_METRICS_ALLOW", "answer /metrics only to these client IPs or CIDRs, comma-separated", func(c *Config, v string) { c.Metrics.Allow = splitList(v) }},
	{"collectors", "MALBILD_RUN_COLLECTORS", "serve: run the collectors in this process (false: a web-only replica; see docs/deploy.md)", setRunCollectors},
}

func setRunCollectors(c *Config, v string) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		c.runCollectorsBad = v
		return
	}
	c.RunCollectors, c.runCollectorsBad = b, ""
}

// PasswordEnv holds the ClickHouse password; it has no flag on purpose.
const PasswordEnv = "MALBILD_CLICKHOUSE_PASSWORD"

// Override applies environment variables (looked up with env) and then
// flag values (set holds only flags given on the command line), and fills
// derived defaults. It validates the result.
func (c *Config) Override(env func(string) (string, bool), flags map[string]string) error {
	for _, s := range Settings {
		if v, ok := env(s.Env); ok && v != "" {
			s.set(c, v)
		}
	}
	for _, s := range Settings {
		if v, ok := flags[s.Flag]; ok {
			s.set(c, v)
		}
	}
	if v, ok := env(PasswordEnv); ok {
		c.ClickHouse.Password = v
	}
	if c.ClickHouse.DataDir == "" {
		c.ClickHouse.DataDir = filepath.Join(c.DataDir, "clickhouse")
	}
	if c.SpoolDir == "" {
		c.SpoolDir = filepath.Join(c.DataDir, "spool")
	}
	if c.StateDir == "" {
		c.StateDir = filepath.Join(c.DataDir, "state")
	}
	var msgs []string
	for _, p := range c.validate() {
		msgs = append(msgs, p.msg)
	}
	for _, p := range c.metricsProblems() {
		msgs = append(msgs, p.msg)
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
