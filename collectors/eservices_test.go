package collectors

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/malbild/malbild/facts"
)

func TestParseEServicesWindows1252(t *testing.T) {
	name := "testdata/eservices/eservices-2024-03-31.csv"
	got, err := parseEServices(openFixture(t, name), name, eservicesParse{opts: &EServicesOptions{}, modTime: fileTestNow, now: fileTestNow})
	if err != nil {
		t.Fatal(err)
	}
	// The snapshot date comes from the file name.
	day := sthlm(2024, 3, 31, 0, 0)
	want := []facts.EService{
		{Snapshot: day, ID: "E-017", Name: "Ansökan om bygglov", Category: "Bygga och bo", Department: "Samhällsbyggnad",
			URL: "https://etjanster.example.se/bygglov", Integrated: true, EID: true, Active: true},
		{Snapshot: day, ID: "E-018", Name: "Anmälan om skolskjuts", Category: "Förskola och skola", Department: "Utbildning",
			URL: "https://etjanster.example.se/skolskjuts", EID: true, Active: true},
		{Snapshot: day, ID: "E-019", Name: "Felanmälan gata", Category: "Trafik", Department: "Samhällsbyggnad"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseEServicesDateColumnBOMComma(t *testing.T) {
	name := "testdata/eservices/katalog-datum.csv"
	got, err := parseEServices(openFixture(t, name), name, eservicesParse{opts: &EServicesOptions{}, modTime: fileTestNow, now: fileTestNow})
	if err != nil {
		t.Fatal(err)
	}
	// The Datum column gives each row's snapshot; without Status every
	// service is active. The same id on two snapshot dates is fine.
	want := []facts.EService{
		{Snapshot: sthlm(2025, 1, 31, 0, 0), ID: "1", Name: "Bygglov", Integrated: true, EID: true, Active: true},
		{Snapshot: sthlm(2025, 1, 31, 0, 0), ID: "2", Name: "Parkeringstillstånd", EID: true, Active: true},
		{Snapshot: sthlm(2025, 2, 28, 0, 0), ID: "1", Name: "Bygglov", Integrated: true, EID: true, Active: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseEServicesSnapshotFallbacks(t *testing.T) {
	data := "Id;Namn;Integrerad;E-legitimation\nE-1;Bygglov;Ja;Nej\n"
	// No date in the name: the file's modification day (in Swedish time).
	got, err := parseEServices(strings.NewReader(data), "/x/katalog.csv", eservicesParse{opts: &EServicesOptions{}, modTime: sthlm(2025, 5, 2, 23, 30).UTC(), now: fileTestNow})
	if err != nil || !got[0].Snapshot.Equal(sthlm(2025, 5, 2, 0, 0)) {
		t.Fatalf("mtime fallback: %+v, %v", got, err)
	}
	// A date in the directory name does not count; one in the base name does.
	got, err = parseEServices(strings.NewReader(data), "/2020-01-01/katalog_2025-04-30v2.csv", eservicesParse{opts: &EServicesOptions{}, modTime: fileTestNow, now: fileTestNow})
	if err != nil || !got[0].Snapshot.Equal(sthlm(2025, 4, 30, 0, 0)) {
		t.Fatalf("name date: %+v, %v", got, err)
	}
	_, err = parseEServices(strings.NewReader(data), "eservices-2026-01-01.csv", eservicesParse{opts: &EServicesOptions{}, modTime: fileTestNow, now: fileTestNow})
	wantProblems(t, err, "eservices-2026-01-01.csv: the date 2026-01-01 in the file name is in the future")
}

func TestParseEServicesBadFile(t *testing.T) {
	name := "testdata/eservices/eservices-bad.csv"
	got, err := parseEServices(openFixture(t, name), name, eservicesParse{opts: &EServicesOptions{}, modTime: sthlm(2024, 3, 31, 8, 0), now: fileTestNow})
	if got != nil {
		t.Fatal("a rejected file returned services")
	}
	wantProblems(t, err,
		name+`:2:5: Adress: address "javascript:alert(1)": want an absolute http:// or https:// URL`,
		name+`:3:6: Integrerad: invalid yes/no value "Kanske" (want Ja or Nej)`,
		name+`:4:8: Status: status "Pausad": want Aktiv or Avvecklad`,
		name+`:5:1: Id: empty service id`,
		name+`:6:1: Id: service "E-1" appears twice in the snapshot of 2024-03-31 (first on line 2)`,
	)
	_, err = parseEServices(strings.NewReader("Id;Namn;Integrerad;E-legitimation;Datum\nE-1;Bygg;Ja;Ja;2025-07-01\nE-2;Org 5560360793;Ja;Ja;2025-01-01\n"), "k.csv",
		eservicesParse{opts: &EServicesOptions{}, modTime: fileTestNow, now: fileTestNow})
	wantProblems(t, err, `k.csv:2:5: Datum: 2025-07-01 is in the future`)
}

func jsonOpts() *EServicesOptions {
	o := &EServicesOptions{ArrayField: "services"}
	o.Fields.defaults()
	return o
}

func TestParseEServicesJSON(t *testing.T) {
	now := sthlm(2025, 6, 15, 0, 30).UTC() // still 15 June in Stockholm, 14 June in UTC
	got, err := parseEServicesJSON(readFixture(t, "testdata/eservices/api-object.json"), "api", eservicesJSONParse{opts: jsonOpts(), now: now})
	if err != nil {
		t.Fatal(err)
	}
	day := sthlm(2025, 6, 15, 0, 0)
	want := []facts.EService{
		{Snapshot: day, ID: "17", Name: "Ansökan om bygglov", Category: "Bygga och bo", Department: "Samhällsbyggnad",
			URL: "https://etjanster.example.se/bygglov", Integrated: true, EID: true, Active: true},
		{Snapshot: day, ID: "E-18", Name: "Skolskjuts", Department: "Utbildning", EID: true, Active: true},
		{Snapshot: day, ID: "E-19", Name: "Felanmälan gata"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}

	o := jsonOpts()
	o.Fields.ID, o.Fields.Name, o.Fields.Active = "serviceId", "title", "published"
	got, err = parseEServicesJSON(readFixture(t, "testdata/eservices/api-array-custom.json"), "api", eservicesJSONParse{opts: o, now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "a-1" || got[0].Active || !got[0].Integrated || got[1].Name != "Bostadsanpassning" || !got[1].Active || !got[1].EID {
		t.Fatalf("custom fields: %+v", got)
	}
}

func TestParseEServicesJSONErrors(t *testing.T) {
	_, err := parseEServicesJSON(readFixture(t, "testdata/eservices/api-bad.json"), "api", eservicesJSONParse{opts: jsonOpts(), now: fileTestNow})
	wantProblems(t, err,
		`api: services[0].integrated: want true or false, got "maybe"`,
		`api: services[1].name: want a string, got an array`,
		`api: services[2].id: empty or missing service id`,
		`api: services[3].id: service "A" appears twice (first at services[0])`,
		`api: services[4].url: address "ftp://x.example.se/": want an absolute http:// or https:// URL`,
		`api: services[5]: want an object, got a number`,
		`api: services[6].name: the value looks like a personnummer; answers with personal data are rejected whole`,
	)
	_, err = parseEServicesJSON(readFixture(t, "testdata/eservices/api-malformed.json"), "api", eservicesJSONParse{opts: jsonOpts(), now: fileTestNow})
	wantProblems(t, err, `api:2:26: malformed JSON: invalid character ',' looking for beginning of value`)
	for _, c := range []struct{ body, want string }{
		{``, `api:1:1: malformed JSON: unexpected end of input`},
		{`{"services": [`, `api:1:15: malformed JSON: unexpected end of input`},
		{`[] []`, `api: malformed JSON: data after the top-level value`},
		{`{"items": []}`, `api: the answer has no "services" field (set array_field)`},
		{`{"services": {}}`, `api: services: want an array of services, got an object`},
		{`"catalogue"`, `api: want an array of services or an object with "services", got a string`},
		{`[{"id": "a", "name": "b", "eid": 2}]`, `api: [0].eid: want true or false, got 2`},
		{`[{"id": true, "name": "b"}]`, `api: [0].id: want a string, got a boolean`},
	} {
		_, err := parseEServicesJSON([]byte(c.body), "api", eservicesJSONParse{opts: jsonOpts(), now: fileTestNow})
		wantProblems(t, err, c.want)
	}
	if got, err := parseEServicesJSON([]byte(`{"services": []}`), "api", eservicesJSONParse{opts: jsonOpts(), now: fileTestNow}); err != nil || len(got) != 0 {
		t.Fatalf("empty catalogue: %v, %v", got, err)
	}
}

// fakeCatalogue answers like a catalogue API: the fixture for /ok, 500 for
// /down, broken JSON for /broken; it records the auth header it saw.
type fakeCatalogue struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func newFakeCatalogue(t *testing.T) *fakeCatalogue {
	f := &fakeCatalogue{}
	ok := readFixture(t, "testdata/eservices/api-object.json")
	broken := readFixture(t, "testdata/eservices/api-malformed.json")
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.auth = append(f.auth, r.Header.Get("X-Api-Key")+"|"+r.Header.Get("Authorization"))
		f.mu.Unlock()
		if r.Method != http.MethodGet {
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		switch r.URL.Path {
		case "/ok":
			w.Header().Set("Content-Type", "application/json")
			w.Write(ok)
		case "/broken":
			w.Header().Set("Content-Type", "application/json")
			w.Write(broken)
		default:
			http.Error(w, "database \x1b[31mdown\x1b[0m", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func apiCollector(t *testing.T, src string) *eservicesCollector {
	t.Helper()
	c, err := New(instanceFrom(t, "/etc/malbild/malbild.yaml", src))
	if err != nil {
		t.Fatal(err)
	}
	ec := c.(*eservicesCollector)
	ec.now = fixedNow
	return ec
}

func TestEServicesAPI(t *testing.T) {
	srv := newFakeCatalogue(t)
	t.Setenv("TEST_CATALOGUE_KEY", "s3cret")
	c := apiCollector(t, "name: katalog\nkind: eservices\nurl: "+srv.URL+"/ok?token=abc\nauth_header_env: TEST_CATALOGUE_KEY\nauth_header: X-Api-Key\n")
	sink := &batchSink{}
	prog := &fileProgress{}
	if err := c.Collect(context.Background(), Request{Tenant: "0120", Progress: prog}, sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.batches) != 1 {
		t.Fatalf("%d batches", len(sink.batches))
	}
	b := sink.batches[0]
	if len(b.EServices) != 3 || b.Tenant != "0120" || b.Collector != "katalog" || b.Version == 0 || !b.EServices[0].Snapshot.Equal(sthlm(2025, 6, 15, 0, 0)) {
		t.Fatalf("batch %+v", b)
	}
	// The source names the URL without the query, which may carry keys.
	if b.Source != srv.URL+"/ok?…" || strings.Contains(b.Source, "abc") {
		t.Fatalf("source %q", b.Source)
	}
	if srv.auth[0] != "s3cret|" {
		t.Fatalf("auth header sent: %q", srv.auth[0])
	}
	if prog.rows != 3 || len(prog.files) != 1 {
		t.Fatalf("progress %+v", prog)
	}
	// The default header is Authorization; the value is read at each run.
	t.Setenv("TEST_CATALOGUE_KEY", "Bearer one")
	c = apiCollector(t, "name: katalog\nkind: eservices\nurl: "+srv.URL+"/ok\nauth_header_env: TEST_CATALOGUE_KEY\n")
	t.Setenv("TEST_CATALOGUE_KEY", "Bearer two")
	if err := c.Collect(context.Background(), Request{Tenant: "0120"}, sink); err != nil {
		t.Fatal(err)
	}
	if got := srv.auth[len(srv.auth)-1]; got != "|Bearer two" {
		t.Fatalf("auth header sent: %q", got)
	}
}

func TestEServicesAPIFailures(t *testing.T) {
	srv := newFakeCatalogue(t)
	for _, c := range []struct{ path, want string }{
		{"/down", "GET " + srv.URL + "/down: 500 Internal Server Error: database [31mdown[0m"},
		{"/broken", srv.URL + "/broken:2:26: malformed JSON: invalid character ',' looking for beginning of value"},
	} {
		coll := apiCollector(t, "name: katalog\nkind: eservices\nurl: "+srv.URL+c.path+"\n")
		sink := &batchSink{}
		err := coll.Collect(context.Background(), Request{Tenant: "0120"}, sink)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: err = %v, want %s", c.path, err, c.want)
		}
		if len(sink.batches) != 0 {
			t.Errorf("%s: wrote %d batches", c.path, len(sink.batches))
		}
	}
	// A server that is gone.
	addr := srv.URL
	srv.Close()
	coll := apiCollector(t, "name: katalog\nkind: eservices\nurl: "+addr+"/ok\n")
	if err := coll.Collect(context.Background(), Request{}, &batchSink{}); err == nil || !strings.HasPrefix(err.Error(), "GET "+addr+"/ok: ") {
		t.Fatalf("server gone: %v", err)
	}
}

func TestEServicesOptions(t *testing.T) {
	t.Setenv("TEST_SET", "x")
	for _, c := range []struct{ src, where, msg string }{
		{"name: a\nkind: eservices\nurl: ftp://x\n", "3", `URL "ftp://x" must start with http:// or https://`},
		{"name: a\nkind: eservices\nurl: https://x\npath: a.csv\n", "3", "set either url or files (path, glob, dir), not both"},
		{"name: a\nkind: eservices\nurl: https://x\ncolumns:\n  id: Nr\n", "3", "set either url or files"},
		{"name: a\nkind: eservices\nurl: https://x\nauth_header: X-Key\n", "4", "auth_header needs auth_header_env"},
		{"name: a\nkind: eservices\nurl: https://x\nauth_header_env: TEST_NOT_SET_ANYWHERE\n", "4", "environment variable TEST_NOT_SET_ANYWHERE is not set"},
		{"name: a\nkind: eservices\nurl: https://x\nauth_header_env: TEST_SET\nauth_header: 'Bad Header'\n", "5", `auth_header "Bad Header" is not a header name`},
		{"name: a\nkind: eservices\npath: a.csv\narray_field: items\n", "4", "array_field is only used with url"},
		{"name: a\nkind: eservices\npath: a.csv\nfields:\n  id: x\n", "5", "fields is only used with url"},
		{"name: a\nkind: eservices\nurl: https://x\nfields:\n  idd: x\n", "5", `unknown key "idd"`},
	} {
		wantOptionsError(t, c.src, c.where, c.msg)
	}
}

func TestEServicesCollectFiles(t *testing.T) {
	dir := t.TempDir()
	p1 := copyFixture(t, "testdata/eservices/eservices-2024-03-31.csv", dir)
	p2 := copyFixture(t, "testdata/eservices/katalog-datum.csv", dir)
	inst := instanceFrom(t, filepath.Join(dir, "malbild.yaml"), "name: katalog\nkind: eservices\nglob: '*.csv'\n")
	c, err := New(inst)
	if err != nil {
		t.Fatal(err)
	}
	c.(*eservicesCollector).now = fixedNow
	sink := &batchSink{}
	if err := c.Collect(context.Background(), Request{Tenant: "0120"}, sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.batches) != 2 || sink.batches[0].Source != p1 || sink.batches[1].Source != p2 || len(sink.batches[1].EServices) != 3 {
		t.Fatalf("batches: %d", len(sink.batches))
	}
}

func TestEServicesSample(t *testing.T) {
	checkFileSample(t, "eservices", eservicesSample)
	// The sample's second instance reads the API.
	t.Setenv("MALBILD_CATALOGUE_TOKEN", "Bearer x")
	second := strings.Replace(eservicesSample, "  - name: etjanster\n", "  - name: unused\n", 1)
	i := strings.Index(second, "  - name: etjanster-api")
	c, err := New(instanceFrom(t, "/etc/malbild/malbild.yaml", "collectors:\n"+second[i:]))
	if err != nil {
		t.Fatal(err)
	}
	if ec := c.(*eservicesCollector); ec.api == nil || ec.opts.Fields.Active != "active" || ec.opts.ArrayField != "services" {
		t.Fatalf("API sample %+v", ec.opts)
	}
}

func FuzzParseEServicesJSON(f *testing.F) {
	for _, p := range []string{"api-object.json", "api-array-custom.json", "api-bad.json", "api-malformed.json"} {
		f.Add(readFixture(f, filepath.Join("testdata/eservices", p)))
	}
	f.Add([]byte(`{"services":[{"id":1e400,"name":"\ud800","integrated":"ja"}]}`))
	opts := jsonOpts()
	f.Fuzz(func(t *testing.T, data []byte) {
		svcs, err := parseEServicesJSON(data, "f", eservicesJSONParse{opts: opts, now: fileTestNow})
		if err != nil && svcs != nil {
			t.Fatal("services returned with an error")
		}
		for _, s := range svcs {
			if s.ID == "" || s.Name == "" || checkServiceURL(s.URL) != "" {
				t.Fatalf("invalid service accepted: %+v", s)
			}
		}
	})
}
