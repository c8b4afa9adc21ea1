package demo

import (
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// probeInterval is the resolution of the availability history: the
// blackbox exporter checks every service every five minutes.
const probeInterval = 300

// probeTimeout is how long a probe waits before it gives up.
const probeTimeout = 10.0 // seconds

// defaultMaintMinutes is the length of the weekly maintenance windows
// unless an indicator of the share of time in maintenance shapes it.
const defaultMaintMinutes = 60

// maintNote is the note of the weekly maintenance windows.
const maintNote = "Veckovis servicefönster"

// probeService is one monitored e-service.
type probeService struct {
	Name      string
	URL       string
	Latency   float64 // median response time in ms at the baseline
	MaintDay  int     // weekday of the weekly maintenance window, 0 = Sunday
	MaintHour int
}

// probeModel generates every probe sample on the fly from (seed, service,
// time), so any range can be answered without storing anything.
type probeModel struct {
	seed     int64
	services []probeService
	// uptime is the percent of checks outside maintenance that succeed;
	// latency the mean response time in ms of successful checks.
	uptime  func(svc int, t float64) float64
	latency func(svc int, t float64) float64
	// maintMinutes is the length of the weekly maintenance window.
	maintMinutes func(svc int, t float64) int
	// start and end bound the history (Unix seconds); no samples outside.
	start, end int64
}

// outage is a stretch of failed checks, in Unix seconds [from, to).
type outage struct{ from, to int64 }

// dayPlan is what happens to one service on one (Stockholm) day.
type dayPlan struct {
	day      int
	midnight int64
	next     int64 // the next midnight
	maint    outage
	outages  []outage
	latency  float64
}

// plan returns the day plan of service svc for day number day.
func (pm *probeModel) plan(svc, day int) dayPlan {
	dp := dayPlan{day: day, midnight: dayTime(day).Unix(), next: dayTime(day + 1).Unix()}
	s := pm.services[svc]
	mid := float64(dp.midnight + 12*3600)
	if weekday(day) == s.MaintDay {
		y, m, d := civilFromDays(day)
		from := time.Date(y, time.Month(m), d, s.MaintHour, 0, 0, 0, strategy.Stockholm).Unix()
		dp.maint = outage{from, from + int64(pm.maintMinutes(svc, mid))*60}
	}
	dp.latency = pm.latency(svc, mid)
	r := newRand(pm.seed, 'o', uint64(svc), uint64(day))
	down := (1 - clamp(pm.uptime(svc, mid), 0, 100)/100) * 1440 // minutes per day
	const meanLen = 40.0
	x := down / meanLen
	k := int(x)
	if r.Float64() < x-float64(k) {
		k++
	}
	for range k {
		length := math.Min(meanLen*r.ExpFloat64(), 720)
		from := dp.midnight + int64(r.IntN(1440))*60
		dp.outages = append(dp.outages, outage{from, from + int64(length*60)})
	}
	return dp
}

// sample is one check: whether it succeeded and how long it took.
type sample struct {
	ok       bool
	status   int
	seconds  float64
	inMaint  bool
	errorMsg string
}

// probeCursor evaluates samples of one service in time order, keeping the
// plans of the current and the previous day (outages may run past
// midnight).
type probeCursor struct {
	pm        *probeModel
	svc       int
	cur, prev dayPlan
	loaded    bool
}

func (c *probeCursor) at(ts int64) sample {
	pm := c.pm
	if !c.loaded || ts < c.cur.midnight || ts >= c.cur.next {
		day := dayNumber(time.Unix(ts, 0))
		switch {
		case c.loaded && day == c.cur.day+1:
			c.prev = c.cur
		default:
			c.prev = pm.plan(c.svc, day-1)
		}
		c.cur = pm.plan(c.svc, day)
		c.loaded = true
	}
	k := key(pm.seed, 'p', uint64(c.svc), uint64(ts/probeInterval))
	in := func(o outage) bool { return ts >= o.from && ts < o.to }
	down := in(c.cur.maint) || in(c.prev.maint)
	maint := down
	for _, o := range c.cur.outages {
		down = down || in(o)
	}
	for _, o := range c.prev.outages {
		down = down || in(o)
	}
	if down {
		s := sample{status: 503, seconds: 0.05 + 0.1*unit(k), inMaint: maint, errorMsg: "HTTP 503 Service Unavailable"}
		if !maint && unit(mix(k)) < 0.1 {
			s = sample{seconds: probeTimeout, errorMsg: "context deadline exceeded"}
		}
		return s
	}
	// Log-normal around the day's mean, a little slower around lunch.
	hour := float64(ts-c.cur.midnight) / 3600
	daily := 1 + 0.12*math.Cos(2*math.Pi*(hour-13)/24)
	const sigma = 0.35
	ms := c.cur.latency * daily * math.Exp(sigma*normal(k)-sigma*sigma/2)
	return sample{ok: true, status: 200, seconds: math.Min(ms/1000, probeTimeout)}
}

// defaultProbeModel is the model behind ProbeResults: services at 99.6 %
// availability with their usual response times.
func defaultProbeModel(seed int64, services []probeService) *probeModel {
	return &probeModel{
		seed:         seed,
		services:     services,
		uptime:       func(int, float64) float64 { return 99.6 },
		latency:      func(svc int, _ float64) float64 { return services[svc].Latency },
		maintMinutes: func(int, float64) int { return defaultMaintMinutes },
		start:        benchFrom.Unix(),
		end:          math.MaxInt64,
	}
}

// demoServices lists the monitored services with addresses on host.
func demoServices(host string) []probeService {
	out := make([]probeService, len(probeServices))
	for i, s := range probeServices {
		out[i] = probeService{Name: s.Name, URL: "https://" + host + "/" + s.Path, Latency: s.Latency, MaintDay: s.MaintDay, MaintHour: s.MaintHour}
	}
	return out
}

// ProbeOptions shape ProbeResultsWith.
type ProbeOptions struct {
	// N is the number of probe results.
	N    int
	Seed int64
	// Services is the number of monitored services. Zero lets it grow
	// with N (at least 8, so that no service needs more than about a year
	// of history); a fixed number makes the history grow with N instead:
	// N/Services checks five minutes apart per service.
	Services int
	// End, when set, ends the history at the last five-minute instant
	// before End instead of beginning it in 2010, so that sets of
	// different N end at the same instant (and the newest periods hold
	// the same days).
	End time.Time
}

// services returns the number of services o probes.
func (o ProbeOptions) services() int {
	if o.Services > 0 {
		return o.Services
	}
	return max(len(probeServices), (o.N+probesPerYear-1)/probesPerYear)
}

// ProbeSpan returns the first and the last instant of the probe results
// ProbeResultsWith(o) yields (zero times for none).
func ProbeSpan(o ProbeOptions) (first, last time.Time) {
	if o.N <= 0 {
		return first, last
	}
	instants := int64((o.N + o.services() - 1) / o.services())
	start := benchFrom.Unix()
	if !o.End.IsZero() {
		end := o.End.Unix() - 1
		start = end - end%probeInterval - (instants-1)*probeInterval
	}
	return time.Unix(start, 0).UTC(), time.Unix(start+(instants-1)*probeInterval, 0).UTC()
}

// probesPerYear is how many checks one service gets in a year.
const probesPerYear = 365 * 24 * 3600 / probeInterval

// ProbeServicesFor returns the fewest services, at least 8, with which n
// probe results from 2010 on fit before 2026: the number of services for
// data sets that must differ only in the length of their history, the
// largest of them of n probe results (at 50 000 000, 30 services over
// 15.9 years).
func ProbeServicesFor(n int) int {
	years := benchTo.Year() - benchFrom.Year()
	return max(len(probeServices), (n+years*probesPerYear-1)/(years*probesPerYear))
}

// ProbeEnd is when the case history of Cases ends: an End for
// ProbeOptions.
func ProbeEnd() time.Time { return benchTo }

// ProbeResults yields n availability checks from 2010 on, five minutes
// apart per service, as the prometheus collector makes them of
// probe_success and probe_duration_seconds: every service at one instant,
// then the next instant. The number of services grows with n (at least
// 8, so that no service needs more than about a year of history), and
// nothing is held in memory beyond one day's plan per service.
func ProbeResults(n int, seed int64) iter.Seq[facts.ProbeResult] {
	return ProbeResultsWith(ProbeOptions{N: n, Seed: seed})
}

// ProbeResultsWith is ProbeResults shaped by o: the number of services
// (the first services are the same whatever the number) and where the
// history ends. A check depends only on the seed, its service and its
// time, so sets that overlap agree there.
func ProbeResultsWith(o ProbeOptions) iter.Seq[facts.ProbeResult] {
	n := o.N
	return func(yield func(facts.ProbeResult) bool) {
		if n <= 0 {
			return
		}
		k := o.services()
		base := demoServices("e-tjanster.demo.example")
		services := make([]probeService, k)
		for i := range services {
			s := base[i%len(base)]
			if copy := i / len(base); copy > 0 {
				s.Name = fmt.Sprintf("%s (nod %d)", s.Name, copy+1)
				s.URL = fmt.Sprintf("%s?nod=%d", s.URL, copy+1)
			}
			services[i] = s
		}
		pm := defaultProbeModel(o.Seed, services)
		first, _ := ProbeSpan(o)
		pm.start = first.Unix()
		cursors := make([]probeCursor, k)
		for i := range cursors {
			cursors[i] = probeCursor{pm: pm, svc: i}
		}
		left := n
		for ts := pm.start; ; ts += probeInterval {
			at := time.Unix(ts, 0).UTC()
			for i := range cursors {
				s := cursors[i].at(ts)
				r := facts.ProbeResult{
					Service: services[i].Name, URL: services[i].URL, Time: at, OK: s.ok,
					Status: s.status, Duration: time.Duration(s.seconds * float64(time.Second)), Error: s.errorMsg,
				}
				if !yield(r) {
					return
				}
				if left--; left == 0 {
					return
				}
			}
		}
	}
}
