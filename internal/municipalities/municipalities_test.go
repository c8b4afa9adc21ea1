package municipalities

import "testing"

func TestRegister(t *testing.T) {
	all := All()
	if len(all) != 290 {
		t.Fatalf("%d municipalities, want 290", len(all))
	}
	for code, want := range map[string]string{"0120": "Värmdö", "120": "Värmdö", "0180": "Stockholm", "1480": "Göteborg", "2584": "Kiruna", "1481": "Mölndal"} {
		if got := Name(code); got != want {
			t.Errorf("Name(%q) = %q, want %q", code, got, want)
		}
	}
	for _, code := range []string{"", "9999", "01200", "abcd"} {
		if _, ok := Lookup(code); ok {
			t.Errorf("Lookup(%q) found a municipality", code)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, s := range map[string]string{
		"header":    "code,name,county\n0120,Värmdö,01\n",
		"short":     "kommunkod,namn,lanskod\n120,Värmdö,01\n",
		"duplicate": "kommunkod,namn,lanskod\n0120,Värmdö,01\n0120,Värmdö,01\n",
		"no name":   "kommunkod,namn,lanskod\n0120,,01\n",
	} {
		if _, err := parse(s); err == nil {
			t.Errorf("%s: parse accepted %q", name, s)
		}
	}
}
