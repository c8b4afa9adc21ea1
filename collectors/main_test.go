package collectors

import (
	"testing"

	"github.com/malbild/malbild/internal/chtest"
)

// TestMain stops the package's shared throwaway ClickHouse after the tests
// (chtest.DSN); it is the only TestMain of package collectors.
func TestMain(m *testing.M) { chtest.Main(m) }
