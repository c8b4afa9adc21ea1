package clickhouse

// RawCaseMeasure is rawCaseMeasure for the package's external tests.
var RawCaseMeasure = rawCaseMeasure
