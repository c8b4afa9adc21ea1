package collectors

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/malbild/malbild/collectors/swecsv"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/pnr"
)

// eservicesSample is the commented sample configuration of the eservices
// kind, the same file as examples/collectors/eservices.yaml.
//
//go:embed samples/eservices.yaml
var eservicesSample string

func init() { Register("eservices", newEServices) }

// EServicesOptions are the options of an eservices instance: snapshots of
// the e-service catalogue, from CSV files or from a JSON API.
type EServicesOptions struct {
	// CSV files: path, glob or dir, as for the other file kinds.
	FileOptions `yaml:",inline"`
	// Columns renames the columns of the CSV export.
	Columns EServiceColumns `yaml:"columns"`

	// URL of a JSON API answering GET with the catalogue; instead of files.
	URL string `yaml:"url"`
	// AuthHeaderEnv names an environment variable holding the value of the
	// AuthHeader request header (e.g. "Bearer …"); secrets stay out of the
	// config file.
	AuthHeaderEnv string `yaml:"auth_header_env"`
	// AuthHeader is the header the secret is sent in (default
	// Authorization).
	AuthHeader string `yaml:"auth_header"`
	// ArrayField is the field of the answer object holding the services
	// (default "services"); an answer that is an array is used as it is.
	ArrayField string `yaml:"array_field"`
	// Fields renames the fields of each service object.
	Fields EServiceFields `yaml:"fields"`
}

// EServiceColumns are header names of a catalogue CSV; empty means the
// default.
type EServiceColumns struct {
	ID         string `yaml:"id"`         // Id
	Name       string `yaml:"name"`       // Namn
	Category   string `yaml:"category"`   // Kategori (optional)
	Department string `yaml:"department"` // Förvaltning (optional)
	URL        string `yaml:"url"`        // Adress (optional)
	Integrated string `yaml:"integrated"` // Integrerad
	EID        string `yaml:"eid"`        // E-legitimation
	Status     string `yaml:"status"`     // Status (optional: without it every service is active)
	Date       string `yaml:"date"`       // Datum (optional: snapshot date per row)
}

// EServiceFields are the field names of a service object in the JSON
// answer; empty means the default (the YAML key itself).
type EServiceFields struct {
	ID         string `yaml:"id"`
	Name       string `yaml:"name"`
	Category   string `yaml:"category"`
	Department string `yaml:"department"`
	URL        string `yaml:"url"`
	Integrated string `yaml:"integrated"`
	EID        string `yaml:"eid"`
	Active     string `yaml:"active"`
}

func (f *EServiceFields) defaults() {
	set := func(p *string, def string) {
		if *p == "" {
			*p = def
		}
	}
	set(&f.ID, "id")
	set(&f.Name, "name")
	set(&f.Category, "category")
	set(&f.Department, "department")
	set(&f.URL, "url")
	set(&f.Integrated, "integrated")
	set(&f.EID, "eid")
	set(&f.Active, "active")
}

const (
	eservicesUserAgent = "Malbild-eservices/1.0"
	eservicesMaxBody   = 32 << 20
)

type eservicesCollector struct {
	inst   Instance
	opts   EServicesOptions
	api    *url.URL
	client *http.Client
	now    func() time.Time
}

