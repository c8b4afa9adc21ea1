package followup

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/malbild/malbild/internal/pnr"
)

// textField describes one free-text field the workflow accepts: what it is
// called in messages, how long it may be and what it may hold. Every free
// text goes through checkText with its field, so that limits, character
// rules and the personal-data guard are the same everywhere.
type textField struct {
	// SV and EN name the field at the start of a sentence
	// ("Kommentaren", "The comment").
	SV, EN string
	// Max is the most characters (runes) the field takes.
	Max int
	// Required refuses an empty (or all-blank) text, saying Missing (or
	// that the field is missing).
	Required bool
	Missing  [2]string
	// Lines allows line breaks and tabs (a comment); without it the text
	// is one line (a dimension, a name).
	Lines bool
}

// The free-text fields of the workflow.
var (
	fieldComment = textField{SV: "Kommentaren", EN: "The comment", Max: MaxComment, Required: true, Lines: true,
		Missing: [2]string{"Skriv en kommentar.", "Write a comment."}}
	fieldFileComment = textField{SV: "Kommentaren i filen", EN: "The comment in the file", Max: MaxComment, Lines: true}
	fieldReason      = textField{SV: "Motiveringen", EN: "The reason", Max: 1000, Required: true, Lines: true,
		Missing: [2]string{"Ange varför perioden öppnas igen.", "Give the reason for reopening the period."}}
	fieldDimKind     = textField{SV: "Dimensionens typ", EN: "The dimension's kind", Max: 200}
	fieldDimValue    = textField{SV: "Dimensionens värde", EN: "The dimension's value", Max: 200}
	fieldFileName    = textField{SV: "Filnamnet", EN: "The file name", Max: 200}
	fieldDisplayName = textField{SV: "Visningsnamnet", EN: "The display name", Max: 200}
	fieldOwner       = textField{SV: "Ägaren", EN: "The owner", Max: 200}
	fieldUserName    = textField{SV: "Användarnamnet", EN: "The user name", Max: 200}
)

// checkText checks and cleans one free text: CRLF becomes LF and the
// ends are trimmed; it is refused, with a message in Swedish and English
// that never repeats the text, when it is not valid UTF-8, holds control
// characters (line breaks and tabs only where f allows lines) or
// bidirectional overrides, is longer than f.Max characters, is empty
// although required, or looks like it holds a personnummer or
// samordningsnummer. where prefixes each message (e.g. the row of a file).
func checkText(p *problems, f textField, where, s string) string {
	if !utf8.ValidString(s) {
		p.add(where+f.SV+" är inte giltig text (UTF-8). Skriv in den igen eller spara filen som UTF-8.",
			where+f.EN+" is not valid text (UTF-8). Type it again or save the file as UTF-8.")
		return ""
	}
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0 && f.Required:
		if f.Missing[0] != "" {
			p.add(where+f.Missing[0], where+f.Missing[1])
		} else {
			p.add(where+f.SV+" saknas.", where+f.EN+" is missing.")
		}
	case n > f.Max:
		p.add(fmt.Sprintf("%s%s är %d tecken; högst %d får plats.", where, f.SV, n, f.Max),
			fmt.Sprintf("%s%s is %d characters; at most %d fit.", where, f.EN, n, f.Max))
	case strings.ContainsFunc(s, func(r rune) bool { return badChar(r, f.Lines) }):
		what, whatEN := "otillåtna tecken (styrtecken)", "characters that are not allowed (control characters)"
		if !f.Lines && strings.ContainsAny(s, "\n\r\t") {
			what, whatEN = "radbrytningar eller tabbar; den ska vara en rad", "line breaks or tabs; it must be one line"
		}
		p.add(where+f.SV+" innehåller "+what+".", where+f.EN+" contains "+whatEN+".")
	default:
		if kind, found := pnr.Find(s); found {
			p.add(fmt.Sprintf("%s%s ser ut att innehålla %s. Personuppgifter får inte sparas här: ta bort numret.", where, f.SV, kind.Swedish()),
				fmt.Sprintf("%s%s seems to contain %s. Personal data must not be stored here: remove the number.", where, f.EN, kind.English()))
		}
	}
	return s
}

// badChar reports characters no free text may hold: control characters
// (line feeds and tabs aside where lines are allowed), bidirectional
// overrides and isolates, which can make a text read differently from what
// it is, and the byte-order mark.
func badChar(r rune, lines bool) bool {
	switch {
	case lines && (r == '\n' || r == '\t'):
		return false
	case unicode.IsControl(r):
		return true
	case r == '\u200e' || r == '\u200f' || r == '\u061c' || r == '\ufeff',
		r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
