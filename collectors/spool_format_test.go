package collectors

import (
	"bytes"
	"context"
	"encoding"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

var updateSpool = flag.Bool("update-spool", false, "rewrite testdata/spool/*.json from the current encoding")

// fullRun is a run record with every field set.
func fullRun() clickhouse.Run {
	ts := time.Date(2024, 3, 31, 1, 59, 59, 123456789, strategy.Stockholm)
	return clickhouse.Run{Tenant: "0120", Collector: "ärenden", Kind: "cases", Started: ts, Finished: ts.Add(90 * time.Second),
		Rows: 1<<64 - 1, Outcome: OutcomeSpooled, Error: "dial tcp 127.0.0.1:9000: \"refused\"\nretrying"}
}

// spoolGolden are the golden files of the spool's current format and the
// entries they hold.
var spoolGolden = []struct {
	file  string
	entry func() spoolEntry
}{
	{"batch.json", func() spoolEntry {
		b := fullBatch()
		b.Probes = append(b.Probes, facts.ProbeResult{Service: "Mina sidor", URL: "https://m.example",
			Time: b.Probes[0].Time.Add(time.Minute), OK: true, Status: 200, Duration: 80 * time.Millisecond})
		return spoolEntry{Format: spoolFormat, Batch: b}
	}},
	{"run.json", func() spoolEntry { r := fullRun(); return spoolEntry{Format: spoolFormat, Run: &r} }},
}

// TestSpoolGolden reads the golden files of the current format (written
// by the first release of format 1) and compares what they hold, and
// checks that today's encoding of the same entries is byte for byte the
// same JSON: an upgrade must be able to drain what the previous release
// spooled.
func TestSpoolGolden(t *testing.T) {
	for _, g := range spoolGolden {
		path := filepath.Join("testdata", "spool", g.file)
		want := g.entry()
		enc, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if *updateSpool {
			var buf bytes.Buffer
			if err := json.Indent(&buf, enc, "", "  "); err != nil {
				t.Fatal(err)
			}
			buf.WriteByte('\n')
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		golden, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, golden); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !bytes.Equal(compact.Bytes(), enc) {
			t.Errorf("%s: the spool no longer writes its format %d the same way (a renamed field or tag strands spooled entries):\n file %s\n code %s",
				path, spoolFormat, compact.Bytes(), enc)
		}

		sp, err := OpenSpool(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		name := "00000000000000000001-000001-" + g.file
		if err := os.WriteFile(filepath.Join(sp.Dir(), name), golden, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := sp.load(name)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if got.Format != want.Format {
			t.Fatalf("%s: format %d, want %d", path, got.Format, want.Format)
		}
		switch {
		case want.Batch != nil:
			if got.Batch == nil || got.Run != nil {
				t.Fatalf("%s: not a batch entry: %+v", path, got)
			}
			sameBatch(t, got.Batch, want.Batch)
		default:
			if got.Run == nil || got.Batch != nil {
				t.Fatalf("%s: not a run entry: %+v", path, got)
			}
			gr, wr := *got.Run, *want.Run
			gr.Started, gr.Finished, wr.Started, wr.Finished = gr.Started.UTC(), gr.Finished.UTC(), wr.Started.UTC(), wr.Finished.UTC()
			if gr != wr {
				t.Fatalf("%s: run\n got %+v\nwant %+v", path, gr, wr)
			}
		}
	}
}

// TestSpoolGoldenCoversEveryField makes sure the golden entries set every
// field of every type the spool writes, so a field added later is also
// added to the golden files (run with -update-spool and review the diff).
func TestSpoolGoldenCoversEveryField(t *testing.T) {
	set := map[string]bool{}
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i), path)
			}
		case reflect.Struct:
			if leafType(v.Type()) {
				return
			}
			for i := range v.NumField() {
				f := v.Type().Field(i)
				p := path + "." + f.Name
				if !v.Field(i).IsZero() {
					set[p] = true
				}
				walk(v.Field(i), p)
			}
		}
	}
	for _, g := range spoolGolden {
		walk(reflect.ValueOf(g.entry()), "spoolEntry")
	}
	for _, f := range spoolFields() {
		if !set[f.path] {
			t.Errorf("no golden spool entry sets %s: add it to spoolGolden's entries and run go test -run TestSpoolGolden -update-spool", f.path)
		}
	}
}

