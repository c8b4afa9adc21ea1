package strategy_test

// The built-in measures are defined in package clickhouse, which
// registers them with this package when it is loaded; importing it here
// fills strategy.Measures for every test of this package (the internal
// ones too: they share one test binary), so the parser is tested against
// the real measures.
import _ "github.com/malbild/malbild/clickhouse"
