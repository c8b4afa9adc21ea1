package strictyaml

import (
	"fmt"
	"strings"
	"testing"
)

// TestAliasBomb checks that a small document whose aliases expand
// exponentially is rejected before anything walks it.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	_, err := Parse("f.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "aliases expand the document by more than 100000 nodes") {
		t.Fatalf("error = %v", err)
	}
	// Modest use of aliases is fine.
	if _, err := Parse("f.yaml", []byte("a: &a {x: 1}\nb: *a\nc: [*a, *a]\n")); err != nil {
		t.Fatalf("small aliases: %v", err)
	}
}
