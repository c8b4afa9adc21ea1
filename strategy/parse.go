package strategy

import (
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/internal/strictyaml"
)

// MaxFileSize is the largest strategy file Load reads.
const MaxFileSize = 4 << 20

// Load reads and parses the strategy file at path.
func Load(path string) (*Strategy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading strategy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading strategy %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, strictyaml.Errors{{File: path, Msg: fmt.Sprintf("file is larger than %d MiB", MaxFileSize>>20)}}
	}
	return Parse(path, data)
}

// Parse parses a strategy file (see docs/strategy-format.md). file names
// the file in error messages. Every problem is reported as
// "file:line: message"; the returned error is then a strictyaml.Errors
// holding all of them. Problems of form (YAML syntax, unknown keys, wrong
// types) are reported first; the rules on content are checked once the
// form is right.
//
// Dates in the file are calendar dates and are held as midnight UTC, so
// they read as the same day in UTC and in Europe/Stockholm.
func Parse(file string, data []byte) (*Strategy, error) {
	return ParseWith(file, data, Options{})
}

// Options changes how ParseWith reads a strategy file.
type Options struct {
	// ReadFile reads the file named by upper_goals_from, resolved against
	// the directory of the file being parsed. Default: os.ReadFile. Give
	// one reading an fs.FS to parse embedded files.
	ReadFile func(name string) ([]byte, error)
}

// ParseWith is Parse with options.
func ParseWith(file string, data []byte, opts Options) (*Strategy, error) {
	return parse(file, data, opts, false)
}

func parse(file string, data []byte, opts Options, nested bool) (*Strategy, error) {
	root, err := strictyaml.Parse(file, data)
	if err != nil {
		return nil, asErrors(err)
	}
	var raw yStrategy
	if err := strictyaml.Decode(file, root, &raw); err != nil {
		return nil, asErrors(err)
	}
	read := opts.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	b := &builder{file: file, ids: map[string]int{}, investIDs: map[string]int{}, actIDs: map[string]int{},
		upperIDs: map[string]int{}, readFile: read, nested: nested}
	s := b.strategy(&raw, root)
	if err := b.errs.Err(); err != nil {
		b.sort()
		return nil, b.errs
	}
	return s, nil
}

// asErrors makes sure Parse always returns a strictyaml.Errors.
func asErrors(err error) error {
	var es strictyaml.Errors
	if errors.As(err, &es) {
		return es
	}
	var e *strictyaml.Error
	if errors.As(err, &e) {
		return strictyaml.Errors{e}
	}
	return err
}

// The yaml-facing structs below mirror the file format. Scalars are read
// as strings and converted by the builder, which knows the line of every
// value from the node tree; Text fields stay nodes because they may be a
// string or a mapping.

type yStrategy struct {
	Municipality *yMunicipality `yaml:"municipality,omitempty"`
	ID           string         `yaml:"id,omitempty"`
	Title        yaml.Node      `yaml:"title,omitempty"`
	Vision       yaml.Node      `yaml:"vision,omitempty"`
	Description  yaml.Node      `yaml:"description,omitempty"`
	Adopted      string         `yaml:"adopted,omitempty"`
	DecidedBy    string         `yaml:"decided_by,omitempty"`
	Owner        string         `yaml:"owner,omitempty"`
	Reports      []string       `yaml:"reports,omitempty"`
	UpperGoals   []yUpperGoal   `yaml:"upper_goals,omitempty"`
	UpperFrom    string         `yaml:"upper_goals_from,omitempty"`
	Follows      string         `yaml:"follows,omitempty"`
	Start        string         `yaml:"start,omitempty"`
	End          string         `yaml:"end,omitempty"`
	Rhythm       string         `yaml:"rhythm,omitempty"`
	RollUp       string         `yaml:"roll_up,omitempty"`
	Maturity     *yMaturity     `yaml:"maturity,omitempty"`
	Areas        []yArea        `yaml:"areas,omitempty"`
	Programmes   []yProgramme   `yaml:"programmes,omitempty"`
}

type yMunicipality struct {
	Code string `yaml:"code,omitempty"`
	Name string `yaml:"name,omitempty"`
	Slug string `yaml:"slug,omitempty"`
}

type yMaturity struct {
	Name        yaml.Node    `yaml:"name,omitempty"`
	Description yaml.Node    `yaml:"description,omitempty"`
	Dimensions  []yDimension `yaml:"dimensions,omitempty"`
}

type yDimension struct {
	ID          string    `yaml:"id,omitempty"`
	Title       yaml.Node `yaml:"title,omitempty"`
	Survey      string    `yaml:"survey,omitempty"`
	SurveyShare string    `yaml:"survey_share,omitempty"`
}

type yArea struct {
	ID          string    `yaml:"id,omitempty"`
	Title       yaml.Node `yaml:"title,omitempty"`
	Description yaml.Node `yaml:"description,omitempty"`
	Dimension   string    `yaml:"dimension,omitempty"`
	Contributes []string  `yaml:"contributes_to,omitempty"`
	Goals       []yGoal   `yaml:"goals,omitempty"`
}

type yUpperGoal struct {
	ID          string    `yaml:"id,omitempty"`
	Level       string    `yaml:"level,omitempty"`
	Title       yaml.Node `yaml:"title,omitempty"`
	Description yaml.Node `yaml:"description,omitempty"`
	Parent      string    `yaml:"parent,omitempty"`
}

