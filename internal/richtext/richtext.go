// Package richtext renders the small, safe Markdown subset strategy texts
// may use: paragraphs (separated by a blank line), lists ("- " or "* " at
// the start of a line), **bold**, and links [text](https://…) with http
// or https addresses only. Everything else is text: the output escapes
// every character of the input, so it is safe to put in a page as
// template.HTML.
package richtext

import (
	"html"
	"html/template"
	"net/url"
	"strings"
)

// HTML renders s as HTML: <p> for paragraphs, <ul><li> for lists.
func HTML(s string) template.HTML {
	var b strings.Builder
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	var para []string
	inList := false
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>")
			b.WriteString(inline(strings.Join(para, " ")))
			b.WriteString("</p>")
			para = nil
		}
	}
	closeList := func() {
		if inList {
			b.WriteString("</ul>")
			inList = false
		}
	}
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flushPara()
			closeList()
		case strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") || t == "-" || t == "*":
			flushPara()
			if !inList {
				b.WriteString("<ul>")
				inList = true
			}
			b.WriteString("<li>")
			b.WriteString(inline(strings.TrimSpace(t[1:])))
			b.WriteString("</li>")
		case inList && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")):
			// A continuation line of a list item: append to it.
			out := b.String()
			if strings.HasSuffix(out, "</li>") {
				b.Reset()
				b.WriteString(strings.TrimSuffix(out, "</li>"))
				b.WriteString(" ")
				b.WriteString(inline(t))
				b.WriteString("</li>")
			}
		default:
			closeList()
			para = append(para, t)
		}
	}
	flushPara()
	closeList()
	return template.HTML(b.String())
}

// Plain strips the markup and gives the text alone (for titles, meta
// descriptions and charts).
func Plain(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") {
			t = strings.TrimSpace(t[2:])
		}
		if t != "" {
			out = append(out, t)
		}
	}
	t := strings.Join(out, " ")
	var b strings.Builder
	for len(t) > 0 {
		if strings.HasPrefix(t, "**") {
			t = t[2:]
			continue
		}
		if text, _, rest, ok := link(t); ok {
			b.WriteString(text)
			t = rest
			continue
		}
		b.WriteByte(t[0])
		t = t[1:]
	}
	return b.String()
}

// inline renders bold and links in one line of text, escaping the rest.
func inline(t string) string {
	var b strings.Builder
	bold := false
	for len(t) > 0 {
		switch {
		case strings.HasPrefix(t, "**"):
			if bold {
				b.WriteString("</strong>")
				bold = false
			} else if strings.Contains(t[2:], "**") {
				b.WriteString("<strong>")
				bold = true
			} else {
				b.WriteString("**")
			}
			t = t[2:]
			continue
		case t[0] == '[':
			if text, href, rest, ok := link(t); ok {
				b.WriteString(`<a href="`)
				b.WriteString(html.EscapeString(href))
				b.WriteString(`" rel="noopener noreferrer">`)
				b.WriteString(html.EscapeString(text))
				b.WriteString("</a>")
				t = rest
				continue
			}
		}
		i := strings.IndexAny(t[1:], "*[")
		n := len(t)
		if i >= 0 {
			n = i + 1
		}
		b.WriteString(html.EscapeString(t[:n]))
		t = t[n:]
	}
	if bold {
		b.WriteString("</strong>")
	}
	return b.String()
}

// link reads "[text](https://…)" at the start of t. Only absolute http
// and https addresses without spaces make a link.
func link(t string) (text, href, rest string, ok bool) {
	if !strings.HasPrefix(t, "[") {
		return "", "", "", false
	}
	end := strings.Index(t, "](")
	if end < 0 {
		return "", "", "", false
	}
	close := strings.IndexByte(t[end+2:], ')')
	if close < 0 {
		return "", "", "", false
	}
	text, href = t[1:end], t[end+2:end+2+close]
	if text == "" || strings.ContainsAny(text, "[]") || strings.ContainsAny(href, " \t\"'<>`") {
		return "", "", "", false
	}
	u, err := url.Parse(href)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", "", false
	}
	return text, href, t[end+2+close+1:], true
}
