package swecsv

import (
	"fmt"
	"strings"
)

// Error is one problem at a place in a file. Line is the 1-based line of
// the file; Column is the 1-based column (field number) of the row, 0 when
// the problem is about the whole line or file.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	default:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
}

// MaxErrors is how many problems a file's error list keeps: enough to fix
// a file in one go, few enough to read. Parsing stops at the next problem.
const MaxErrors = 10

// Errors collects the first problems of one file.
type Errors struct {
	List []*Error
	// Truncated is set when more problems were found than were kept.
	Truncated bool
}

// Add appends e, or marks the list truncated when it is full.
func (es *Errors) Add(e *Error) {
	if len(es.List) >= MaxErrors {
		es.Truncated = true
		return
	}
	es.List = append(es.List, e)
}

// Err returns the collected problems as an error, or nil when there are
// none.
func (es *Errors) Err() error {
	if len(es.List) == 0 {
		return nil
	}
	return es
}

func (es *Errors) Error() string {
	s := make([]string, 0, len(es.List)+1)
	for _, e := range es.List {
		s = append(s, e.Error())
	}
	if es.Truncated {
		s = append(s, fmt.Sprintf("(stopped after %d problems)", MaxErrors))
	}
	return strings.Join(s, "\n")
}
