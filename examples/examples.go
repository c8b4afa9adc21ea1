// Package examples embeds the example strategies so that `malbild demo`
// works from any directory.
package examples

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed strategies/*.yaml
var strategies embed.FS

// Users is the example users file, whose demo passwords are in its comments.
//
//go:embed users.yaml
var Users []byte

// Strategy returns the embedded example strategy named name ("varmdo" or
// "varmdo.yaml") and its path inside the repository.
func Strategy(name string) (data []byte, file string, err error) {
	name = strings.TrimSuffix(path.Base(name), ".yaml")
	file = "examples/strategies/" + name + ".yaml"
	data, err = strategies.ReadFile("strategies/" + name + ".yaml")
	return data, file, err
}

// ReadFile reads an example strategy that another one names (with
// upper_goals_from), by its base name; for strategy.Options.ReadFile, so
// that the embedded examples parse from any directory.
func ReadFile(name string) ([]byte, error) {
	return strategies.ReadFile("strategies/" + path.Base(strings.ReplaceAll(name, "\\", "/")))
}

// Strategies lists the embedded example strategies by name.
func Strategies() []string {
	entries, _ := fs.ReadDir(strategies, "strategies")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}
