// Package followup is Målbild's ILS-style follow-up workflow: for each
// report period (T1, T2 and the full year, or Q1–Q3 and the full year)
// the responsible editors confirm or change the engine's proposed
// assessment of each indicator and goal, write an analysis comment and
// mark it ready; they enter and correct values by hand or upload them in
// the series template; an admin follows completion per owner and closes
// the period. Every write goes to an append-only audit trail. The period
// report prints to A4 and downloads as CSV.
//
// The pages are mounted into the dashboards server (Site) and rendered in
// its layout; who may do what comes from package auth.
package followup

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/strategy"
)

// Store is what the workflow reads and writes; *clickhouse.Store
// satisfies it.
type Store interface {
	Observations(ctx context.Context, f clickhouse.ObservationFilter) ([]strategy.Observation, error)
	ObservationHistory(ctx context.Context, tenant, indicator string) ([]strategy.Observation, error)
	// The value list of an indicator's page, in pages (never all values).
	ObservationSummary(ctx context.Context, f clickhouse.ObservationFilter) ([]clickhouse.PeriodSummary, error)
	ObservationPage(ctx context.Context, f clickhouse.ObservationFilter, offset, limit int) ([]strategy.Observation, error)
	ObservationHistoryGroups(ctx context.Context, tenant, indicator string) ([]clickhouse.HistoryGroup, error)
	ObservationHistoryPage(ctx context.Context, tenant, indicator string, groups []clickhouse.HistoryGroup, offset, limit int) ([]strategy.Observation, error)
	WriteObservations(ctx context.Context, obs []strategy.Observation) error
	Assessments(ctx context.Context, f clickhouse.AssessmentFilter) ([]strategy.Assessment, error)
	AssessmentHistory(ctx context.Context, tenant string, subject strategy.SubjectKind, id string) ([]strategy.Assessment, error)
	WriteAssessment(ctx context.Context, a strategy.Assessment) error
	WriteAudit(ctx context.Context, e clickhouse.AuditEntry) error
	AuditLog(ctx context.Context, f clickhouse.AuditFilter) ([]clickhouse.AuditEntry, error)
	WritePeriodState(ctx context.Context, p clickhouse.PeriodState) error
	PeriodStates(ctx context.Context, tenant string) ([]clickhouse.PeriodState, error)
	PeriodHistory(ctx context.Context, tenant string, p strategy.Period) ([]clickhouse.PeriodState, error)
	// Responsible bodies' reports and activity updates (bodies.go).
	WriteBodyReport(ctx context.Context, r clickhouse.BodyReport) error
	BodyReports(ctx context.Context, tenant string) ([]clickhouse.BodyReport, error)
	BodyReportHistory(ctx context.Context, tenant, goal string) ([]clickhouse.BodyReport, error)
	WriteActivityUpdate(ctx context.Context, u clickhouse.ActivityUpdate) error
	ActivityUpdates(ctx context.Context, tenant string) ([]clickhouse.ActivityUpdate, error)
	ActivityHistory(ctx context.Context, tenant, activity string) ([]clickhouse.ActivityUpdate, error)
}

var _ Store = (*clickhouse.Store)(nil)

// Site is the web server the pages are mounted into; *dashboards.Server
// satisfies it (see dashboards/hooks.go).
type Site interface {
	Mount(pattern, name string, h http.Handler)
	MountGlobal(pattern, name string, h http.Handler)
	AddAsset(name string, body []byte) (string, error)
	Layout() (*template.Template, error)
	Request(r *http.Request) (st *strategy.Strategy, base, lang string)
	Render(w http.ResponseWriter, r *http.Request, status int, t *template.Template, title, current string, data any)
	// Changed says that this process wrote data of tenant, so that the
	// next page shows it without waiting for the cache's refresh interval.
	Changed(tenant string)
}

