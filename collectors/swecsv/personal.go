package swecsv

// Kinds of Swedish personal identity numbers PersonalID finds.
const (
	Personnummer      = "personnummer"
	Samordningsnummer = "samordningsnummer"
)

// PersonalID reports whether s contains something that looks like a
// Swedish personnummer or samordningsnummer: 10 or 12 digits (YYMMDDNNNC
// or YYYYMMDDNNNC), optionally with '-' or '+' before the last four, not
// part of a longer run of digits, with a real month and day (the day plus
// 60 for a samordningsnummer) and a valid Luhn check digit. kind is
// Personnummer or Samordningsnummer.
//
// A number with a wrong check digit is an ordinary id, not a person.
func PersonalID(s string) (kind string, found bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	if n < 10 {
		return "", false
	}
	for i := 0; i < len(s); {
		if !isIDChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isIDChar(s[j]) {
			j++
		}
		if k, ok := checkRun(s[i:j]); ok {
			return k, true
		}
		i = j
	}
	return "", false
}

func isIDChar(c byte) bool { return (c >= '0' && c <= '9') || c == '-' || c == '+' }

// checkRun checks one maximal run of digits, '-' and '+'.
func checkRun(run string) (string, bool) {
	for len(run) > 0 && (run[0] == '-' || run[0] == '+') {
		run = run[1:]
	}
	for len(run) > 0 && (run[len(run)-1] == '-' || run[len(run)-1] == '+') {
		run = run[:len(run)-1]
	}
	var d [12]byte
	n := 0
	sepAt := -1
	for i := 0; i < len(run); i++ {
		c := run[i]
		if c == '-' || c == '+' {
			if sepAt >= 0 {
				return "", false
			}
			sepAt = n
			continue
		}
		if n == len(d) {
			return "", false
		}
		d[n] = c - '0'
		n++
	}
	if n != 10 && n != 12 {
		return "", false
	}
	if sepAt >= 0 && sepAt != n-4 {
		return "", false
	}
	year := -1 // unknown century: allow 29 February
	ten := d[:n]
	if n == 12 {
		c := int(d[0])*10 + int(d[1])
		if c < 18 || c > 20 {
			return "", false
		}
		year = c*100 + int(d[2])*10 + int(d[3])
		ten = d[2:12]
	}
	month := int(ten[2])*10 + int(ten[3])
	day := int(ten[4])*10 + int(ten[5])
	kind := Personnummer
	if day > 60 {
		kind, day = Samordningsnummer, day-60
	}
	if month < 1 || month > 12 || day < 1 {
		return "", false
	}
	maxDay := 29
	if month != 2 || year >= 0 {
		y := year
		if y < 0 {
			y = 2000
		}
		maxDay = daysIn(y, month)
	}
	if day > maxDay {
		return "", false
	}
	if !luhn(ten) {
		return "", false
	}
	return kind, true
}

// luhn reports whether the ten digits pass the Luhn check used for
// personnummer (weights 2,1,2,1,… from the left).
func luhn(d []byte) bool {
	sum := 0
	for i, v := range d {
		x := int(v)
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
