package collectors

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/internal/chtest"
)

func TestDryRunPrints(t *testing.T) {
	var buf bytes.Buffer
	d := NewDryRun(&buf, 2)
	b := fullBatch()
	b.Cases = append(b.Cases, b.Cases[0])
	if err := d.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`batch "C:\\export\\ärenden \"mars\".csv": collector alla, tenant 0120, version 18446744073709551615, 11 rows`,
		"  cases: 3 rows\n",
		`    id="BN 2024/0153" type="Bygglov" department="Bygg- och miljöenheten" channel="E-tjänst" digital=true application=true received=2024-03-31 01:59 decided=2024-05-07 02:59`,
		`    id="BN 2024/0154" type="Strandskydd" department="" channel="Post" digital=false application=false received=2024-03-31 01:59 decided=-`,
		"    … 1 more\n",
		"  eservice_snapshots: 1 row\n",
		"  survey_responses: 1 row\n    survey=\"Systemenkät 2024\" id=\"R-00017\" system=\"Procapita\" group=\"Handläggare\" score=3.75 scale=1–5 answered=2024-10-02\n",
		`    service="Mina sidor" time=2024-03-31 01:59 ok=false status=503 duration=1.234567ms error="line one\nline two"`,
		"  maintenance_windows: 1 row\n",
		"  benchmark_values: 3 rows\n",
		`value=0 deleted=false`,
		`gender="K" value=null deleted=true`,
		"  observations: 1 row\n    indicator=\"andel-digitala\" period=2025-T2 dimension=\"department=Socialförvaltningen\" value=0.30000000000000004",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out)
		}
	}
	if batches, rows := d.Totals(); batches != 1 || rows != 11 {
		t.Errorf("totals %d batches %d rows", batches, rows)
	}
}

// A dry run through the runner writes nothing to ClickHouse: no facts,
// no observations, no run records.
func TestDryRunWritesNothing(t *testing.T) {
	ctx := context.Background()
	dsn := chtest.DSN(t)
	store, err := clickhouse.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	coll := collectFunc(func(ctx context.Context, _ Request, out Sink) error {
		if err := out.Write(ctx, caseBatch("a", 5)); err != nil {
			return err
		}
		return out.Write(ctx, fullBatch())
	})
	r, err := NewRunner(RunnerConfig{
		Instances: []Instance{{Name: "alla", Kind: "test", Tenant: "0120", Timeout: time.Minute}},
		Sink:      NewDryRun(&buf, 3),
		Build:     func(Instance) (Collector, error) { return coll, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	results, err := r.RunOnce(ctx, nil)
	if err != nil || results[0].Outcome != OutcomeOK || results[0].Rows != 5+10 {
		t.Fatalf("dry run: %+v %v", results, err)
	}
	if !strings.Contains(buf.String(), `batch "a.csv": collector alla, tenant 0120`) {
		t.Fatalf("dry-run output:\n%s", buf.String())
	}
	for _, table := range []string{"cases", "eservice_snapshots", "survey_responses", "probe_results", "maintenance_windows",
		"benchmark_values", "observations", "collector_runs"} {
		if got := strings.TrimSpace(chtest.Query(t, dsn, "SELECT count() FROM "+table)); got != "0" {
			t.Errorf("dry run wrote %s rows to %s", got, table)
		}
	}
}
