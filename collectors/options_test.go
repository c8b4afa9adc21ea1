package collectors

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/malbild/malbild/internal/strictyaml"
)

func optionsNode(t *testing.T, src string) Instance {
	t.Helper()
	n, err := strictyaml.Parse("malbild.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return Instance{Name: "bygg", Kind: "cases_csv", File: "/etc/malbild/malbild.yaml", Options: n}
}

type testOptions struct {
	Path      string   `yaml:"path"`
	Delimiter string   `yaml:"delimiter"`
	Channels  []string `yaml:"digital_channels"`
}

func TestDecodeOptions(t *testing.T) {
	inst := optionsNode(t, "path: data/cases.csv\ndigital_channels: [Webb]\n")
	o := testOptions{Delimiter: ";"}
	if err := DecodeOptions(inst, &o); err != nil {
		t.Fatal(err)
	}
	if o.Path != "data/cases.csv" || o.Delimiter != ";" || len(o.Channels) != 1 || o.Channels[0] != "Webb" {
		t.Fatalf("decoded %+v", o)
	}
}

func TestDecodeOptionsUnknownKey(t *testing.T) {
	inst := optionsNode(t, "path: a.csv\n\ndelimitr: ','\n")
	err := DecodeOptions(inst, &testOptions{})
	if err == nil {
		t.Fatal("unknown key accepted")
	}
	want := `/etc/malbild/malbild.yaml:3: collector "bygg" (cases_csv): unknown key "delimitr" (did you mean "delimiter"?)`
	if err.Error() != want {
		t.Fatalf("got  %q\nwant %q", err, want)
	}
}

func TestDecodeOptionsTypeMismatch(t *testing.T) {
	inst := optionsNode(t, "path: a.csv\ndigital_channels:\n  a: b\n")
	err := DecodeOptions(inst, &testOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "/etc/malbild/malbild.yaml:3: ") {
		t.Fatalf("got %v, want an error at line 3", err)
	}
}

func TestDecodeOptionsEmpty(t *testing.T) {
	o := testOptions{Delimiter: ";"}
	if err := DecodeOptions(Instance{Name: "x"}, &o); err != nil || o.Delimiter != ";" {
		t.Fatalf("nil options: %v %+v", err, o)
	}
	if err := DecodeOptions(optionsNode(t, "[a, b]\n"), &o); err == nil || !strings.Contains(err.Error(), "options must be a mapping") {
		t.Fatalf("sequence options: %v", err)
	}
	if err := DecodeOptions(Instance{}, o); err == nil {
		t.Fatal("non-pointer accepted")
	}
}

func TestOptionsError(t *testing.T) {
	inst := optionsNode(t, "path: a.csv\n")
	err := OptionsError(inst, inst.Options.Content[1], "file %q not found", "a.csv")
	want := `/etc/malbild/malbild.yaml:1: collector "bygg" (cases_csv): file "a.csv" not found`
	if err.Error() != want {
		t.Fatalf("got  %q\nwant %q", err, want)
	}
}

func TestResolvePath(t *testing.T) {
	inst := Instance{File: filepath.FromSlash("/etc/malbild/malbild.yaml")}
	for _, c := range []struct{ in, want string }{
		{"data/x.csv", "/etc/malbild/data/x.csv"},
		{"../x.csv", "/etc/x.csv"},
		{"/srv/x.csv", "/srv/x.csv"},
		{"", ""},
	} {
		if got := ResolvePath(inst, c.in); got != filepath.FromSlash(c.want) {
			t.Errorf("ResolvePath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := ResolvePath(Instance{}, "x.csv"); got != "x.csv" {
		t.Errorf("without config file: %q", got)
	}
}
