package collectors

// Helpers shared by the network collector kinds (http_probe, prometheus,
// kolada): capped reads of untrusted answers, label cleaning, option
// scalars with line numbers, HTTP clients and small state files.

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/strategy"
)

// maxResponseBytes caps every answer read from an upstream API.
const maxResponseBytes = 50 << 20

// errResponseTooLarge is returned when an upstream answer exceeds its cap.
var errResponseTooLarge = errors.New("response too large")

// readCapped reads all of r, failing when it holds more than limit bytes.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", errResponseTooLarge, limit)
	}
	return b, nil
}

// cappedBody is a response body that fails once more than left bytes are
// read from it, for readers we do not control (the Prometheus client).
type cappedBody struct {
	body  io.ReadCloser
	left  int64
	limit int64
}

func (c *cappedBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		n, err := c.body.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w: more than %d bytes", errResponseTooLarge, c.limit)
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.body.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cappedBody) Close() error { return c.body.Close() }

// cleanText makes a string from outside safe to store and show: invalid
// UTF-8 is replaced, control and bidirectional formatting characters are
// dropped, surrounding space trimmed and the result cut to max runes.
func cleanText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n >= max {
			break
		}
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case unicode.IsControl(r), isBidiControl(r):
			continue
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// isBidiControl reports whether r reorders text (used to spoof labels).
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}

// hasControl reports whether s holds characters cleanText would drop.
func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if unicode.IsControl(r) || isBidiControl(r) {
			return true
		}
	}
	return false
}

// snippet is a short, clean excerpt of an error body for messages.
func snippet(b []byte) string {
	const max = 200
	s := cleanText(string(b[:min(len(b), 4*max)]), max)
	if s == "" {
		return "(empty body)"
	}
	return s
}

// optionAt returns the node at path (string keys, int indices) below root,
// or the deepest node found on the way, so errors about decoded options can
// still name a line.
func optionAt(root *yaml.Node, path ...any) *yaml.Node {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, p := range path {
		if n == nil {
			return root
		}
		var next *yaml.Node
		switch p := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && p >= 0 && p < len(n.Content) {
				next = n.Content[p]
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// lineError is a decoding error at n's line, in the form strictyaml turns
// into "file:line: message".
func lineError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, fmt.Sprintf(format, args...))}}
}

// durationOption is a duration in the options: Go syntax ("90s", "1h30m")
// or whole days and weeks ("7d", "2w").
type durationOption struct {
	D   time.Duration
	Set bool
}

func (d *durationOption) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return lineError(n, "want a duration such as 30s, 5m or 7d")
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return lineError(n, "%v", err)
	}
	d.D, d.Set = v, true
	return nil
}

// or returns d, or def when d was not set.
func (d durationOption) or(def time.Duration) time.Duration {
	if d.Set {
		return d.D
	}
	return def
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("invalid duration %q (want e.g. 30s, 5m, 2h or 7d)", s)
	if s == "" {
		return 0, bad
	}
	if unit := s[len(s)-1]; unit == 'd' || unit == 'w' {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n < 0 || n > 10000 {
			return 0, bad
		}
		day := 24 * time.Hour
		if unit == 'w' {
			day *= 7
		}
		return time.Duration(n) * day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, bad
	}
	return d, nil
}

// httpURL checks that s is an absolute http or https URL with a host.
func httpURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q: %v", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("URL %q must start with http:// or https://", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %q has no host", s)
	}
	if u.User != nil {
		return nil, fmt.Errorf("URL %q must not carry a user or password", u.Redacted())
	}
	return u, nil
}

// loadCAFile reads extra trusted certificates (PEM) on top of the system
// pool.
func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

// newTransport returns an HTTP transport with TLS verification on, trusting
// roots (nil: the system pool) and at least TLS 1.2.
func newTransport(roots *x509.CertPool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return t
}

// stateFile is where a collector instance keeps what it needs between
// runs (e.g. the last successful sync). Empty dir means no state is kept.
func stateFile(dir, kind, instance string) string {
	if dir == "" {
		return ""
	}
	safe := strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
			return r
		}
		return '_'
	}, instance)
	return filepath.Join(dir, kind+"-"+safe+".json")
}

// loadState reads state from path into v. A missing file (or no path)
// leaves v untouched and reports false.
func loadState(path string, v any) (bool, error) {
	if path == "" {
		return false, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading state: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("reading state %s: %w", path, err)
	}
	return true, nil
}

// saveState writes v to path atomically (temporary file, then rename).
func saveState(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	f, err := os.CreateTemp(dir, ".state-*")
	if err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing state %s: %w", path, err)
	}
	return nil
}

// batchVersion orders a batch against earlier imports of the same rows.
func batchVersion(t time.Time) uint64 { return uint64(t.UnixNano()) }

// tenantOf is the tenant a run writes for.
func tenantOf(req Request, inst Instance) string {
	if req.Tenant != "" {
		return req.Tenant
	}
	return inst.Tenant
}

// checkObservations applies the strategy's checks a run was given:
// indicators the strategy does not know, and percentages outside 0–100.
// hint is added to the message for a percentage out of range.
func checkObservations(req Request, obs []strategy.Observation, hint string) error {
	for _, o := range obs {
		if req.Indicators != nil && !req.Indicators[o.Indicator] {
			return fmt.Errorf("unknown indicator %q: the strategy has no indicator with that id", o.Indicator)
		}
		if req.Units[o.Indicator] == strategy.UnitPercent && (o.Value < 0 || o.Value > 100) {
			return fmt.Errorf("indicator %s, %s: %g percent is outside 0–100%s", o.Indicator, o.Period, o.Value, hint)
		}
	}
	return nil
}
