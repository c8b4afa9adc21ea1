'use strict';
// Replays statements on a current ClickHouse release, linked in as a
// library (chDB, the npm package @chdb/lib-linux-x64-gnu pinned by
// package-lock.json). Used by internal/chdbtest.
//
// usage:  node replay.js DATA_DIR < statements.json
// stdin:  [{"db": "...", "sql": "...", "select": true}, ...]
// stdout: {"version": "26.7.3", "results": [{"out": "..."} | {"error": "..."}, ...]}
//
// Every statement runs in one session on DATA_DIR (a fresh directory), in order, in its
// database (USE when it changes). Rows of a select come back as
// TabSeparatedWithNamesAndTypes. Background merges are stopped so that
// results that count unmerged rows (count() of a ReplacingMergeTree) do
// not depend on timing.
const fs = require('fs');
const chdb = require('@chdb/lib-linux-x64-gnu');

if (process.argv.length !== 3) {
  process.stderr.write('usage: node replay.js DATA_DIR < statements.json\n');
  process.exit(2);
}
const stmts = JSON.parse(fs.readFileSync(0, 'utf8'));
const conn = chdb.CreateConnection(process.argv[2]);
const run = (sql, format) => chdb.QueryWithConnection(conn, sql, format);
run('SYSTEM STOP MERGES', 'TabSeparated');
let db = 'default';
const results = stmts.map((s) => {
  try {
    if (s.db !== db) {
      run('USE `' + s.db.replace(/`/g, '') + '`', 'TabSeparated');
      db = s.db;
    }
    return { out: run(s.sql, s.select ? 'TabSeparatedWithNamesAndTypes' : 'TabSeparated') };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
});
chdb.CloseConnection(conn);
process.stdout.write(JSON.stringify({ version: chdb.EngineVersion(), results }));
