package examples

import (
	"testing"

	_ "github.com/malbild/malbild/clickhouse" // registers the built-in measures
	"github.com/malbild/malbild/strategy"
)

// TestEmbeddedExamplesParse parses every embedded example as `malbild
// demo` does, from outside the repository: a plan that reads its upper
// goals from another example finds it among the embedded files.
func TestEmbeddedExamplesParse(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, name := range Strategies() {
		data, file, err := Strategy(name)
		if err != nil {
			t.Fatal(err)
		}
		st, err := strategy.ParseWith(file, data, strategy.Options{ReadFile: ReadFile})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if st.UpperFrom != "" && len(st.UpperGoals) == 0 {
			t.Errorf("%s: no upper goals read from %s", name, st.UpperFrom)
		}
	}
}
