package swecsv

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Stockholm must resolve on machines without tzdata
	"unicode"
	"unicode/utf8"
)

// Stockholm is the time zone dates without a zone are read in.
var Stockholm = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		panic(err)
	}
	return loc
}()

// MaxLen is the longest text field accepted, in characters. Longer values
// are not labels or ids but a sign of a broken export.
const MaxLen = 1000

// Clean trims s and removes control characters (tabs and line breaks
// become spaces) and bidirectional-override characters. Labels otherwise
// stay as they are: escaping is the page's job. A value longer than MaxLen
// characters is an error.
func Clean(s string) (string, error) {
	dirty := false
	for i := 0; i < len(s); i++ {
		if suspect[s[i]] {
			dirty = true
			break
		}
	}
	if dirty {
		s = strings.Map(func(r rune) rune {
			switch {
			case r == '\t' || r == '\n' || r == '\r':
				return ' '
			case unicode.IsControl(r), isBidiControl(r), r == '\ufeff':
				return -1
			}
			return r
		}, s)
	}
	s = strings.TrimSpace(s)
	if len(s) > MaxLen && utf8.RuneCountInString(s) > MaxLen {
		return "", fmt.Errorf("value is %d characters long (at most %d)", utf8.RuneCountInString(s), MaxLen)
	}
	return s, nil
}

// suspect marks the bytes that may begin a character Clean removes or
// changes: C0 controls, DEL, and the lead bytes of C1 controls
// (U+0080–U+009F, 0xC2 0x80–0x9F) and of the bidi and BOM characters
// (0xE2, 0xEF).
var suspect = func() (t [256]bool) {
	for b := range 0x20 {
		t[b] = true
	}
	t[0x7f], t[0xc2], t[0xe2], t[0xef] = true, true, true, true
	return t
}()

func isBidiControl(r rune) bool {
	return r == '\u200e' || r == '\u200f' || r == '\u061c' ||
		(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// Quote quotes an untrusted value for an error message, shortened to 40
// characters.
func Quote(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		s = string(r[:40]) + "…"
	}
	return strconv.Quote(s)
}

var errEmpty = errors.New("empty value")

// ParseNumber reads a number the way Swedish Excel writes it: decimal
// comma or point ("12,5", "12.5"), spaces or no-break spaces between digit
// groups ("1 234,5"), a Unicode minus sign, and an optional trailing
// percent sign ("45 %" is 45). Mixing comma and point, several decimal
// separators, exponents, NaN and infinities are errors.
func ParseNumber(s string) (float64, error) {
	var buf [64]byte
	n, seps, digits := 0, 0, 0
	var sepChar byte
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errEmpty
	}
	if strings.HasSuffix(s, "%") {
		s = strings.TrimSpace(s[:len(s)-1])
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == ',' || c == '.':
			if sepChar != 0 && sepChar != c {
				return 0, fmt.Errorf("invalid number %s: both comma and point", Quote(s))
			}
			sepChar = c
			seps++
			c = '.'
		case (c == '-' || c == '+') && n == 0:
		case c == ' ' && digits > 0:
			continue
		case c == 0xc2 && i+1 < len(s) && s[i+1] == 0xa0 && digits > 0: // no-break space
			i++
			continue
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xaf || s[i+2] == 0x89) && digits > 0: // narrow no-break / thin space
			i += 2
			continue
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x88 && s[i+2] == 0x92 && n == 0: // minus sign
			i += 2
			c = '-'
		default:
			return 0, fmt.Errorf("invalid number %s", Quote(s))
		}
		if n == len(buf) {
			return 0, fmt.Errorf("invalid number %s: too long", Quote(s))
		}
		buf[n] = c
		n++
	}
	if digits == 0 || seps > 1 {
		return 0, fmt.Errorf("invalid number %s", Quote(s))
	}
	if buf[n-1] == '.' {
		return 0, fmt.Errorf("invalid number %s", Quote(s))
	}
	v, err := strconv.ParseFloat(string(buf[:n]), 64)
	if err != nil {
		return 0, fmt.Errorf("invalid number %s", Quote(s))
	}
	return v, nil
}

// ParseBool reads Ja/Nej (also yes/no, true/false, 1/0), case-insensitive.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ja", "j", "yes", "y", "true", "sant", "1", "x":
		return true, nil
	case "nej", "n", "no", "false", "falskt", "0":
		return false, nil
	case "":
		return false, errEmpty
	}
	return false, fmt.Errorf("invalid yes/no value %s (want Ja or Nej)", Quote(s))
}

// ParseTime reads a Swedish date or date and time: "2024-03-05",
// "2024-03-05 14:02" or "2024-03-05 14:02:33" ('T' may stand for the
// space), in Europe/Stockholm. hasClock reports whether a time of day was
// given; a date alone is midnight.
func ParseTime(s string) (t time.Time, hasClock bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false, errEmpty
	}
	fail := func() (time.Time, bool, error) {
		return time.Time{}, false, fmt.Errorf("invalid date %s (want YYYY-MM-DD or YYYY-MM-DD hh:mm)", Quote(s))
	}
	if len(s) != 10 && len(s) != 16 && len(s) != 19 {
		return fail()
	}
	if s[4] != '-' || s[7] != '-' {
		return fail()
	}
	y, ok1 := digits(s, 0, 4)
	mo, ok2 := digits(s, 5, 2)
	d, ok3 := digits(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || y < 1900 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return fail()
	}
	var h, mi, sec int
	if len(s) > 10 {
		if (s[10] != ' ' && s[10] != 'T') || s[13] != ':' {
			return fail()
		}
		var okh, okm bool
		h, okh = digits(s, 11, 2)
		mi, okm = digits(s, 14, 2)
		if !okh || !okm || h > 23 || mi > 59 {
			return fail()
		}
		if len(s) == 19 {
			var oks bool
			sec, oks = digits(s, 17, 2)
			if s[16] != ':' || !oks || sec > 59 {
				return fail()
			}
		}
		hasClock = true
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, Stockholm), hasClock, nil
}

// ParseDate reads a date as ParseTime does and drops any time of day.
func ParseDate(s string) (time.Time, error) {
	t, _, err := ParseTime(s)
	if err != nil {
		return time.Time{}, err
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Stockholm), nil
}

// digits reads the n decimal digits of s at at; false when one is not a
// digit.
func digits[T string | []byte](s T, at, n int) (int, bool) {
	v := 0
	for i := at; i < at+n; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// IsEmpty reports whether err is the error for an empty value.
func IsEmpty(err error) bool { return errors.Is(err, errEmpty) }
