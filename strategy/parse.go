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
	root, err := strictyaml.Parse(file, data)
	if err != nil {
		return nil, asErrors(err)
	}
	var raw yStrategy
	if err := strictyaml.Decode(file, root, &raw); err != nil {
		return nil, asErrors(err)
	}
	b := &builder{file: file, ids: map[string]int{}, investIDs: map[string]int{}}
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
	Municipality *yMunicipality `yaml:"municipality"`
	ID           string         `yaml:"id"`
	Title        yaml.Node      `yaml:"title"`
	Vision       yaml.Node      `yaml:"vision"`
	Description  yaml.Node      `yaml:"description"`
	Adopted      string         `yaml:"adopted"`
	Start        string         `yaml:"start"`
	End          string         `yaml:"end"`
	Rhythm       string         `yaml:"rhythm"`
	RollUp       string         `yaml:"roll_up"`
	Maturity     *yMaturity     `yaml:"maturity"`
	Areas        []yArea        `yaml:"areas"`
	Programmes   []yProgramme   `yaml:"programmes"`
}

type yMunicipality struct {
	Code string `yaml:"code"`
	Name string `yaml:"name"`
	Slug string `yaml:"slug"`
}

type yMaturity struct {
	Name        yaml.Node    `yaml:"name"`
	Description yaml.Node    `yaml:"description"`
	Dimensions  []yDimension `yaml:"dimensions"`
}

type yDimension struct {
	ID          string    `yaml:"id"`
	Title       yaml.Node `yaml:"title"`
	Survey      string    `yaml:"survey"`
	SurveyShare string    `yaml:"survey_share"`
}

type yArea struct {
	ID          string    `yaml:"id"`
	Title       yaml.Node `yaml:"title"`
	Description yaml.Node `yaml:"description"`
	Dimension   string    `yaml:"dimension"`
	Goals       []yGoal   `yaml:"goals"`
}

type yGoal struct {
	ID          string       `yaml:"id"`
	Title       yaml.Node    `yaml:"title"`
	Description yaml.Node    `yaml:"description"`
	Kind        string       `yaml:"kind"`
	Public      *bool        `yaml:"public"`
	Owner       string       `yaml:"owner"`
	Horizon     string       `yaml:"horizon"`
	Due         string       `yaml:"due"`
	Done        string       `yaml:"done"`
	History     []yHistory   `yaml:"history"`
	Dropped     *yDecision   `yaml:"dropped"`
	Indicators  []yIndicator `yaml:"indicators"`
}

type yHistory struct {
	Period  string `yaml:"period"`
	Level   string `yaml:"level"`
	Comment string `yaml:"comment"`
}

type yDecision struct {
	Date string `yaml:"date"`
	Note string `yaml:"note"`
}

type yIndicator struct {
	ID          string            `yaml:"id"`
	Title       yaml.Node         `yaml:"title"`
	Description yaml.Node         `yaml:"description"`
	Method      yaml.Node         `yaml:"method"`
	Unit        string            `yaml:"unit"`
	Direction   string            `yaml:"direction"`
	Baseline    *yBaseline        `yaml:"baseline"`
	Targets     []yTarget         `yaml:"targets"`
	Target3y    string            `yaml:"target_3y"`
	Target5y    string            `yaml:"target_5y"`
	Yearly      map[string]string `yaml:"yearly"`
	Tolerance   string            `yaml:"tolerance"`
	Freshness   string            `yaml:"freshness"`
	Public      *bool             `yaml:"public"`
	Owner       string            `yaml:"owner"`
	Weight      string            `yaml:"weight"`
	Source      *ySource          `yaml:"source"`
}

type yBaseline struct {
	Value  string `yaml:"value"`
	Date   string `yaml:"date"`
	Source string `yaml:"source"`
}

type yTarget struct {
	Date    string `yaml:"date"`
	Value   string `yaml:"value"`
	Kind    string `yaml:"kind"`
	Label   string `yaml:"label"`
	Years   string `yaml:"years"`
	Decided string `yaml:"decided"`
}

type ySource struct {
	Measure string            `yaml:"measure"`
	Params  map[string]string `yaml:"params"`
	Series  string            `yaml:"series"`
	Kolada  string            `yaml:"kolada"`
	Note    string            `yaml:"note"`
}

type yProgramme struct {
	ID          string     `yaml:"id"`
	Title       yaml.Node  `yaml:"title"`
	Description yaml.Node  `yaml:"description"`
	Budget      string     `yaml:"budget"`
	Projects    []yProject `yaml:"projects"`
}

type yProject struct {
	ID          string    `yaml:"id"`
	Title       yaml.Node `yaml:"title"`
	Description yaml.Node `yaml:"description"`
	Budget      string    `yaml:"budget"`
	Goals       []string  `yaml:"goals"`
}
