package followup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/strategy"
)

// problemsRE finds the problem list of a refused form or a message page.
var problemsRE = regexp.MustCompile(`(?s)<ul class="fu-messages">(.*?)</ul>|id="fel">(.*?)</ul>`)

func problemsIn(body string) string {
	var out []string
	for _, m := range problemsRE.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]+m[2]))
	}
	return strings.Join(out, "\n")
}

const valuePath = "/uppfoljning/indikator/andel-digitala/varde"

func valuePost(comment, dimension string) url.Values {
	return url.Values{"period": {"2025-05"}, "varde": {"50"}, "kommentar": {comment}, "dimension": {dimension}, "tillbaka": {"2025-T1"}}
}

// TestLongCommentsInCharacters: a comment of 3 000 "€" (9 000 bytes,
// inside the 4 000-character limit) is saved everywhere a comment is
// taken, with its audit entry.
func TestLongCommentsInCharacters(t *testing.T) {
	e := newEnv(t)
	bo := e.login("bo")
	euro := strings.Repeat("€", 3000)
	if a := bo.post("/uppfoljning/indikator/andel-digitala/2025-T1", formOf("met", "", euro, "bekrafta", 0, false)); a.code != http.StatusSeeOther {
		t.Errorf("assessment: %d %s", a.code, problemsIn(a.body))
	}
	if a := bo.post(valuePath, valuePost(euro, "")); a.code != http.StatusSeeOther {
		t.Errorf("value: %d %s", a.code, problemsIn(a.body))
	}
	bo.get("/uppfoljning/uppladdning")
	if a := bo.upload("serier.csv", "indikator;period;värde\nandel-digitala;2025-05;33\n", euro, true); a.code != http.StatusSeeOther && a.code != http.StatusOK {
		t.Errorf("upload: %d %s", a.code, problemsIn(a.body))
	}
	if got := strings.Join(e.writes(), " "); got != "assessment.confirm value.enter value.upload" {
		t.Errorf("audit = %s", got)
	}
	for _, x := range e.audit() {
		if strings.HasPrefix(x.Action, "value.") && x.Reason != euro {
			t.Errorf("%s: reason of %d characters", x.Action, len([]rune(x.Reason)))
		}
	}
}

