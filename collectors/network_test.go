package collectors

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/strictyaml"
)

// batchSink records the batches written to it.
type batchSink struct {
	mu      sync.Mutex
	batches []*facts.Batch
	err     error
}

func (s *batchSink) Write(_ context.Context, b *facts.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.batches = append(s.batches, b)
	return nil
}

func (s *batchSink) all() *facts.Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out facts.Batch
	for _, b := range s.batches {
		out.Probes = append(out.Probes, b.Probes...)
		out.Maintenance = append(out.Maintenance, b.Maintenance...)
		out.Benchmarks = append(out.Benchmarks, b.Benchmarks...)
		out.Observations = append(out.Observations, b.Observations...)
	}
	return &out
}

// instanceFrom builds an Instance the way malbild.yaml's collectors list
// does: name, kind, tenant, schedule and timeout are the instance's, every
// other key is an option of the kind.
func instanceFrom(t *testing.T, file, src string) Instance {
	t.Helper()
	root, err := strictyaml.Parse(file, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	item := root
	if root.Kind == yaml.MappingNode && len(root.Content) == 2 && root.Content[0].Value == "collectors" {
		item = root.Content[1].Content[0]
	}
	inst := Instance{File: file, Tenant: "0120", Schedule: time.Hour, Timeout: 5 * time.Minute}
	opts := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: item.Line}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		switch k.Value {
		case "name":
			inst.Name = v.Value
		case "kind":
			inst.Kind = v.Value
		case "schedule", "timeout":
			d, err := time.ParseDuration(v.Value)
			if err != nil {
				t.Fatal(err)
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
	inst.Options = opts
	return inst
}

// wantOptionsError asserts that building src fails with an error naming
// file:line and containing msg.
func wantOptionsError(t *testing.T, src, where, msg string) {
	t.Helper()
	inst := instanceFrom(t, "/etc/malbild/malbild.yaml", src)
	_, err := New(inst)
	if err == nil {
		t.Fatalf("no error for\n%s", src)
	}
	if !strings.Contains(err.Error(), "/etc/malbild/malbild.yaml:"+where+":") || !strings.Contains(err.Error(), msg) {
		t.Fatalf("error %q, want %s: … %q", err, where, msg)
	}
}

// checkSample is checkSampleIn for the network kinds, documented in
// docs/collectors-network.md.
func checkSample(t *testing.T, kind, embedded string) Collector {
	t.Helper()
	return checkSampleIn(t, "collectors-network.md", kind, embedded)
}

// checkSampleIn builds the kind's embedded sample and checks that the copy
// in examples/collectors is the same file and that docs/<doc> shows it as
// it is.
func checkSampleIn(t *testing.T, doc, kind, embedded string) Collector {
	t.Helper()
	example, err := os.ReadFile(filepath.Join("..", "examples", "collectors", kind+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(example) != embedded {
		t.Errorf("examples/collectors/%s.yaml differs from collectors/samples/%s.yaml", kind, kind)
	}
	text, err := os.ReadFile(filepath.Join("..", "docs", doc))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "```yaml\n"+embedded+"```") {
		t.Errorf("docs/%s does not show collectors/samples/%s.yaml as it is", doc, kind)
	}
	inst := instanceFrom(t, filepath.Join(t.TempDir(), "malbild.yaml"), embedded)
	if inst.Kind != kind {
		t.Fatalf("sample kind %q, want %q", inst.Kind, kind)
	}
	c, err := New(inst)
	if err != nil {
		t.Fatalf("sample does not load: %v", err)
	}
	return c
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"  Mina sidor ":          "Mina sidor",
		"a\x00b\x1bc":            "abc",
		"evil\u202Egnp.exe":      "evilgnp.exe",
		"line\nbreak":            "line break",
		"bad\xffutf8":            "bad\uFFFDutf8",
		strings.Repeat("å", 300): strings.Repeat("å", 200),
	} {
		if got := cleanText(in, 200); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"30s": 30 * time.Second, "7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1h30m": 90 * time.Minute} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "d", "-1d", "soon", "-5s"} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q): no error", in)
		}
	}
}

func TestReadCapped(t *testing.T) {
	if b, err := readCapped(strings.NewReader("12345"), 5); err != nil || string(b) != "12345" {
		t.Fatalf("at the cap: %q, %v", b, err)
	}
	if _, err := readCapped(strings.NewReader("123456"), 5); err == nil {
		t.Fatal("over the cap: no error")
	}
}

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := stateFile(filepath.Join(dir, "state"), "kolada", "kolada/../x")
	if filepath.Dir(path) != filepath.Join(dir, "state") {
		t.Fatalf("state file %s escapes its directory", path)
	}
	var st koladaState
	if ok, err := loadState(path, &st); ok || err != nil {
		t.Fatalf("missing state: %v %v", ok, err)
	}
	if err := saveState(path, koladaState{LastSync: "2025-03-05", Fingerprint: "f"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := loadState(path, &st); !ok || err != nil || st.LastSync != "2025-03-05" {
		t.Fatalf("loaded %+v %v %v", st, ok, err)
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadState(path, &st); err == nil {
		t.Fatal("corrupt state: no error")
	}
}
