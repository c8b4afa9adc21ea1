package config

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestMetricsSettings(t *testing.T) {
	src := "listen: 127.0.0.1:8080\nmetrics:\n  listen: 127.0.0.1:9464\n  allow: [127.0.0.1, 10.20.0.0/16, \"::1\"]\n"
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if c.Metrics.Listen != "127.0.0.1:9464" {
		t.Errorf("metrics.listen = %q", c.Metrics.Listen)
	}
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("::1/128")}
	if got := c.Metrics.AllowPrefixes(); !slices.Equal(got, want) {
		t.Errorf("allow = %v, want %v", got, want)
	}

	// The environment and flags set them too; a flag wins.
	env := map[string]string{"MALBILD_METRICS_LISTEN": "127.0.0.1:9100", "MALBILD_METRICS_ALLOW": "192.0.2.1, 198.51.100.0/24"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if err := c.Override(lookup, map[string]string{"metrics-listen": "127.0.0.1:9200"}); err != nil {
		t.Fatal(err)
	}
	if c.Metrics.Listen != "127.0.0.1:9200" || !slices.Equal(c.Metrics.Allow, []string{"192.0.2.1", "198.51.100.0/24"}) {
		t.Errorf("after override: %+v", c.Metrics)
	}

	// A bad value from the environment is refused with its name.
	c = Default()
	env = map[string]string{"MALBILD_METRICS_ALLOW": "prometheus.local"}
	err = c.Override(lookup, nil)
	if err == nil || !strings.Contains(err.Error(), `metrics.allow "prometheus.local" is not an IP address or CIDR`) {
		t.Errorf("bad MALBILD_METRICS_ALLOW: %v", err)
	}
}

// TestMetricsRejections: each rule with its exact message at the line
// of the value it is about.
func TestMetricsRejections(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"bad listen", "metrics:\n  listen: 9464\n",
			`c.yaml:2: metrics.listen "9464": want host:port, e.g. 127.0.0.1:9464`},
		{"same as listen", "listen: 127.0.0.1:8080\nmetrics:\n  listen: 127.0.0.1:8080\n",
			`c.yaml:3: metrics.listen "127.0.0.1:8080" is the address of listen: give /metrics an address of its own, or leave metrics.listen out`},
		{"bad allow entry", "metrics:\n  allow:\n    - 127.0.0.1\n    - prometheus.local\n",
			`c.yaml:4: metrics.allow "prometheus.local" is not an IP address or CIDR (e.g. 127.0.0.1 or 10.20.0.0/16)`},
		{"bad CIDR", "metrics:\n  allow: [10.0.0.0/33]\n",
			`c.yaml:2: metrics.allow "10.0.0.0/33" is not an IP address or CIDR (e.g. 127.0.0.1 or 10.20.0.0/16)`},
		{"unknown key", "metrics:\n  allowed: [127.0.0.1]\n",
			`c.yaml:2: unknown key "allowed" (did you mean "allow"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.src))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant       %s", err, tc.want)
			}
		})
	}
}