// TestTextRulesInEveryField: invalid UTF-8 and control characters are
// refused the same way in every free text, with a message in the page's
// language, and nothing is written.
func TestTextRulesInEveryField(t *testing.T) {
	e := newEnv(t)
	bo, anna := e.login("bo"), e.login("anna")
	if a := anna.post("/uppfoljning/rapport/2025-T1/stang", url.Values{"bekraftat": {"1"}}); a.code != http.StatusSeeOther {
		t.Fatalf("closing T1: %d", a.code)
	}
	const utf8SV, utf8EN = "inte giltig text (UTF-8)", "not valid text (UTF-8)"
	const ctrlSV, ctrlEN = "otillåtna tecken", "not allowed"
	type post func(lang string) answer
	q := func(path, lang string) string {
		if lang == "en" {
			return path + "?lang=en"
		}
		return path
	}
	goal := "/uppfoljning/indikator/andel-digitala/2025-T2"
	cases := []struct {
		name     string
		do       post
		sv, en   string
		wantCode int
	}{
		{"assessment comment, bad UTF-8", func(l string) answer {
			return bo.post(q(goal, l), formOf("met", "", "Bra \xff\xfe", "bekrafta", 0, false))
		}, utf8SV, utf8EN, 400},
		{"assessment comment, NUL", func(l string) answer { return bo.post(q(goal, l), formOf("met", "", "a\x00b", "bekrafta", 0, false)) }, ctrlSV, ctrlEN, 400},
		{"assessment comment, escape", func(l string) answer {
			return bo.post(q(goal, l), formOf("met", "", "a\x1b[31mb", "bekrafta", 0, false))
		}, ctrlSV, ctrlEN, 400},
		{"value comment, bad UTF-8", func(l string) answer { return bo.post(q(valuePath, l), valuePost("Från \xc3", "")) }, utf8SV, utf8EN, 400},
		{"value comment, NUL", func(l string) answer { return bo.post(q(valuePath, l), valuePost("a\x00b", "")) }, ctrlSV, ctrlEN, 400},
		{"dimension, NUL", func(l string) answer { return bo.post(q(valuePath, l), valuePost("k", "department=Kul\x00tur")) }, ctrlSV, ctrlEN, 400},
		{"dimension, bad UTF-8", func(l string) answer { return bo.post(q(valuePath, l), valuePost("k", "department=\xffKultur")) }, utf8SV, utf8EN, 400},
		{"dimension, bidi override", func(l string) answer { return bo.post(q(valuePath, l), valuePost("k", "department=\u202eKultur")) }, ctrlSV, ctrlEN, 400},
		{"upload comment, bad UTF-8", func(l string) answer {
			bo.get(q("/uppfoljning/uppladdning", l))
			return bo.uploadTo(q("/uppfoljning/uppladdning", l), "serier.csv", "indikator;period;värde\nandel-digitala;2025-05;33\n", "Från \xff", true)
		}, utf8SV, utf8EN, 400},
		{"upload comment, NUL", func(l string) answer {
			bo.get(q("/uppfoljning/uppladdning", l))
			return bo.uploadTo(q("/uppfoljning/uppladdning", l), "serier.csv", "indikator;period;värde\nandel-digitala;2025-05;33\n", "a\x00b", true)
		}, ctrlSV, ctrlEN, 400},
		{"upload file name, bad UTF-8", func(l string) answer {
			bo.get(q("/uppfoljning/uppladdning", l))
			return bo.uploadTo(q("/uppfoljning/uppladdning", l), "serier\xff.csv", "indikator;period;värde\nandel-digitala;2025-05;33\n", "k", true)
		}, utf8SV, utf8EN, 400},
		{"reopen reason, NUL", func(l string) answer {
			anna.get(q("/uppfoljning/rapport/2025-T1", l))
			return anna.post(q("/uppfoljning/rapport/2025-T1/oppna", l), url.Values{"motivering": {"fel\x00"}})
		}, ctrlSV, ctrlEN, 400},
		{"display name, NUL", func(l string) answer {
			anna.get(q("/uppfoljning/anvandare", l))
			return anna.post(q("/uppfoljning/anvandare/cy", l), url.Values{"atgard": {"andra"}, "visningsnamn": {"C\x00y"}, "roll": {"editor"}, "agare": {"Kultur"}})
		}, ctrlSV, ctrlEN, 400},
	}
	before := e.writes()
	for _, c := range cases {
		for _, lang := range []string{"sv", "en"} {
			a := c.do(lang)
			want := c.sv
			if lang == "en" {
				want = c.en
			}
			if a.code != c.wantCode || !strings.Contains(problemsIn(a.body), want) {
				t.Errorf("%s (%s): %d %q, want %d with %q", c.name, lang, a.code, problemsIn(a.body), c.wantCode, want)
			}
		}
	}
	if got := e.writes(); strings.Join(got, " ") != strings.Join(before, " ") {
		t.Errorf("refused input wrote %v", got[len(before):])
	}
	if as := e.assessments(false); len(as) != 0 {
		t.Errorf("assessments written: %+v", as)
	}
	obs, err := e.store.Observations(context.Background(), clickhouse.ObservationFilter{Tenant: tenant, Dimensions: true})
	if err != nil || len(obs) != 4 {
		t.Errorf("observations: %d, %v", len(obs), err)
	}
}

