// Package strictyaml decodes YAML strictly: unknown keys and duplicate
// keys are errors, and every error names the file and line it is about.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one problem at a place in a file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is a list of problems, reported together.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Err returns es as an error, or nil when it is empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Errorf returns an Error at node n (n may be nil).
func Errorf(file string, n *yaml.Node, format string, args ...any) *Error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a YAML document into a node tree. Duplicate keys, syntax
// errors and an empty document are reported with file and line.
func Parse(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "file is empty"}
		}
		return nil, convert(file, nil, err)
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Msg: "file is empty"}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Msg: "more than one YAML document in the file"}
	}
	if line, ok := aliasesBounded(doc.Content[0]); !ok {
		return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("aliases expand the document by more than %d nodes", maxAliasNodes)}
	}
	return doc.Content[0], nil
}

// maxAliasNodes bounds how many nodes aliases may add to a document, so
// that a small file cannot make key checking and decoding take
// exponential time ("billion laughs").
const maxAliasNodes = 100000

// aliasesBounded reports whether expanding every alias in n adds at most
// maxAliasNodes nodes; if not, line is where the budget ran out.
func aliasesBounded(n *yaml.Node) (line int, ok bool) {
	var count func(n *yaml.Node, follow bool) int
	count = func(n *yaml.Node, follow bool) int {
		if n == nil {
			return 0
		}
		total := 1
		if n.Kind == yaml.AliasNode && !follow {
			return total
		}
		for _, c := range n.Content {
			total += count(c, follow)
		}
		return total
	}
	budget := count(n, false) + maxAliasNodes
	var walk func(n *yaml.Node, depth int) bool
	walk = func(n *yaml.Node, depth int) bool {
		if n == nil {
			return true
		}
		budget--
		if budget < 0 || depth > 10000 {
			line = n.Line
			return false
		}
		if n.Kind == yaml.AliasNode {
			return walk(n.Alias, depth+1)
		}
		for _, c := range n.Content {
			if !walk(c, depth+1) {
				return false
			}
		}
		return true
	}
	return line, walk(n, 0)
}

// Decode decodes n into out (a pointer), rejecting keys that out's type does
// not have. Types that implement yaml.Unmarshaler check their own keys.
func Decode(file string, n *yaml.Node, out any) error {
	var errs Errors
	checkKeys(file, n, reflect.TypeOf(out), &errs)
	if len(errs) > 0 {
		return errs
	}
	if err := n.Decode(out); err != nil {
		return convert(file, n, err)
	}
	return nil
}

var unmarshaler = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
var nodeType = reflect.TypeOf(yaml.Node{})

func checkKeys(file string, n *yaml.Node, t reflect.Type, errs *Errors) {
	if n == nil || t == nil {
		return
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		if t.Implements(unmarshaler) {
			return
		}
		t = t.Elem()
	}
	if t == nodeType || t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // Decode reports the type mismatch
		}
		fields := structFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, Errorf(file, k, "unknown key %q%s", k.Value, suggest(k.Value, fields)))
				continue
			}
			checkKeys(file, v, ft, errs)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				checkKeys(file, c, t.Elem(), errs)
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 1; i < len(n.Content); i += 2 {
				checkKeys(file, n.Content[i], t.Elem(), errs)
			}
		}
	}
}

// structFields maps YAML keys to field types, following inline fields.
func structFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range structFields(ft) {
					m[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

func suggest(key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return Suggest(key, names, 2)
}

// Suggest returns ` (did you mean "x"?)` naming the candidate closest to
// word within maxDist edits, or "" when none is that close.
func Suggest(word string, candidates []string, maxDist int) string {
	best, bestD := "", maxDist+1
	for _, c := range candidates {
		if d := distance(word, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// convert turns a yaml.v3 error into file:line errors, with the decoder's
// type errors ("cannot unmarshal !!seq into string") said in plain words
// and the key they are about when root holds it.
func convert(file string, root *yaml.Node, err error) error {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var errs Errors
	for _, m := range msgs {
		m = strings.TrimSpace(m)
		if sm := lineRE.FindStringSubmatch(m); sm != nil {
			line, _ := strconv.Atoi(sm[1])
			errs = append(errs, &Error{File: file, Line: line, Msg: plain(sm[2], root, line)})
			continue
		}
		errs = append(errs, &Error{File: file, Msg: strings.TrimPrefix(m, "yaml: ")})
	}
	return errs
}

var typeErrRE = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")

// plain says a decoder type error in plain words: "public: want true or
// false, found a list". Other messages are returned as they are.
func plain(msg string, root *yaml.Node, line int) string {
	m := typeErrRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	key := keyAt(root, line, "!!"+m[1])
	var found string
	switch m[1] {
	case "seq":
		found = "a list"
	case "map":
		found = "a mapping (key: value lines)"
	case "null":
		found = "nothing"
	case "bool":
		found = "true or false"
	case "int", "float":
		found = "the number " + m[2]
	default:
		found = strconv.Quote(m[2])
	}
	var want string
	switch into := m[3]; {
	case into == "bool":
		want = "true or false"
	case into == "string":
		want = "a single value (text, a number or a date)"
	case strings.HasPrefix(into, "int"), strings.HasPrefix(into, "uint"), strings.HasPrefix(into, "float"):
		want = "a number"
	case strings.HasPrefix(into, "[]"):
		want = "a list (one \"- \" line per item, or [a, b])"
	default: // a map or a struct
		want = "a mapping (key: value lines)"
	}
	if key != "" {
		return fmt.Sprintf("%s: want %s, found %s", key, want, found)
	}
	return fmt.Sprintf("want %s, found %s", want, found)
}

// keyAt is the key of the first mapping entry in n whose value starts on
// line and has tag, or "".
func keyAt(n *yaml.Node, line int, tag string) string {
	var walk func(n *yaml.Node, depth int) string
	walk = func(n *yaml.Node, depth int) string {
		if n == nil || depth > 1000 || n.Kind == yaml.AliasNode {
			return ""
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if v := n.Content[i+1]; v.Line == line && v.Kind != yaml.AliasNode && v.ShortTag() == tag {
					return n.Content[i].Value
				}
			}
		}
		for _, c := range n.Content {
			if k := walk(c, depth+1); k != "" {
				return k
			}
		}
		return ""
	}
	return walk(n, 0)
}
