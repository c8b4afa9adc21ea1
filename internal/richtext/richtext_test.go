package richtext

import (
	"html/template"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHTML(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"En mening.", "<p>En mening.</p>"},
		{"Rad ett\nrad två.\n\nNytt stycke.", "<p>Rad ett rad två.</p><p>Nytt stycke.</p>"},
		{"Kommunen ska:\n- erbjuda e-tjänster\n- **samverka** med andra\n\nSlut.",
			"<p>Kommunen ska:</p><ul><li>erbjuda e-tjänster</li><li><strong>samverka</strong> med andra</li></ul><p>Slut.</p>"},
		{"- ett\n  fortsätter\n- två", "<ul><li>ett fortsätter</li><li>två</li></ul>"},
		{"Läs [planen](https://example.se/plan?a=1&b=2).", `<p>Läs <a href="https://example.se/plan?a=1&amp;b=2" rel="noopener noreferrer">planen</a>.</p>`},
		{"[klick](javascript:alert(1))", "<p>[klick](javascript:alert(1))</p>"},
		{"[x](//evil.example)", "<p>[x](//evil.example)</p>"},
		{"<script>alert(1)</script> & \"citat\"", "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;citat&#34;</p>"},
		{"**halv fet", "<p>**halv fet</p>"},
		{"5 * 3 = 15", "<p>5 * 3 = 15</p>"},
		{"[a](https://x.se/\"onmouseover=1)", "<p>[a](https://x.se/&#34;onmouseover=1)</p>"},
	} {
		if got := string(HTML(tc.in)); got != tc.want {
			t.Errorf("HTML(%q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
	if got := Plain("Kommunen ska:\n- **samverka**\n- läsa [planen](https://x.se)"); got != "Kommunen ska: samverka läsa planen" {
		t.Errorf("Plain = %q", got)
	}
}

// FuzzHTML checks that no input gives markup beyond the subset: every tag
// in the output is one the renderer writes, and every link is http(s).
func FuzzHTML(f *testing.F) {
	for _, s := range []string{"", "a\n\nb", "- x\n- **y**", "[a](https://b.se)", "<b>x</b>", "[a](javascript:x)", "**[a](http://b)**", "- [x](https://a.se?q=\"<>)\n**", "\r\n- a\r\n\r\nb"} {
		f.Add(s)
	}
	allowed := []string{"<p>", "</p>", "<ul>", "</ul>", "<li>", "</li>", "<strong>", "</strong>", "</a>"}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		out := string(HTML(s))
		for i := 0; i < len(out); {
			j := strings.IndexByte(out[i:], '<')
			if j < 0 {
				break
			}
			rest := out[i+j:]
			ok := false
			for _, a := range allowed {
				if strings.HasPrefix(rest, a) {
					ok = true
				}
			}
			if strings.HasPrefix(rest, `<a href="http://`) || strings.HasPrefix(rest, `<a href="https://`) {
				ok = true
			}
			if !ok {
				t.Fatalf("HTML(%q) writes a tag outside the subset at %q", s, rest)
			}
			i += j + 1
		}
		_ = template.HTML(out)
		_ = Plain(s)
	})
}
