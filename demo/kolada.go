package demo

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/malbild/malbild/strategy"
)

// A loopback server answering like Kolada's open API (v3, and v2 with the
// same paths):
//
//	GET /v3/data/kpi/{kpis}/municipality/{codes}[/year/{years}][?from_date=YYYY-MM-DD][&page=N&per_page=M]
//
// with {"values":[{"kpi","municipality","period","values":[{"gender","count","status","value"}]}],"count":n,"next_page":url}.
// Unless per_page is given, every answer with more than one entry is
// split over two pages. Some values are null (a peer that has not
// reported), and with from_date the answer holds only entries changed
// since that date, one of them deleted.

// koladaKPI is one key figure the server knows.
type koladaKPI struct {
	id string
	// own is the expected value of the tenant's municipality in a year;
	// target the target path, which the peers roughly follow.
	own, target func(year int) float64
	lo, hi      float64
	genders     bool // has values per gender (K, M) besides the total
}

type koladaServer struct {
	seed        int64
	own         string
	peers       []string
	first, last int // years with values
	kpis        map[string]*koladaKPI
	now         time.Time
}

// koladaEntry is one entry of an answer.
type koladaEntry struct {
	KPI          string        `json:"kpi"`
	Municipality string        `json:"municipality"`
	Period       int           `json:"period"`
	Values       []koladaValue `json:"values"`
	IsDeleted    bool          `json:"is_deleted,omitempty"`
	updated      string
}

type koladaValue struct {
	Gender string   `json:"gender"`
	Count  int      `json:"count"`
	Status string   `json:"status"`
	Value  *float64 `json:"value"`
}

type koladaAnswer struct {
	Values   []koladaEntry `json:"values"`
	Count    int           `json:"count"`
	NextPage *string       `json:"next_page"`
}

var koladaPathRE = regexp.MustCompile(`^/v[23]/data/kpi/([^/]+)/municipality/([^/]+)(?:/year/([^/]+))?/?$`)

func (ks *koladaServer) handler() http.Handler {
	return http.HandlerFunc(ks.serve)
}

func koladaFail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (ks *koladaServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		koladaFail(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	m := koladaPathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		koladaFail(w, http.StatusNotFound, "not found: use /v3/data/kpi/{kpi}/municipality/{municipality}/year/{year}")
		return
	}
	kpis, codes := strings.Split(m[1], ","), strings.Split(m[2], ",")
	var years []int
	if m[3] != "" {
		for _, y := range strings.Split(m[3], ",") {
			n, err := strconv.Atoi(strings.TrimSpace(y))
			if err != nil || n < 1900 || n > 2200 {
				koladaFail(w, http.StatusBadRequest, fmt.Sprintf("invalid year %q", y))
				return
			}
			years = append(years, n)
		}
	}
	q := r.URL.Query()
	fromDate := q.Get("from_date")
	if fromDate != "" {
		if _, err := time.Parse(time.DateOnly, fromDate); err != nil {
			koladaFail(w, http.StatusBadRequest, fmt.Sprintf("invalid from_date %q (want YYYY-MM-DD)", fromDate))
			return
		}
	}
	page, perPage := 1, 0
	for name, p := range map[string]*int{"page": &page, "per_page": &perPage} {
		if s := q.Get(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 5000 {
				koladaFail(w, http.StatusBadRequest, fmt.Sprintf("invalid %s %q", name, s))
				return
			}
			*p = n
		}
	}
	all := ks.entries(kpis, codes, years, fromDate)
	if perPage == 0 {
		perPage = max(1, (len(all)+1)/2)
	}
	lo := min(len(all), (page-1)*perPage)
	hi := min(len(all), lo+perPage)
	ans := koladaAnswer{Values: all[lo:hi], Count: hi - lo}
	if ans.Values == nil {
		ans.Values = []koladaEntry{}
	}
	if hi < len(all) {
		next := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
		nq := url.Values{}
		if fromDate != "" {
			nq.Set("from_date", fromDate)
		}
		nq.Set("page", strconv.Itoa(page+1))
		nq.Set("per_page", strconv.Itoa(perPage))
		next.RawQuery = nq.Encode()
		s := next.String()
		ans.NextPage = &s
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ans)
}

// entries lists every entry for the asked KPIs, places and years (all
// years when none are given), sorted by KPI, place and year.
func (ks *koladaServer) entries(kpis, codes []string, years []int, fromDate string) []koladaEntry {
	if len(years) == 0 {
		for y := ks.first; y <= ks.last; y++ {
			years = append(years, y)
		}
	}
	kpis, codes, years = sortedSet(kpis), sortedSet(codes), sortedSet(years)
	today := ks.now.Format(time.DateOnly)
	var out []koladaEntry
	for _, id := range kpis {
		k := ks.kpis[strings.TrimSpace(id)]
		if k == nil {
			continue
		}
		for _, code := range codes {
			peer := slices.Index(ks.peers, code)
			if peer < 0 && code != ks.own {
				continue
			}
			for _, y := range years {
				if y < ks.first || y > ks.last {
					continue
				}
				e := ks.entry(k, code, peer, y)
				if e.updated > today || fromDate != "" && e.updated < fromDate || fromDate == "" && e.IsDeleted {
					continue // not published yet, unchanged, or withdrawn
				}
				out = append(out, e)
			}
		}
	}
	return out
}

func sortedSet[T int | string](xs []T) []T {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

// entry is the value of KPI k for a place (peer index, -1 for the own
// municipality) and year.
func (ks *koladaServer) entry(k *koladaKPI, code string, peer, year int) koladaEntry {
	h := key(ks.seed, 'k', hashString(k.id), hashString(code), uint64(year))
	e := koladaEntry{KPI: k.id, Municipality: code, Period: year}
	// Published in the spring or summer after the year.
	e.updated = time.Date(year+1, time.Month(3+h%6), 1+int(h>>8%28), 0, 0, 0, 0, strategy.Stockholm).Format(time.DateOnly)
	recent := ks.now.AddDate(0, 0, -10).Format(time.DateOnly)
	switch {
	case peer == 0 && year == ks.first:
		// Withdrawn after a correction of the source data.
		e.IsDeleted, e.updated = true, recent
		return e
	case peer == 1 && year == ks.last-1:
		e.updated = recent // revised
	}
	scale := math.Max(math.Abs(k.target(year)), 1)
	var total float64
	if peer < 0 {
		total = k.own(year) + 0.01*scale*normal(h)
	} else {
		off := 0.25 * (unit(key(ks.seed, 'p', hashString(k.id), hashString(code))) - 0.5)
		total = k.target(year)*(1+off) + 0.02*scale*normal(h)
	}
	total = round1(clamp(total, k.lo, k.hi))
	isNull := peer >= 0 && (unit(mix(h)) < 0.06 || peer == len(ks.peers)-1 && year == ks.last)
	val := func(v float64) *float64 {
		if isNull {
			return nil
		}
		return &v
	}
	e.Values = []koladaValue{{Gender: "T", Count: 1, Value: val(total)}}
	if k.genders {
		d := total * 0.06 * (unit(mix(h^0xabc)) - 0.5)
		e.Values = append(e.Values,
			koladaValue{Gender: "K", Count: 1, Value: val(round1(clamp(total+d, k.lo, k.hi)))},
			koladaValue{Gender: "M", Count: 1, Value: val(round1(clamp(total-d, k.lo, k.hi)))})
	}
	return e
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
