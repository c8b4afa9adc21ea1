// Package pnr finds Swedish personal identity numbers — personnummer and
// samordningsnummer — in text. It is the one detector behind every check
// that keeps personal data out of Målbild: the collectors' file rows and
// the follow-up workflow's free texts.
//
// A match is 10 or 12 digits (YYMMDDNNNC or YYYYMMDDNNNC), either in one
// run or with one separator before the last four: '-', '+' (the form for
// people over 100), a space (also no-break and thin spaces) or a dash
// (hyphen, en dash, em dash, minus sign). The date must be real — the day
// plus 60 for a samordningsnummer — and the check digit must pass the Luhn
// test: a number with a wrong check digit is an ordinary id, not a person.
// The digits must not continue a longer number: neither more digits right
// beside them nor another group joined to them by a separator.
//
// Callers must never repeat what was found: messages say what kind of
// number a field looks like, not which.
package pnr

import (
	"unicode/utf8"
)

// Kind is what was found.
type Kind string

// The kinds Find reports.
const (
	Personnummer      Kind = "personnummer"
	Samordningsnummer Kind = "samordningsnummer"
)

// Swedish is the kind's name in a Swedish sentence ("ett personnummer").
func (k Kind) Swedish() string { return "ett " + string(k) }

// English is the kind's name in an English sentence.
func (k Kind) English() string {
	if k == Samordningsnummer {
		return "a coordination number (samordningsnummer)"
	}
	return "a personal identity number (personnummer)"
}

// Find reports whether s contains a personnummer or samordningsnummer,
// and which kind the first one is.
func Find(s string) (Kind, bool) {
	digits := 0
	for i := 0; i < len(s) && digits < 10; i++ {
		if isDigit(s[i]) {
			digits++
		}
	}
	if digits < 10 {
		return "", false
	}
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if k, ok := candidate(s, i, j); ok {
			return k, true
		}
		i = j
	}
	return "", false
}

// candidate checks the maximal digit run s[i:j] as the whole number or,
// with a separator and four more digits after it, as its first part.
func candidate(s string, i, j int) (Kind, bool) {
	if joinedBefore(s, i) {
		return "", false
	}
	switch n := j - i; n {
	case 10, 12:
		if joinedAfter(s, j) {
			return "", false
		}
		return check(s[i:j])
	case 6, 8:
		_, w, ok := separatorAt(s, j)
		if !ok {
			return "", false
		}
		k := j + w
		e := k
		for e < len(s) && isDigit(s[e]) {
			e++
		}
		if e-k != 4 || joinedAfter(s, e) {
			return "", false
		}
		return check(s[i:j] + s[k:e])
	}
	return "", false
}

// joinedBefore reports whether the digits starting at i continue a
// number before them: a separator with a digit before it.
func joinedBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	r, w := utf8.DecodeLastRuneInString(s[:i])
	if !isSeparator(r) {
		return false
	}
	return i-w > 0 && isDigit(s[i-w-1])
}

// joinedAfter reports whether a separator and a digit follow position j.
func joinedAfter(s string, j int) bool {
	_, w, ok := separatorAt(s, j)
	return ok && j+w < len(s) && isDigit(s[j+w])
}

func separatorAt(s string, j int) (rune, int, bool) {
	if j >= len(s) {
		return 0, 0, false
	}
	r, w := utf8.DecodeRuneInString(s[j:])
	return r, w, isSeparator(r)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isSeparator reports the characters that may stand between the date and
// the last four digits.
func isSeparator(r rune) bool {
	switch r {
	case '-', '+', ' ',
		'\u00a0', // no-break space
		'\u2009', // thin space
		'\u202f', // narrow no-break space
		'\u2010', // hyphen
		'\u2011', // non-breaking hyphen
		'\u2012', // figure dash
		'\u2013', // en dash
		'\u2014', // em dash
		'\u2212': // minus sign
		return true
	}
	return false
}

// check checks 10 or 12 digits as a number: a real date and a valid Luhn
// check digit.
func check(d string) (Kind, bool) {
	year := -1 // unknown century: allow 29 February
	ten := d
	if len(d) == 12 {
		c := num(d[0:2])
		if c < 18 || c > 20 {
			return "", false
		}
		year = c*100 + num(d[2:4])
		ten = d[2:]
	}
	month, day := num(ten[2:4]), num(ten[4:6])
	kind := Personnummer
	if day > 60 {
		kind, day = Samordningsnummer, day-60
	}
	if month < 1 || month > 12 || day < 1 {
		return "", false
	}
	y := year
	if y < 0 {
		y = 2000 // a leap year
	}
	if day > daysIn(y, month) || !luhn(ten) {
		return "", false
	}
	return kind, true
}

func num(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// luhn reports whether the ten digits pass the Luhn check used for
// personnummer (weights 2,1,2,1,… from the left).
func luhn(d string) bool {
	sum := 0
	for i := 0; i < len(d); i++ {
		x := int(d[i] - '0')
		if i%2 == 0 {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return sum%10 == 0
}