type yBody struct {
	ID   string `yaml:"id,omitempty"`
	Name string `yaml:"name,omitempty"`
	Kind string `yaml:"kind,omitempty"`
}

type yCriterion struct {
	ID    string    `yaml:"id,omitempty"`
	Title yaml.Node `yaml:"title,omitempty"`
}

type yActivity struct {
	ID          string    `yaml:"id,omitempty"`
	Title       yaml.Node `yaml:"title,omitempty"`
	Responsible string    `yaml:"responsible,omitempty"`
	Start       string    `yaml:"start,omitempty"`
	Due         string    `yaml:"due,omitempty"`
	Status      string    `yaml:"status,omitempty"`
	Budget      string    `yaml:"budget,omitempty"`
	Outcome     string    `yaml:"outcome,omitempty"`
}

type yGoal struct {
	ID          string       `yaml:"id,omitempty"`
	Continues   string       `yaml:"continues,omitempty"`
	Title       yaml.Node    `yaml:"title,omitempty"`
	Description yaml.Node    `yaml:"description,omitempty"`
	Kind        string       `yaml:"kind,omitempty"`
	Public      *bool        `yaml:"public,omitempty"`
	Owner       string       `yaml:"owner,omitempty"`
	Horizon     string       `yaml:"horizon,omitempty"`
	Due         string       `yaml:"due,omitempty"`
	Done        string       `yaml:"done,omitempty"`
	History     []yHistory   `yaml:"history,omitempty"`
	Dropped     *yDecision   `yaml:"dropped,omitempty"`
	Indicators  []yIndicator `yaml:"indicators,omitempty"`
	Ref         string       `yaml:"ref,omitempty"`
	Contributes []string     `yaml:"contributes_to,omitempty"`
	Bodies      []yBody      `yaml:"bodies,omitempty"`
	SubGoals    []yGoal      `yaml:"subgoals,omitempty"`
	Criteria    []yCriterion `yaml:"criteria,omitempty"`
	Activities  []yActivity  `yaml:"activities,omitempty"`
}

type yHistory struct {
	Period  string `yaml:"period,omitempty"`
	Level   string `yaml:"level,omitempty"`
	Comment string `yaml:"comment,omitempty"`
}

type yDecision struct {
	Date string `yaml:"date,omitempty"`
	Note string `yaml:"note,omitempty"`
}

type yIndicator struct {
	ID          string            `yaml:"id,omitempty"`
	Continues   string            `yaml:"continues,omitempty"`
	Title       yaml.Node         `yaml:"title,omitempty"`
	Description yaml.Node         `yaml:"description,omitempty"`
	Method      yaml.Node         `yaml:"method,omitempty"`
	Unit        string            `yaml:"unit,omitempty"`
	Direction   string            `yaml:"direction,omitempty"`
	Baseline    *yBaseline        `yaml:"baseline,omitempty"`
	Targets     []yTarget         `yaml:"targets,omitempty"`
	Target3y    string            `yaml:"target_3y,omitempty"`
	Target5y    string            `yaml:"target_5y,omitempty"`
	Yearly      map[string]string `yaml:"yearly,omitempty"`
	Tolerance   string            `yaml:"tolerance,omitempty"`
	Freshness   string            `yaml:"freshness,omitempty"`
	Public      *bool             `yaml:"public,omitempty"`
	Owner       string            `yaml:"owner,omitempty"`
	Weight      string            `yaml:"weight,omitempty"`
	Source      *ySource          `yaml:"source,omitempty"`
}

type yBaseline struct {
	Value  string `yaml:"value,omitempty"`
	Date   string `yaml:"date,omitempty"`
	Source string `yaml:"source,omitempty"`
	Text   string `yaml:"text,omitempty"`
}

type yTarget struct {
	Date    string `yaml:"date,omitempty"`
	Value   string `yaml:"value,omitempty"`
	Kind    string `yaml:"kind,omitempty"`
	Label   string `yaml:"label,omitempty"`
	Years   string `yaml:"years,omitempty"`
	Decided string `yaml:"decided,omitempty"`
}

type ySource struct {
	Measure string            `yaml:"measure,omitempty"`
	Params  map[string]string `yaml:"params,omitempty"`
	Series  string            `yaml:"series,omitempty"`
	Kolada  string            `yaml:"kolada,omitempty"`
	Note    string            `yaml:"note,omitempty"`
}

type yProgramme struct {
	ID          string               `yaml:"id,omitempty"`
	Title       yaml.Node            `yaml:"title,omitempty"`
	Description yaml.Node            `yaml:"description,omitempty"`
	Budget      string               `yaml:"budget,omitempty"`
	Areas       []string             `yaml:"areas,omitempty"`
	Owner       string               `yaml:"owner,omitempty"`
	Years       map[string]yProgYear `yaml:"years,omitempty"`
	Projects    []yProject           `yaml:"projects,omitempty"`
}

type yProgYear struct {
	Budget  string `yaml:"budget,omitempty"`
	Outcome string `yaml:"outcome,omitempty"`
}

type yProject struct {
	ID          string    `yaml:"id,omitempty"`
	Title       yaml.Node `yaml:"title,omitempty"`
	Description yaml.Node `yaml:"description,omitempty"`
	Budget      string    `yaml:"budget,omitempty"`
	Goals       []string  `yaml:"goals,omitempty"`
}