// TestPersonalNumbersRefusedEverywhere: a personnummer or
// samordningsnummer, in any of its written forms, is refused in every free
// text; nothing is stored, and no message repeats the number.
func TestPersonalNumbersRefusedEverywhere(t *testing.T) {
	e := newEnv(t)
	bo, anna := e.login("bo"), e.login("anna")
	if a := anna.post("/uppfoljning/rapport/2025-T1/stang", url.Values{"bekraftat": {"1"}}); a.code != http.StatusSeeOther {
		t.Fatalf("closing T1: %d", a.code)
	}
	goal := "/uppfoljning/indikator/andel-digitala/2025-T2"
	numbers := []string{"19121212-1212", "121212-1212", "121212 1212", "19121212–1212", "121212+1212", "121272-1219"}
	const sv = "ser ut att innehålla"
	for _, n := range numbers {
		text := "Handläggare Anna (" + n + ")"
		for _, c := range []struct {
			name string
			do   func() answer
		}{
			{"assessment comment", func() answer { return bo.post(goal, formOf("met", "", text, "bekrafta", 0, false)) }},
			{"value comment", func() answer { return bo.post(valuePath, valuePost(text, "")) }},
			{"dimension", func() answer { return bo.post(valuePath, valuePost("k", "handläggare="+text)) }},
			{"upload comment", func() answer {
				bo.get("/uppfoljning/uppladdning")
				return bo.upload("serier.csv", "indikator;period;värde\nandel-digitala;2025-05;33\n", text, true)
			}},
			{"upload row comment", func() answer {
				bo.get("/uppfoljning/uppladdning")
				return bo.upload("serier.csv", "indikator;period;värde;kommentar\nandel-digitala;2025-05;33;"+text+"\n", "k", true)
			}},
			{"upload file name", func() answer {
				bo.get("/uppfoljning/uppladdning")
				return bo.upload(n+".csv", "indikator;period;värde\nandel-digitala;2025-05;33\n", "k", true)
			}},
			{"reopen reason", func() answer {
				anna.get("/uppfoljning/rapport/2025-T1")
				return anna.post("/uppfoljning/rapport/2025-T1/oppna", url.Values{"motivering": {text}})
			}},
			{"user name", func() answer {
				anna.get("/uppfoljning/anvandare")
				return anna.post("/uppfoljning/anvandare", url.Values{"namn": {n}, "roll": {"viewer"}, "losenord": {testPassword}})
			}},
			{"display name", func() answer {
				anna.get("/uppfoljning/anvandare")
				return anna.post("/uppfoljning/anvandare/cy", url.Values{"atgard": {"andra"}, "visningsnamn": {text}, "roll": {"editor"}, "agare": {"Kultur"}})
			}},
		} {
			a := c.do()
			p := problemsIn(a.body)
			if a.code != http.StatusBadRequest || !(strings.Contains(p, sv) || strings.Contains(p, "looks like a")) {
				t.Errorf("%s %q: %d %q", c.name, n, a.code, p)
			}
			if digits := strings.Map(keepDigits, p); strings.Contains(digits, "12121212") || strings.Contains(p, n) {
				t.Errorf("%s %q: the message repeats the number: %q", c.name, n, p)
			}
		}
	}
	if got := e.writes(); len(got) != 1 || got[0] != "period.close" {
		t.Errorf("personal data wrote %v", got)
	}
	// A personnummer typed as the user name never reaches the audit
	// trail of failed sign-ins.
	for _, n := range numbers {
		a := e.client("127.0.0.1").loginAs(n, testPassword)
		if a.code != http.StatusBadRequest || !strings.Contains(a.body, "ser ut att innehålla") || strings.Contains(a.body, n) {
			t.Errorf("sign-in as %q: %d", n, a.code)
		}
	}
	for _, x := range e.audit() {
		if strings.Contains(x.SubjectID+x.Actor+x.Reason, "1212") {
			t.Errorf("audit entry with a personal number: %+v", x)
		}
	}
	if as := e.assessments(false); len(as) != 0 {
		t.Errorf("assessments written: %+v", as)
	}
	// Through the service too: the error says which kind, never the number.
	_, err := e.svc.SaveValue(context.Background(), e.st, &auth.Identity{Name: "bo", Role: auth.Editor, Owners: []string{"IT-avdelningen"}}, "", ValueInput{Indicator: "andel-digitala",
		Period: strategy.Period{Kind: strategy.Month, Year: 2025, N: 5}, Value: 50, Comment: "ring 19121212–1212"})
	var fe *Error
	if !errors.As(err, &fe) || fe.Status != http.StatusBadRequest || strings.Contains(err.Error(), "1212") ||
		!strings.Contains(fe.Problems[0].SV, "ett personnummer") || !strings.Contains(fe.Problems[0].EN, "personal identity number") {
		t.Errorf("SaveValue: %v", err)
	}
	// Ordinary numbers pass: dates, phone numbers, amounts, ids with a
	// wrong check digit.
	for i, ok := range []string{"Se beslut 2025-03-05, tel 070-123 45 67", "Kostnad 1 212 121 212 kr", "Ärende 121212-1213"} {
		if a := bo.post(valuePath, valuePost(ok, fmt.Sprintf("test=%d", i))); a.code != http.StatusSeeOther {
			t.Errorf("%q refused: %d %s", ok, a.code, problemsIn(a.body))
		}
	}
}

// uploadTo is upload to path (e.g. with ?lang=en).
func (c *client) uploadTo(path, name, content, comment string, withCSRF bool) answer {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if withCSRF {
		mw.WriteField("csrf", c.csrf)
	}
	mw.WriteField("kommentar", comment)
	fw, _ := mw.CreateFormFile("fil", name)
	fw.Write([]byte(content))
	mw.Close()
	return c.do("POST", path, &buf, mw.FormDataContentType())
}

func keepDigits(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}
