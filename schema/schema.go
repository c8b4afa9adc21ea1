// Package schema holds Målbild's ClickHouse schema as numbered SQL files,
// one statement per file, applied in order by the clickhouse package.
// The SQL runs on ClickHouse 18.16 and on current releases.
package schema

import "embed"

// Files holds the migrations; names sort in the order they apply.
//
//go:embed *.sql
var Files embed.FS
