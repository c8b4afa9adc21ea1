package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/internal/strictyaml"
)

// Metrics limits who can read /metrics, which tells the state of the
// collectors and the server to whoever asks.
type Metrics struct {
	// Listen, when set, serves /metrics on this address of its own and
	// no longer on Listen (host:port, e.g. 127.0.0.1:9464).
	Listen string `yaml:"listen"`
	// Allow, when not empty, answers /metrics only to clients whose
	// address (the TCP peer, never a forwarded header) is one of these
	// IP addresses or in one of these CIDRs; others get 403.
	Allow []string `yaml:"allow"`
}

// AllowPrefixes returns Allow as prefixes (an address is a /32 or /128).
// The config was validated, so every entry parses.
func (m Metrics) AllowPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, a := range m.Allow {
		if p, ok := parsePrefix(a); ok {
			out = append(out, p)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// metricsProblem is a problem with the metrics block; path leads to the
// YAML node it is about ("metrics", "allow", "2").
type metricsProblem struct {
	path []string
	msg  string
}

func (c *Config) metricsProblems() []metricsProblem {
	var ps []metricsProblem
	m := c.Metrics
	if m.Listen != "" {
		if _, _, err := net.SplitHostPort(m.Listen); err != nil {
			ps = append(ps, metricsProblem{[]string{"metrics", "listen"},
				fmt.Sprintf("metrics.listen %q: want host:port, e.g. 127.0.0.1:9464", m.Listen)})
		} else if m.Listen == c.Listen {
			ps = append(ps, metricsProblem{[]string{"metrics", "listen"},
				fmt.Sprintf("metrics.listen %q is the address of listen: give /metrics an address of its own, or leave metrics.listen out", m.Listen)})
		}
	}
	for i, a := range m.Allow {
		if _, ok := parsePrefix(a); !ok {
			ps = append(ps, metricsProblem{[]string{"metrics", "allow", strconv.Itoa(i)},
				fmt.Sprintf("metrics.allow %q is not an IP address or CIDR (e.g. 127.0.0.1 or 10.20.0.0/16)", a)})
		}
	}
	return ps
}

// checkMetrics reports the metrics block's problems at their lines.
func (c *Config) checkMetrics(file string, root *yaml.Node) strictyaml.Errors {
	var errs strictyaml.Errors
	for _, p := range c.metricsProblems() {
		errs = append(errs, strictyaml.Errorf(file, nodeAt(root, p.path), "%s", p.msg))
	}
	return errs
}

// nodeAt follows path (mapping keys, or indexes into sequences) from n as
// far as it leads and returns the node reached.
func nodeAt(n *yaml.Node, path []string) *yaml.Node {
	for _, key := range path {
		switch n.Kind {
		case yaml.MappingNode:
			next := valueNode(n, key)
			if next == n {
				return n
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(n.Content) {
				return n
			}
			n = n.Content[i]
		default:
			return n
		}
	}
	return n
}
