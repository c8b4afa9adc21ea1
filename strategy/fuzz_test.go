package strategy

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/malbild/malbild/internal/strictyaml"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic; it must
// either return a strategy or strictyaml.Errors naming the file; and what
// it accepts must survive Format and Parse unchanged.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	examples, _ := filepath.Glob("../examples/strategies/*.yaml")
	for _, p := range append(seeds, examples...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimal + "            target_3y: halve\n            yearly: {2021: 40}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			var es strictyaml.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error is %T %v, want strictyaml.Errors", err, err)
			}
			for _, e := range es {
				if e.File != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("bad error %+v", e)
				}
			}
			if s != nil {
				t.Fatalf("strategy returned with errors")
			}
			return
		}
		out, err := Format(s)
		if err != nil {
			t.Fatalf("Format: %v", err)
		}
		back, err := Parse("fuzz.yaml", out)
		if err != nil {
			t.Fatalf("formatted strategy does not parse: %v\n%s", err, out)
		}
		a, _ := json.Marshal(s)
		b, _ := json.Marshal(back)
		if string(a) != string(b) {
			t.Fatalf("round trip changed the strategy\n%s\n%s", a, b)
		}
	})
}