// TestSpoolFieldNames: every field of everything the spool writes has an
// explicit JSON name, so renaming a Go field does not rename it in the
// files.
func TestSpoolFieldNames(t *testing.T) {
	var missing []string
	for _, f := range spoolFields() {
		if name, _, _ := strings.Cut(f.tag, ","); name == "" {
			missing = append(missing, f.path)
		}
	}
	if len(missing) > 0 {
		t.Errorf("spooled fields without an explicit JSON name:\n  %s", strings.Join(missing, "\n  "))
	}
}

type spoolField struct{ path, tag string }

// spoolFields lists every field of the spooled types, by path, with its
// json tag.
func spoolFields() []spoolField {
	var out []spoolField
	var list func(typ reflect.Type, path string)
	list = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || leafType(typ) {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			out = append(out, spoolField{path + "." + f.Name, f.Tag.Get("json")})
			list(f.Type, path+"."+f.Name)
		}
	}
	list(reflect.TypeFor[spoolEntry](), "spoolEntry")
	return out
}

// leafType: a struct JSON encodes as a whole (time.Time, strategy.Period),
// whose fields are not field names in the file.
func leafType(typ reflect.Type) bool {
	p := reflect.PointerTo(typ)
	return typ.Implements(reflect.TypeFor[json.Marshaler]()) || typ.Implements(reflect.TypeFor[encoding.TextMarshaler]()) ||
		p.Implements(reflect.TypeFor[json.Marshaler]()) || p.Implements(reflect.TypeFor[encoding.TextMarshaler]())
}

// An entry of a format this release does not know (written by a newer
// Målbild before a downgrade) is refused with a message that says so, and
// stays in the spool, where the newer release will find it; the entries
// after it are still sent.
func TestSpoolFutureFormat(t *testing.T) {
	store := &fakeStore{}
	sp, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	future := filepath.Join(sp.Dir(), "00000000000000000001-000001-batch-x.json")
	content := []byte(`{"format": 2, "batch": {"tenant": "0120", "rows": []}, "checksum": "abc"}`)
	if err := os.WriteFile(future, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.load(filepath.Base(future)); err == nil ||
		!strings.Contains(err.Error(), "format 2") || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("loading a format-2 entry: %v", err)
	}
	if err := sp.PutBatch(fullBatch()); err != nil {
		t.Fatal(err)
	}
	sink := NewStoreSink(store, sp, nil)
	res, err := sink.Drain(context.Background())
	if err == nil || !strings.Contains(err.Error(), "format 2") || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("drain: no clear error for a future format: %v", err)
	}
	if res.Sent != 1 || res.Rejected != 0 || res.Left != 1 {
		t.Fatalf("drain: %+v, want the current entry sent and the future one left", res)
	}
	if got, err := os.ReadFile(future); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("future entry not kept as it was: %q %v", got, err)
	}
	if rej, _ := filepath.Glob(filepath.Join(sp.Dir(), "rejected", "*")); len(rej) != 0 {
		t.Fatalf("future entry moved to rejected/: %v", rej)
	}
	if n := sink.Spooled(); n != 1 {
		t.Fatalf("spool holds %d entries, want the future one", n)
	}
	if len(store.batches) != 1 {
		t.Fatalf("store got %d batches", len(store.batches))
	}
	// A second drain leaves it again.
	if res, err := sink.Drain(context.Background()); err == nil || res.Left != 1 || res.Sent != 0 {
		t.Fatalf("second drain: %+v %v", res, err)
	}
}

// Every release has written a format number, so a file without one is
// no spool entry of any release: it is refused with that message and set
// aside in rejected/ (kept for an operator, like any unreadable entry).
func TestSpoolNoFormat(t *testing.T) {
	sp, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	name := "00000000000000000001-000001-batch-x.json"
	if err := os.WriteFile(filepath.Join(sp.Dir(), name), []byte(`{"batch": {"Tenant": "0120"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.load(name); err == nil || !strings.Contains(err.Error(), "not a spool entry (no format)") {
		t.Fatalf("load: %v", err)
	}
	res, err := NewStoreSink(&fakeStore{}, sp, nil).Drain(context.Background())
	if err == nil || res.Rejected != 1 || res.Left != 0 {
		t.Fatalf("drain: %+v %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(sp.Dir(), "rejected", name)); err != nil {
		t.Fatalf("not kept in rejected/: %v", err)
	}
}
