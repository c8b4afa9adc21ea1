package chdbtest

import (
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	sel := Statement{DB: "d", SQL: "SELECT …", Select: true}
	out := func(types string, rows ...string) Result {
		return Result{Out: "a\tb\n" + types + "\n" + strings.Join(append(rows, ""), "\n")}
	}
	for _, tc := range []struct {
		name     string
		st       Statement
		old, cur Result
		want     string // "" or a part of the difference
	}{
		{"same", sel, out("UInt64\tString", "1\tx"), out("UInt64\tString", "1\tx"), ""},
		{"rows in another order", sel, out("UInt64\tString", "1\tx", "2\ty"), out("UInt64\tString", "2\ty", "1\tx"), ""},
		{"Nullable on the current release", sel, out("UInt64\tUInt64", "0\t0"), out("Nullable(UInt64)\tNullable(UInt64)", "0\t0"), "column types differ"},
		{"other value", sel, out("UInt64\tString", "1\tx"), out("UInt64\tString", "2\tx"), "rows differ"},
		{"missing row", sel, out("UInt64\tString", "1\tx", "2\ty"), out("UInt64\tString", "1\tx"), "2 rows on 18.16, 1 on the current release"},
		{"float's last digits", sel, out("Float64", "0.30000000000000004"), out("Float64", "0.3"), ""},
		{"float really differs", sel, out("Float64", "0.3"), out("Float64", "0.31"), "rows differ"},
		{"nan printed as -nan", sel, out("Float64", "-nan"), out("Float64", "nan"), ""},
		{"nan is not a number", sel, out("Float64", "nan"), out("Float64", "0"), "rows differ"},
		{"zero DateTime", sel, out("DateTime\tDate", "0000-00-00 00:00:00\t0000-00-00"), out("DateTime\tDate", "1970-01-01 00:00:00\t1970-01-01"), ""},
		{"DateTime's zone", sel, out(`DateTime(\'Etc/UTC\')`, "2025-01-01 00:00:00"), out("DateTime", "2025-01-01 00:00:00"), ""},
		{"DateTime64 is not DateTime", sel, out("DateTime", "2025-01-01 00:00:00"), out("DateTime64(3)", "2025-01-01 00:00:00.000"), "column types differ"},
		{"names are not compared", sel, Result{Out: "x\nUInt8\n1\n"}, Result{Out: "y\nUInt8\n1\n"}, ""},
		{"fails on the current release", sel, out("UInt8", "1"), Result{Err: "Code: 47. Unknown identifier\nmore"}, "fails on the current release: Code: 47. Unknown identifier"},
		{"fails on both", sel, Result{Err: "x"}, Result{Err: "y"}, ""},
		{"statement without rows", Statement{SQL: "CREATE TABLE …"}, Result{}, Result{Out: "ignored"}, ""},
		{"types only", Statement{SQL: "SELECT version()", Select: true, TypesOnly: true}, out("String", "18.16.1"), out("String", "26.7.3"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Diff(tc.st, tc.old, tc.cur)
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("Diff = %q, want %q", got, tc.want)
			}
		})
	}
}
