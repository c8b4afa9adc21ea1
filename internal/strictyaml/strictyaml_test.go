package strictyaml

import (
	"strings"
	"testing"
)

type inner struct {
	Name string `yaml:"name"`
}

type outer struct {
	ID    string  `yaml:"id"`
	Items []inner `yaml:"items"`
	Count int     `yaml:"count"`
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"ok", "id: a\nitems:\n  - name: x\n", ""},
		{"unknown top key", "id: a\nnmae: x\n", "f.yaml:2: unknown key \"nmae\""},
		{"unknown nested key", "id: a\nitems:\n  - name: x\n  - nam: y\n", "f.yaml:4: unknown key \"nam\" (did you mean \"name\"?)"},
		{"duplicate key", "id: a\nid: b\n", "f.yaml:2: mapping key \"id\" already defined at line 1"},
		{"type error", "id: a\ncount: many\n", `f.yaml:2: count: want a number, found "many"`},
		{"list for a string", "id: [a, b]\n", "f.yaml:1: id: want a single value (text, a number or a date), found a list"},
		{"mapping for a list", "id: a\nitems: {name: x}\n", "f.yaml:2: items: want a list (one \"- \" line per item, or [a, b]), found a mapping (key: value lines)"},
		{"string for a mapping", "id: a\nitems:\n  - x\n", `f.yaml:3: want a mapping (key: value lines), found "x"`},
		{"empty", "", "f.yaml: file is empty"},
		{"syntax", "id: [a\n", "f.yaml:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out outer
			n, err := Parse("f.yaml", []byte(tc.src))
			if err == nil {
				err = Decode("f.yaml", n, &out)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if out.ID != "a" || len(out.Items) != 1 || out.Items[0].Name != "x" {
					t.Fatalf("decoded %+v", out)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error = %v, want prefix %q", err, tc.want)
			}
		})
	}
}
