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