// Options configure the workflow.
type Options struct {
	Store Store
	Auth  *auth.Authenticator
	Site  Site
	Now   func() time.Time
	// Logger receives failures the user only sees as "internal error".
	Logger *slog.Logger
	// MaxUpload bounds an uploaded series file (default 5 MiB).
	MaxUpload int64
	// LoginPath is where the sign-in page is mounted (default /logga-in).
	LoginPath string
	// AuditJournal is the directory where each write's audit entry waits
	// until it is in the audit trail with its outcome (see Reconcile).
	// Without it the entries wait in memory and a crash can lose them.
	AuditJournal string
}

// Service is the workflow: its rules (Save*, Close, Reopen, ...) and its
// pages.
type Service struct {
	opts  Options
	store Store
	auth  *auth.Authenticator
	site  Site
	log   *slog.Logger
	pages map[string]*template.Template
	// journal holds audit entries until they are in the audit trail.
	journal *journal

	// writeMu makes every check-then-write (stale form, closed period)
	// atomic within this process.
	writeMu sync.Mutex
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/followup.css
var stylesheet []byte

// pageNames are the page templates, each parsed into its own copy of the
// site's layout.
var pageNames = []string{"periods", "report", "assess", "print", "upload", "audit", "login", "message", "users", "signedout", "close"}

// New checks o, parses the templates into the site's layout and mounts
// the pages (see Routes in docs/followup.md).
func New(o Options) (*Service, error) {
	switch {
	case o.Store == nil:
		return nil, errors.New("followup: Options.Store is required")
	case o.Auth == nil:
		return nil, errors.New("followup: Options.Auth is required")
	case o.Site == nil:
		return nil, errors.New("followup: Options.Site is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.MaxUpload <= 0 {
		o.MaxUpload = 5 << 20
	}
	if o.LoginPath == "" {
		o.LoginPath = "/logga-in"
	}
	j, err := openJournal(o.AuditJournal)
	if err != nil {
		return nil, fmt.Errorf("followup: %w", err)
	}
	s := &Service{opts: o, store: o.Store, auth: o.Auth, site: o.Site, log: o.Logger, pages: map[string]*template.Template{}, journal: j}
	if _, err := o.Site.AddAsset("followup.css", stylesheet); err != nil {
		return nil, err
	}
	for _, name := range pageNames {
		t, err := o.Site.Layout()
		if err != nil {
			return nil, err
		}
		if s.pages[name], err = t.Funcs(templateFuncs).ParseFS(templateFS, "templates/common.html", "templates/bodies.html", "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("followup: parsing %s: %w", name, err)
		}
	}
	s.routes()
	return s, nil
}

// Error is a refused write with what to tell the user, in Swedish and
// English. Status is the HTTP status it maps to: 400 bad input, 403 not
// allowed, 404 unknown subject, 409 closed period or stale form.
type Error struct {
	Status   int
	Problems []strategy.Text
	// Current is, for a stale form, the version saved since the form was
	// loaded (an assessment or an observation).
	CurrentAssessment *strategy.Assessment
	CurrentValue      *strategy.Observation
}

func (e *Error) Error() string {
	var s []string
	for _, p := range e.Problems {
		s = append(s, p.In("en"))
	}
	return fmt.Sprintf("%d: %s", e.Status, strings.Join(s, "; "))
}

func refuse(status int, sv, en string) *Error {
	return &Error{Status: status, Problems: []strategy.Text{{SV: sv, EN: en}}}
}

var (
	errForbidden = func() *Error {
		return refuse(http.StatusForbidden, "Du har inte behörighet att göra detta.", "You are not allowed to do this.")
	}
	errNotFound = func() *Error {
		return refuse(http.StatusNotFound, "Det finns inget sådant mål, någon sådan indikator eller period.", "There is no such goal, indicator or period.")
	}
)

// problems collects validation problems into one 400 Error.
type problems []strategy.Text

func (p *problems) add(sv, en string) { *p = append(*p, strategy.Text{SV: sv, EN: en}) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Problems: p}
}

// MaxComment is the longest comment accepted, in characters.
const MaxComment = 4000