func newEServices(inst Instance) (Collector, error) {
	var o EServicesOptions
	if err := DecodeOptions(inst, &o); err != nil {
		return nil, err
	}
	c := &eservicesCollector{inst: inst, now: time.Now}
	if o.URL == "" {
		apiOnly := map[string]bool{"auth_header": o.AuthHeader != "", "auth_header_env": o.AuthHeaderEnv != "",
			"array_field": o.ArrayField != "", "fields": o.Fields != (EServiceFields{})}
		for _, k := range []string{"auth_header", "auth_header_env", "array_field", "fields"} {
			if apiOnly[k] {
				return nil, OptionsError(inst, optionAt(inst.Options, k), "%s is only used with url", k)
			}
		}
		if err := o.FileOptions.check(inst); err != nil {
			return nil, err
		}
		c.opts = o
		return c, nil
	}
	if o.FileOptions != (FileOptions{}) || o.Columns != (EServiceColumns{}) {
		return nil, OptionsError(inst, optionAt(inst.Options, "url"), "set either url or files (path, glob, dir), not both")
	}
	u, err := httpURL(o.URL)
	if err != nil {
		return nil, OptionsError(inst, optionAt(inst.Options, "url"), "%v", err)
	}
	c.api = u
	if o.AuthHeader != "" && o.AuthHeaderEnv == "" {
		return nil, OptionsError(inst, optionAt(inst.Options, "auth_header"), "auth_header needs auth_header_env, the environment variable holding its value")
	}
	if o.AuthHeaderEnv != "" {
		if o.AuthHeader == "" {
			o.AuthHeader = "Authorization"
		}
		if !validHeaderName(o.AuthHeader) {
			return nil, OptionsError(inst, optionAt(inst.Options, "auth_header"), "auth_header %q is not a header name", o.AuthHeader)
		}
		if os.Getenv(o.AuthHeaderEnv) == "" {
			return nil, OptionsError(inst, optionAt(inst.Options, "auth_header_env"), "environment variable %s is not set", o.AuthHeaderEnv)
		}
	}
	if o.ArrayField == "" {
		o.ArrayField = "services"
	}
	o.Fields.defaults()
	c.opts = o
	timeout := inst.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	c.client = &http.Client{Transport: newTransport(nil), Timeout: timeout}
	return c, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func (c *eservicesCollector) Collect(ctx context.Context, req Request, out Sink) error {
	if c.api != nil {
		return c.collectAPI(ctx, req, out)
	}
	return collectFiles(ctx, "eservices", c.inst, &c.opts.FileOptions, c.now, req, out,
		func(r io.Reader, f sourceFile, rows func(int), b *facts.Batch) (err error) {
			b.EServices, err = parseEServices(r, f.Path, eservicesParse{opts: &c.opts, modTime: f.ModTime, now: c.now(), rows: rows})
			return err
		})
}

// redacted is u for messages and the batch source: without user
// information and query, which may carry keys.
func redacted(u *url.URL) string {
	v := *u
	v.User = nil
	if v.RawQuery != "" {
		v.RawQuery = "…"
	}
	v.Fragment = ""
	return v.String()
}

func (c *eservicesCollector) collectAPI(ctx context.Context, req Request, out Sink) error {
	source := redacted(c.api)
	if req.Progress != nil {
		req.Progress.File(source)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, c.api.String(), nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", source, err)
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", eservicesUserAgent)
	if c.opts.AuthHeaderEnv != "" {
		v := os.Getenv(c.opts.AuthHeaderEnv)
		if v == "" {
			return fmt.Errorf("GET %s: environment variable %s (auth_header_env) is not set", source, c.opts.AuthHeaderEnv)
		}
		hr.Header.Set(c.opts.AuthHeader, v)
	}
	resp, err := c.client.Do(hr)
	if err != nil {
		return fmt.Errorf("GET %s: %w", source, err)
	}
	defer resp.Body.Close()
	body, err := readCapped(resp.Body, eservicesMaxBody)
	if err != nil {
		return fmt.Errorf("GET %s: reading the answer: %w", source, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("GET %s: %s: %s", source, resp.Status, snippet(body))
	}
	now := c.now()
	svcs, err := parseEServicesJSON(body, source, eservicesJSONParse{opts: &c.opts, now: now})
	if err != nil {
		return err
	}
	if req.Progress != nil {
		req.Progress.Rows(len(svcs))
	}
	b := &facts.Batch{
		Tenant: tenantOf(req, c.inst), Collector: c.inst.Name, Source: source,
		Version: nextVersion(now), EServices: svcs,
	}
	if len(svcs) == 0 {
		return nil
	}
	if err := out.Write(ctx, b); err != nil {
		return fmt.Errorf("writing %s: %w", source, err)
	}
	return nil
}

// eservicesParse is what parseEServices needs besides the file.
type eservicesParse struct {
	opts    *EServicesOptions
	modTime time.Time   // the file's modification time: the last fallback for the snapshot date
	now     time.Time   // snapshot dates after now are errors
	rows    func(n int) // progress: n more rows read; may be nil
}

// Column positions in parseEServices.
const (
	esID = iota
	esName
	esCategory
	esDepartment
	esURL
	esIntegrated
	esEID
	esStatus
	esDate
)

// parseEServices reads a catalogue snapshot CSV. The snapshot date is the
// row's Datum when the file has that column, else a YYYY-MM-DD date in the
// file name, else the day of modTime. Any problem rejects the whole file:
// the error lists the first problems as file:line:column: reason.
func parseEServices(r io.Reader, name string, p eservicesParse) ([]facts.EService, error) {
	o := p.opts
	c := o.Columns
	t, err := openCSV(r, name, &o.FileOptions, []column{
		esID:         {names: []string{"Id"}, override: c.ID, required: true},
		esName:       {names: []string{"Namn"}, override: c.Name, required: true},
		esCategory:   {names: []string{"Kategori"}, override: c.Category},
		esDepartment: {names: []string{"Förvaltning"}, override: c.Department},
		esURL:        {names: []string{"Adress", "URL"}, override: c.URL},
		esIntegrated: {names: []string{"Integrerad"}, override: c.Integrated, required: true},
		esEID:        {names: []string{"E-legitimation"}, override: c.EID, required: true},
		esStatus:     {names: []string{"Status"}, override: c.Status},
		esDate:       {names: []string{"Datum"}, override: c.Date},
	})
	if err != nil {
		return nil, err
	}
	idx := t.idx
	var snapshot time.Time
	if idx[esDate] < 0 {
		if d, ok := dateInName(name); ok {
			if d.After(p.now) {
				return nil, &swecsv.Error{File: name, Msg: fmt.Sprintf("the date %s in the file name is in the future", d.Format("2006-01-02"))}
			}
			snapshot = d
		} else {
			snapshot = dayOf(p.modTime)
		}
	}
	var out []facts.EService
	type key struct {
		day time.Time
		id  string
	}
	seen := map[key]int{} // → line
	err = t.eachRow(p.rows, idx, func(w row) {
		s := facts.EService{Snapshot: snapshot}
		s.ID = w.required(idx[esID], "service id")
		idOK := !w.bad
		s.Name = w.required(idx[esName], "service name")
		s.Category = w.text(idx[esCategory])
		s.Department = w.text(idx[esDepartment])
		if j := idx[esURL]; j >= 0 {
			f := w.fails
			s.URL = w.text(j)
			if msg := checkServiceURL(s.URL); msg != "" && w.fails == f {
				w.failf(j, "%s", msg)
			}
		}
		s.Integrated = yesNo(&w, idx[esIntegrated])
		s.EID = yesNo(&w, idx[esEID])
		s.Active = true
		if j := idx[esStatus]; !w.empty(j) {
			if v, ok := parseActive(w.rec[j]); ok {
				s.Active = v
			} else {
				w.failf(j, "status %s: want Aktiv or Avvecklad", swecsv.Quote(strings.TrimSpace(w.rec[j])))
			}
		}
		if j := idx[esDate]; j >= 0 {
			f := w.fails
			t, _ := w.pastTime(j, p.now)
			s.Snapshot = dayOf(t)
			idOK = idOK && w.fails == f
		}
		if idOK {
			k := key{s.Snapshot, s.ID}
			if first, dup := seen[k]; dup {
				w.failf(idx[esID], "service %s appears twice in the snapshot of %s (first on line %d)", swecsv.Quote(s.ID), s.Snapshot.Format("2006-01-02"), first)
			} else {
				seen[k] = t.rd.Line()
			}
		}
		if w.bad {
			return
		}
		out = append(out, s)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// yesNo reads Ja/Nej; an empty field is Nej.
func yesNo(w *row, j int) bool {
	if w.empty(j) {
		return false
	}
	v, err := swecsv.ParseBool(w.rec[j])
	if err != nil {
		w.failf(j, "%v", err)
	}
	return v
}

// parseActive reads a catalogue status.
func parseActive(s string) (active, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "aktiv", "active", "i drift", "publicerad", "ja", "yes", "true", "1":
		return true, true
	case "avvecklad", "inaktiv", "inactive", "ur drift", "retired", "nej", "no", "false", "0":
		return false, true
	}
	return false, false
}

// checkServiceURL says what is wrong with a service address, or "". An
// address is shown as a link, so only absolute http(s) URLs pass.
func checkServiceURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("address %s: want an absolute http:// or https:// URL", swecsv.Quote(s))
	}
	return ""
}

// dateInName finds the first valid YYYY-MM-DD date in the base name of
// path.
func dateInName(path string) (time.Time, bool) {
	base := filepath.Base(path)
	for i := 0; i+10 <= len(base); i++ {
		if i > 0 && base[i-1] >= '0' && base[i-1] <= '9' {
			continue
		}
		if i+10 < len(base) && base[i+10] >= '0' && base[i+10] <= '9' {
			continue
		}
		if d, err := swecsv.ParseDate(base[i : i+10]); err == nil {
			return d, true
		}
	}
	return time.Time{}, false
}

// eservicesJSONParse is what parseEServicesJSON needs besides the answer.
type eservicesJSONParse struct {
	opts *EServicesOptions // ArrayField and Fields set
	now  time.Time         // the snapshot is now's day
}

// parseEServicesJSON reads a catalogue API answer: an array of service
// objects, or an object holding that array in opts.ArrayField. Text fields
// are strings (an id may be a number); flags are booleans, "Ja"/"Nej" or
// 0/1. A missing or null flag is false, except active, which is true. Any
// problem rejects the whole answer.
func parseEServicesJSON(data []byte, source string, p eservicesJSONParse) ([]facts.EService, error) {
	o := p.opts
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, jsonError(source, data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: malformed JSON: data after the top-level value", source)
	}
	path := ""
	var list []any
	switch v := top.(type) {
	case []any:
		list = v
	case map[string]any:
		arr, ok := v[o.ArrayField]
		if !ok {
			return nil, fmt.Errorf("%s: the answer has no %q field (set array_field)", source, o.ArrayField)
		}
		if list, ok = arr.([]any); !ok {
			return nil, fmt.Errorf("%s: %s: want an array of services, got %s", source, o.ArrayField, jsonKind(arr))
		}
		path = o.ArrayField
	default:
		return nil, fmt.Errorf("%s: want an array of services or an object with %q, got %s", source, o.ArrayField, jsonKind(top))
	}
	snapshot := dayOf(p.now)
	var errs swecsv.Errors
	out := make([]facts.EService, 0, len(list))
	seen := map[string]int{}
	f := o.Fields
	for i, item := range list {
		if errs.Truncated {
			break
		}
		at := fmt.Sprintf("%s[%d]", path, i)
		obj, ok := item.(map[string]any)
		if !ok {
			errs.Add(&swecsv.Error{File: source, Msg: fmt.Sprintf("%s: want an object, got %s", at, jsonKind(item))})
			continue
		}
		jr := jsonRow{source: source, at: at, obj: obj, errs: &errs}
		s := facts.EService{Snapshot: snapshot}
		s.ID = jr.text(f.ID)
		if s.ID == "" && !jr.bad {
			jr.failf(f.ID, "empty or missing service id")
		}
		if !jr.bad {
			if first, dup := seen[s.ID]; dup {
				jr.failf(f.ID, "service %s appears twice (first at %s[%d])", swecsv.Quote(s.ID), path, first)
			} else {
				seen[s.ID] = i
			}
		}
		s.Name = jr.text(f.Name)
		if s.Name == "" && !jr.bad {
			jr.failf(f.Name, "empty or missing service name")
		}
		s.Category = jr.text(f.Category)
		s.Department = jr.text(f.Department)
		s.URL = jr.text(f.URL)
		if msg := checkServiceURL(s.URL); msg != "" && !jr.bad {
			jr.failf(f.URL, "%s", msg)
		}
		s.Integrated = jr.flag(f.Integrated, false)
		s.EID = jr.flag(f.EID, false)
		s.Active = jr.flag(f.Active, true)
		if jr.bad {
			continue
		}
		out = append(out, s)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// jsonError places a decoding error at line:column of data.
func jsonError(source string, data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset - 1 // Offset is just past the offending byte
	case errors.As(err, &te):
		off = max(te.Offset-1, 0)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(data))
		err = errors.New("unexpected end of input")
	}
	if off < 0 {
		return fmt.Errorf("%s: malformed JSON: %v", source, err)
	}
	off = min(max(off, 0), int64(len(data)))
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Errorf("%s:%d:%d: malformed JSON: %v", source, line, col, err)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// jsonRow reads the fields of one service object, collecting problems as
// "source: services[3].field: reason".
type jsonRow struct {
	source string
	at     string
	obj    map[string]any
	errs   *swecsv.Errors
	bad    bool
}

func (r *jsonRow) failf(field, format string, args ...any) {
	r.errs.Add(&swecsv.Error{File: r.source, Msg: r.at + "." + field + ": " + fmt.Sprintf(format, args...)})
	r.bad = true
}

// text reads a string (or a number, for ids); missing or null is "".
func (r *jsonRow) text(field string) string {
	var s string
	switch v := r.obj[field].(type) {
	case nil:
		return ""
	case string:
		s = v
	case json.Number:
		s = v.String()
	default:
		r.failf(field, "want a string, got %s", jsonKind(v))
		return ""
	}
	if kind, found := pnr.Find(s); found {
		r.failf(field, "the value looks like a %s; answers with personal data are rejected whole", kind)
		return ""
	}
	c, err := swecsv.Clean(s)
	if err != nil {
		r.failf(field, "%v", err)
	}
	return c
}

// flag reads a boolean: true/false, "Ja"/"Nej" (and the other words
// swecsv.ParseBool knows), or 0/1. Missing or null is def.
func (r *jsonRow) flag(field string, def bool) bool {
	switch v := r.obj[field].(type) {
	case nil:
		return def
	case bool:
		return v
	case json.Number:
		switch v.String() {
		case "0":
			return false
		case "1":
			return true
		}
		r.failf(field, "want true or false, got %s", v.String())
	case string:
		if b, ok := parseActive(v); ok {
			return b
		}
		b, err := swecsv.ParseBool(v)
		if err != nil {
			r.failf(field, "want true or false, got %s", swecsv.Quote(v))
		}
		return b
	default:
		r.failf(field, "want true or false, got %s", jsonKind(v))
	}
	return false
}
