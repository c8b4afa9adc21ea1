package municipalities

import (
	"strings"
	"testing"
)

func TestRegister(t *testing.T) {
	ms := All()
	if len(ms) != 290 {
		t.Fatalf("%d municipalities, want 290", len(ms))
	}
	seen := map[string]bool{}
	for i, m := range ms {
		if len(m.Code) != 4 || !strings.HasPrefix(m.Code, m.County) || m.Name == "" {
			t.Errorf("row %d: %+v", i, m)
		}
		if seen[m.Code] {
			t.Errorf("%s twice", m.Code)
		}
		seen[m.Code] = true
		if i > 0 && ms[i-1].Code >= m.Code {
			t.Errorf("%s after %s: not in code order", m.Code, ms[i-1].Code)
		}
	}
	for code, want := range map[string]string{"0120": "Värmdö", "0187": "Vaxholm", "1481": "Mölndal", "0188": "Norrtälje", "0180": "Stockholm", "0980": "Gotland"} {
		if got, ok := Name(code); !ok || got != want {
			t.Errorf("Name(%s) = %q, %v; want %q", code, got, ok, want)
		}
	}
	if _, ok := Name("0000"); ok {
		t.Error("Name(0000) found")
	}
	ms[0].Name = "changed"
	if n, _ := Name(All()[0].Code); n == "changed" {
		t.Error("All returns the register itself, not a copy")
	}
}
