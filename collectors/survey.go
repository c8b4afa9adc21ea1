package collectors

import (
	"context"
	_ "embed"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/malbild/malbild/collectors/swecsv"
	"github.com/malbild/malbild/facts"
)

// surveySample is the commented sample configuration of the survey_csv
// kind, the same file as examples/collectors/survey_csv.yaml.
//
//go:embed samples/survey_csv.yaml
var surveySample string

func init() { Register("survey_csv", newSurvey) }

// SurveyOptions are the options of a survey_csv instance: survey exports
// with one row per response about a system.
type SurveyOptions struct {
	FileOptions `yaml:",inline"`
	// Columns renames the columns the export uses.
	Columns SurveyColumns `yaml:"columns"`
	// ScaleMin and ScaleMax bound the scores (default 1 and 5).
	ScaleMin int `yaml:"scale_min"`
	ScaleMax int `yaml:"scale_max"`
	// Survey names the survey when the export has no Enkät column.
	Survey string `yaml:"survey"`
	// SkipValues are Betyg values that mean "no answer"; such rows, and rows
	// with an empty Betyg, are skipped. Default: Vet ej, Ej aktuellt.
	SkipValues []string `yaml:"skip_values"`
}

// SurveyColumns are header names of a survey export; empty means the
// default.
type SurveyColumns struct {
	Survey string `yaml:"survey"` // Enkät (optional with the survey option)
	ID     string `yaml:"id"`     // Svars-id (optional)
	System string `yaml:"system"` // System
	Group  string `yaml:"group"`  // Grupp (optional)
	Score  string `yaml:"score"`  // Betyg
	Date   string `yaml:"date"`   // Datum
}

// maxScale is the highest scale_max (the schema keeps scales in a UInt8).
const maxScale = 100

var defaultSkipValues = []string{"Vet ej", "Ej aktuellt"}

type surveyCollector struct {
	inst Instance
	opts SurveyOptions
	now  func() time.Time
}

func newSurvey(inst Instance) (Collector, error) {
	o := SurveyOptions{ScaleMin: 1, ScaleMax: 5}
	if err := decodeFileOptions(inst, &o); err != nil {
		return nil, err
	}
	return &surveyCollector{inst: inst, opts: o, now: time.Now}, nil
}

func (o *SurveyOptions) check(inst Instance) error {
	if err := o.FileOptions.check(inst); err != nil {
		return err
	}
	if o.ScaleMin < 0 || o.ScaleMin > maxScale {
		return OptionsError(inst, optionAt(inst.Options, "scale_min"), "scale_min %d: want 0–%d", o.ScaleMin, maxScale)
	}
	if o.ScaleMax <= o.ScaleMin || o.ScaleMax > maxScale {
		return OptionsError(inst, optionAt(inst.Options, "scale_max"), "scale_max %d: want more than scale_min (%d) and at most %d", o.ScaleMax, o.ScaleMin, maxScale)
	}
	o.Survey = strings.TrimSpace(o.Survey)
	if len(o.Survey) > swecsv.MaxLen {
		return OptionsError(inst, optionAt(inst.Options, "survey"), "survey: at most %d characters", swecsv.MaxLen)
	}
	if o.SkipValues == nil {
		o.SkipValues = defaultSkipValues
	}
	return nil
}

func (c *surveyCollector) Collect(ctx context.Context, req Request, out Sink) error {
	return collectFiles(ctx, "survey_csv", c.inst, &c.opts.FileOptions, c.now, req, out,
		func(r io.Reader, f sourceFile, rows func(int), b *facts.Batch) (err error) {
			b.Responses, err = parseSurvey(r, f.Path, surveyParse{opts: &c.opts, now: c.now(), rows: rows})
			return err
		})
}

// surveyParse is what parseSurvey needs besides the file.
type surveyParse struct {
	opts *SurveyOptions
	now  time.Time   // dates after now are errors
	rows func(n int) // progress: n more rows read; may be nil
}

// Column positions in parseSurvey.
const (
	surveyName = iota
	surveyID
	surveySystem
	surveyGroup
	surveyScore
	surveyDate
)

// parseSurvey reads a survey export. Any problem rejects the whole file:
// the error lists the first problems as file:line:column: reason.
func parseSurvey(r io.Reader, name string, p surveyParse) ([]facts.SurveyResponse, error) {
	o := p.opts
	c := o.Columns
	t, err := openCSV(r, name, &o.FileOptions, []column{
		surveyName:   {names: []string{"Enkät"}, override: c.Survey, required: o.Survey == ""},
		surveyID:     {names: []string{"Svars-id", "Svarsid"}, override: c.ID},
		surveySystem: {names: []string{"System"}, override: c.System, required: true},
		surveyGroup:  {names: []string{"Grupp"}, override: c.Group},
		surveyScore:  {names: []string{"Betyg"}, override: c.Score, required: true},
		surveyDate:   {names: []string{"Datum"}, override: c.Date, required: true},
	})
	if err != nil {
		return nil, err
	}
	idx := t.idx
	skip := foldSet(o.SkipValues)
	var out []facts.SurveyResponse
	seen := map[[2]string]int{} // survey and response id → line
	err = t.eachRow(p.rows, idx, func(w row) {
		j := idx[surveyScore]
		if w.empty(j) || skip.has(strings.TrimSpace(w.rec[j])) {
			return // no answer
		}
		resp := facts.SurveyResponse{ScaleMin: o.ScaleMin, ScaleMax: o.ScaleMax}
		f := w.fails
		resp.Survey = w.text(idx[surveyName])
		if resp.Survey == "" && w.fails == f {
			if o.Survey == "" {
				w.failf(idx[surveyName], "empty survey name")
			}
			resp.Survey = o.Survey
		}
		keyOK := !w.bad
		resp.ID = w.text(idx[surveyID])
		keyOK = keyOK && !w.bad && resp.ID != ""
		if keyOK {
			key := [2]string{resp.Survey, resp.ID}
			if first, dup := seen[key]; dup {
				w.failf(idx[surveyID], "response %s appears twice in survey %s (first on line %d)", swecsv.Quote(resp.ID), swecsv.Quote(resp.Survey), first)
			} else {
				seen[key] = t.rd.Line()
			}
		}
		resp.System = w.required(idx[surveySystem], "system")
		resp.Group = w.text(idx[surveyGroup])
		f = w.fails
		resp.Score = w.number(j)
		if w.fails == f && (resp.Score < float64(o.ScaleMin) || resp.Score > float64(o.ScaleMax)) {
			w.failf(j, "score %s is outside the scale %d–%d", strings.TrimSpace(w.rec[j]), o.ScaleMin, o.ScaleMax)
		}
		resp.Answered, _ = w.pastTime(idx[surveyDate], p.now)
		if w.bad {
			return
		}
		resp.Answered = dayOf(resp.Answered)
		if resp.ID == "" {
			resp.ID = derivedID(w.rec, t.rd.Line())
		}
		out = append(out, resp)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// derivedID is the response id of a row without one: a hash of the row's
// fields and its line, stable across re-imports of the same file.
func derivedID(rec []string, line int) string {
	h := fnv.New64a()
	for _, f := range rec {
		h.Write([]byte(strings.TrimSpace(f)))
		h.Write([]byte{0x1f})
	}
	h.Write([]byte(strconv.Itoa(line)))
	return "h" + strconv.FormatUint(h.Sum64(), 16)
}
