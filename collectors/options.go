package collectors

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/internal/strictyaml"
)

// DecodeOptions decodes inst.Options into out (a pointer to the kind's
// options struct) strictly: unknown and duplicate keys and type mismatches
// are errors of the form "file:line: message", naming inst.File. Fields of
// out keep their values when Options is empty, so callers set defaults
// before decoding.
func DecodeOptions(inst Instance, out any) error {
	if out == nil || reflect.TypeOf(out).Kind() != reflect.Pointer {
		return errors.New("collectors: DecodeOptions needs a pointer")
	}
	n := inst.Options
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil // "options:" with nothing after it
	}
	file := inst.File
	if file == "" {
		file = "collector " + inst.Name
	}
	if n.Kind != yaml.MappingNode {
		return withInstance(inst, strictyaml.Errorf(file, n, "options must be a mapping"))
	}
	if err := strictyaml.Decode(file, n, out); err != nil {
		return withInstance(inst, err)
	}
	return nil
}

// withInstance names the instance in each file:line error, keeping the
// file:line in front.
func withInstance(inst Instance, err error) error {
	prefix := fmt.Sprintf("collector %q (%s): ", inst.Name, inst.Kind)
	var es strictyaml.Errors
	if errors.As(err, &es) {
		out := make(strictyaml.Errors, len(es))
		for i, e := range es {
			c := *e
			c.Msg = prefix + c.Msg
			out[i] = &c
		}
		return out
	}
	var e *strictyaml.Error
	if errors.As(err, &e) {
		c := *e
		c.Msg = prefix + c.Msg
		return &c
	}
	return fmt.Errorf("%s%w", prefix, err)
}

// ResolvePath returns p resolved against the directory of the config file
// inst came from. Absolute paths and empty strings are returned unchanged;
// without a config file, relative paths are relative to the working
// directory.
func ResolvePath(inst Instance, p string) string {
	if p == "" || filepath.IsAbs(p) || inst.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(inst.File), p)
}

// OptionsError returns a "file:line: message" error about node n of inst's
// options (n may be nil: then the error names the file only). Kinds use it
// for checks beyond what decoding catches, e.g. a missing required key.
func OptionsError(inst Instance, n *yaml.Node, format string, args ...any) error {
	file := inst.File
	if file == "" {
		file = "collector " + inst.Name
	}
	if n == nil {
		n = inst.Options
	}
	return withInstance(inst, strictyaml.Errorf(file, n, format, args...))
}
