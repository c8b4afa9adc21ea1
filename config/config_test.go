package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGoodConfig(t *testing.T) {
	c, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9090" || c.Log.Level != "debug" || c.Log.Format != "json" {
		t.Errorf("decoded %+v", c)
	}
	if want := filepath.Join("testdata", "strategies", "varmdo.yaml"); c.Strategies[0] != want {
		t.Errorf("strategy path %q, want %q (relative to the config file)", c.Strategies[0], want)
	}
	if want := filepath.Join("testdata", "secrets", "ch-password"); c.ClickHouse.PasswordFile != want {
		t.Errorf("password file %q, want %q", c.ClickHouse.PasswordFile, want)
	}
}

func TestRejections(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unknown key", "listen: 127.0.0.1:1\nlisten_addr: x\n", `c.yaml:2: unknown key "listen_addr"`},
		{"nested unknown key", "clickhouse:\n  url: clickhouse://h:9000/db\n  pasword_file: x\n", `c.yaml:3: unknown key "pasword_file" (did you mean "password_file"?)`},
		{"bad listen", "listen: nowhere\n", `c.yaml:1: listen "nowhere": want host:port`},
		{"password in url", "clickhouse:\n  url: clickhouse://u:secret@h:9000/db\n", `c.yaml:2: clickhouse url "clickhouse://u:xxxxx@h:9000/db": do not put the password in the URL`},
		{"bad scheme", "clickhouse:\n  url: http://h:8123\n", `c.yaml:2: clickhouse url`},
		{"bad log level", "log:\n  level: loud\n", `c.yaml:2: log level "loud"`},
		{"trusted header without proxies", "auth:\n  trusted_header:\n    header: X-User\n", `c.yaml:2: auth.trusted_header needs proxies`},
		{"bad proxy", "auth:\n  trusted_header:\n    header: X-User\n    proxies: [proxy.example]\n", `auth.trusted_header proxy "proxy.example"`},
		{"collector without name", "collectors:\n  - kind: series_csv\n", `c.yaml:2: collector without a name`},
		{"collector unknown kind", "collectors:\n  - name: a\n    kind: nosuch\n", `c.yaml:2: collector "a": unknown collector kind "nosuch"`},
		{"collector bad schedule", "collectors:\n  - name: a\n    kind: nosuch\n    schedule: often\n", `c.yaml:4: schedule "often": want a duration`},
		{"collector bad tenant", "collectors:\n  - name: a\n    kind: nosuch\n    tenant: 120\n", `c.yaml:4: tenant "120": want a four-digit kommunkod`},
		{"duplicate collector", "collectors:\n  - name: a\n    kind: x\n  - name: a\n    kind: x\n", `c.yaml:4: collector "a" already defined at line 2`},
		{"duplicate key", "listen: a:1\nlisten: b:2\n", `c.yaml:2: mapping key "listen" already defined at line 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestOverridePrecedence(t *testing.T) {
	c, err := Parse("c.yaml", []byte("listen: 127.0.0.1:1000\nlog:\n  level: warn\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"MALBILD_LISTEN": "127.0.0.1:2000", "MALBILD_LOG_LEVEL": "debug", PasswordEnv: "s3cret", "MALBILD_DATA_DIR": "/var/lib/malbild"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if err := c.Override(lookup, map[string]string{"listen": "127.0.0.1:3000"}); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:3000" {
		t.Errorf("flag should win over env: listen = %s", c.Listen)
	}
	if c.Log.Level != "debug" {
		t.Errorf("env should win over file: level = %s", c.Log.Level)
	}
	if c.ClickHouse.DataDir != "/var/lib/malbild/clickhouse" || c.SpoolDir != "/var/lib/malbild/spool" {
		t.Errorf("derived dirs: %q %q", c.ClickHouse.DataDir, c.SpoolDir)
	}
	c.ClickHouse.URL = "clickhouse://malbild@db:9000/malbild"
	dsn, err := c.DSN()
	if err != nil || dsn != "clickhouse://malbild:s3cret@db:9000/malbild" {
		t.Errorf("DSN = %q, %v", dsn, err)
	}
}

func TestPasswordFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("fromfile\n"), 0o600)
	c := Default()
	c.ClickHouse.URL = "clickhouse://u@h:9000/db"
	c.ClickHouse.PasswordFile = filepath.Join(dir, "pw")
	dsn, err := c.DSN()
	if err != nil || dsn != "clickhouse://u:fromfile@h:9000/db" {
		t.Fatalf("DSN = %q, %v", dsn, err)
	}
}

// TestRunCollectors: run_collectors in the file, MALBILD_RUN_COLLECTORS
// and --collectors (a web-only replica); anything but a boolean is
// refused with the setting's name.
func TestRunCollectors(t *testing.T) {
	c, err := Parse("malbild.yaml", []byte("run_collectors: false\n"))
	if err != nil || c.RunCollectors {
		t.Fatalf("run_collectors: false gave %v, %v", c, err)
	}
	if !Default().RunCollectors {
		t.Error("collectors are off by default")
	}
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if k == "MALBILD_RUN_COLLECTORS" {
				return v, true
			}
			return "", false
		}
	}
	c = Default()
	if err := c.Override(env("false"), nil); err != nil || c.RunCollectors {
		t.Errorf("MALBILD_RUN_COLLECTORS=false: %v, %v", c.RunCollectors, err)
	}
	c = Default()
	if err := c.Override(env("false"), map[string]string{"collectors": "true"}); err != nil || !c.RunCollectors {
		t.Errorf("--collectors=true over the environment: %v, %v", c.RunCollectors, err)
	}
	c = Default()
	err = c.Override(env(""), map[string]string{"collectors": "nej"})
	if err == nil || !strings.Contains(err.Error(), `collectors "nej": want true or false`) {
		t.Errorf("--collectors=nej: %v", err)
	}
}
