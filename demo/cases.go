package demo

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// caseHeader is the header of the case-management export (formats.md §1).
const caseHeader = "Diarienummer;Ärendetyp;Ärendeslag;Enhet;Kanal;Inkom;Beslutad"

// channels: the digital ones first.
var caseChannels = append(append([]string{}, channelsDigital...), channelsOther...)

// Seasonal factors by month (January first): case volume dips in summer
// and at Christmas; handling takes longer for cases that arrive just
// before or during the summer holidays.
var (
	volumeSeason   = [12]float64{1.05, 1.0, 1.1, 1.05, 1.05, 0.95, 0.6, 0.85, 1.1, 1.1, 1.05, 0.85}
	durationSeason = [12]float64{1.0, 1.0, 1.0, 1.0, 1.0, 1.06, 1.15, 1.05, 1.0, 1.0, 1.0, 1.04}
)

// Hour-of-day weights for cases that arrive through an e-service (any
// time, with a morning and an evening peak).
var digitalHours = cumulative([]float64{
	0.3, 0.15, 0.1, 0.1, 0.15, 0.3, 0.8, 1.6, 2.4, 2.8, 2.7, 2.4,
	2.2, 2.4, 2.4, 2.2, 2.0, 1.8, 1.9, 2.3, 2.4, 2.0, 1.3, 0.7,
})

// caseModel says how cases develop: type mix, digital take-up and
// handling times. Times t are Unix seconds.
type caseModel struct {
	seed  int64
	types []caseType
	cum   []float64
	// digital is the share of applications made through an e-service
	// (0–1); typeDigital overrides it for single types.
	digital     func(t float64) float64
	typeDigital map[int]func(t float64) float64
	// dur multiplies the base handling times (1 at the baseline);
	// typeDur overrides it for single types.
	dur     func(t float64) float64
	typeDur map[int]func(t float64) float64
	// calib scales the types' base handling times so the measured
	// statistic at the baseline equals the indicator's baseline.
	calib float64
	// nowDay and nowMinute bound the data: nothing is received or decided
	// after them.
	nowDay, nowMinute int
}

// caseRow is one generated case, kept compact for speed.
type caseRow struct {
	day     int32 // received, day number
	minute  int16 // received, minute of the day
	typ     int16
	channel int8
	decided int32 // day number; -1 when not decided yet
	serial  int32 // diarium serial within the department and year
}

// monthVolume is how many cases arrive in one month.
type monthVolume struct {
	Year  int
	Month time.Month
	N     int
}

// defaultCaseModel is the model behind GenerateCases and Cases: digital
// take-up rising from 10 % to 80 % and handling times falling 35 % over
// [from, to).
func defaultCaseModel(seed int64, from, to time.Time) *caseModel {
	t0, t1 := unix(from), unix(to)
	frac := func(t float64) float64 { return clamp((t-t0)/(t1-t0), 0, 1) }
	cm := &caseModel{
		seed:    seed,
		types:   slices.Clone(caseTypes),
		digital: func(t float64) float64 { return 0.10 + 0.70*frac(t) },
		dur:     func(t float64) float64 { return 1 - 0.35*frac(t) },
		calib:   1,
	}
	cm.setNow(to.Add(-time.Minute))
	cm.cum = cm.weights()
	return cm
}

func (cm *caseModel) weights() []float64 {
	w := make([]float64, len(cm.types))
	for i, ct := range cm.types {
		w[i] = ct.Weight
	}
	return cumulative(w)
}

func (cm *caseModel) setNow(now time.Time) {
	now = now.In(strategy.Stockholm)
	cm.nowDay = dayNumber(now)
	cm.nowMinute = now.Hour()*60 + now.Minute()
}

// digitalShares fills p with each type's probability of arriving
// digitally at t: the overall share for applications is met exactly by
// shifting all types on the logit scale.
func (cm *caseModel) digitalShares(t, noise float64, p []float64) {
	target := clamp(cm.digital(t)+noise, 0.002, 0.998)
	var wFree, wFixed, fixedSum float64
	for i, ct := range cm.types {
		if ct.Kind != "Ansökan" {
			continue
		}
		if f, ok := cm.typeDigital[i]; ok {
			p[i] = clamp(f(t)+noise, 0.002, 0.998)
			wFixed += ct.Weight
			fixedSum += ct.Weight * p[i]
			continue
		}
		wFree += ct.Weight
	}
	want := 0.5
	if wFree > 0 {
		want = clamp((target*(wFree+wFixed)-fixedSum)/wFree, 0.001, 0.999)
	}
	lo, hi := -20.0, 20.0
	for range 60 {
		c := (lo + hi) / 2
		s := 0.0
		for i, ct := range cm.types {
			if ct.Kind == "Ansökan" && cm.typeDigital[i] == nil {
				s += ct.Weight * sigmoid(c+ct.Digital)
			}
		}
		if wFree > 0 && s/wFree < want {
			lo = c
		} else {
			hi = c
		}
	}
	c := (lo + hi) / 2
	for i, ct := range cm.types {
		switch {
		case ct.Kind != "Ansökan":
			p[i] = sigmoid(c + ct.Digital - 0.8)
		case cm.typeDigital[i] == nil:
			p[i] = sigmoid(c + ct.Digital)
		}
	}
}

// durationFactor is the multiplier on type i's base handling time at t.
func (cm *caseModel) durationFactor(i int, t float64) float64 {
	if f, ok := cm.typeDur[i]; ok {
		return f(t)
	}
	return cm.dur(t)
}

// month generates the n cases received in month m of year y, sorted by
// arrival, appending to rows. Serials are not yet assigned.
func (cm *caseModel) month(y int, m time.Month, n int, rows []caseRow) []caseRow {
	r := newRand(cm.seed, 'c', uint64(y*12+int(m)))
	first := daysFromCivil(y, int(m), 1)
	last := first + daysIn(y, m) - 1
	if last > cm.nowDay-1 {
		last = cm.nowDay - 1 // only whole days before today
	}
	if last < first || n <= 0 {
		return rows
	}
	// Day weights: offices register on weekdays; e-services take cases
	// every day.
	nd := last - first + 1
	wOffice, wDigital := make([]float64, nd), make([]float64, nd)
	for i := range nd {
		switch weekday(first + i) {
		case 0, 6:
			wOffice[i], wDigital[i] = 0.02, 0.45
		default:
			wOffice[i], wDigital[i] = 1, 1
		}
	}
	cumOffice, cumDigital := cumulative(wOffice), cumulative(wDigital)

	mid := unix(monthStart(y, m).AddDate(0, 0, 14))
	p := make([]float64, len(cm.types))
	cm.digitalShares(mid, 0.012*r.NormFloat64(), p)
	minaSidor := clamp(float64(y-2014)*0.04, 0, 0.3)
	season := durationSeason[m-1]
	durNoise := 1 + 0.015*r.NormFloat64()
	otherCum := cumulative(channelWeights)

	for range n {
		ti := pick(r, cm.cum)
		ct := &cm.types[ti]
		var row caseRow
		row.typ = int16(ti)
		if r.Float64() < p[ti] {
			row.channel = 0
			if r.Float64() < minaSidor {
				row.channel = 1
			}
			row.day = int32(first + pick(r, cumDigital))
			row.minute = int16(pick(r, digitalHours)*60 + r.IntN(60))
		} else {
			row.channel = int8(len(channelsDigital) + pick(r, otherCum))
			row.day = int32(first + pick(r, cumOffice))
			row.minute = int16(8*60 + r.IntN(8*60+30))
		}
		days := ct.Days * cm.calib * cm.durationFactor(ti, mid) * season * durNoise * math.Exp(ct.Spread*r.NormFloat64())
		dec := int(row.day) + int(math.Round(days))
		switch weekday(dec) {
		case 6:
			dec += 2
		case 0:
			dec++
		}
		row.decided = int32(dec)
		if dec > cm.nowDay {
			row.decided = -1
		}
		rows = append(rows, row)
	}
	// Rows that compare equal are identical, so an unstable sort gives the
	// same output every time.
	slices.SortFunc(rows[len(rows)-n:], func(a, b caseRow) int {
		switch {
		case a.day != b.day:
			return int(a.day - b.day)
		case a.minute != b.minute:
			return int(a.minute - b.minute)
		case a.typ != b.typ:
			return int(a.typ - b.typ)
		case a.channel != b.channel:
			return int(a.channel - b.channel)
		}
		return int(a.decided - b.decided)
	})
	return rows
}

// serials numbers cases per department and year in order of arrival, the
// way a diarium does. It keeps its counters across months.
type serials struct {
	year  int
	count []int32
}

func (s *serials) assign(types []caseType, rows []caseRow, y int) {
	if s.year != y || s.count == nil {
		s.year = y
		s.count = make([]int32, len(departments))
	}
	for i := range rows {
		d := types[rows[i].typ].Dept
		s.count[d]++
		rows[i].serial = s.count[d]
	}
}

// caseWriter writes rows as a Windows-1252 export with CRLF line ends.
type caseWriter struct {
	types    [][]byte // Ärendetyp;Ärendeslag;Enhet; per type, encoded
	prefix   [][]byte // diarium prefix per type, "BN "
	channels [][]byte
	buf      []byte
}

func newCaseWriter(types []caseType) (*caseWriter, error) {
	enc := charmap.Windows1252.NewEncoder()
	cw := &caseWriter{}
	for _, ct := range types {
		s, err := enc.String(csvField(ct.Name) + ";" + ct.Kind + ";" + csvField(departments[ct.Dept].Name) + ";")
		if err != nil {
			return nil, fmt.Errorf("encoding case type %q as Windows-1252: %w", ct.Name, err)
		}
		cw.types = append(cw.types, []byte(s))
		cw.prefix = append(cw.prefix, []byte(departments[ct.Dept].Prefix+" "))
	}
	for _, c := range caseChannels {
		s, err := enc.String(c + ";")
		if err != nil {
			return nil, err
		}
		cw.channels = append(cw.channels, []byte(s))
	}
	return cw, nil
}

func (cw *caseWriter) header(w io.Writer) error {
	h, err := charmap.Windows1252.NewEncoder().String(caseHeader + "\r\n")
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, h)
	return err
}

// write appends the rows to w.
func (cw *caseWriter) write(w io.Writer, rows []caseRow) error {
	for i := range rows {
		row := &rows[i]
		b := cw.buf[:0]
		y, m, d := civilFromDays(int(row.day))
		b = append(b, cw.prefix[row.typ]...)
		b = strconv.AppendInt(b, int64(y), 10)
		b = append(b, '/')
		if row.serial < 1000 {
			b = append(b, '0')
			if row.serial < 100 {
				b = append(b, '0')
				if row.serial < 10 {
					b = append(b, '0')
				}
			}
		}
		b = strconv.AppendInt(b, int64(row.serial), 10)
		b = append(b, ';')
		b = append(b, cw.types[row.typ]...)
		b = append(b, cw.channels[row.channel]...)
		b = appendDate(b, y, m, d)
		b = append(b, ' ')
		b = appendClock(b, int(row.minute))
		b = append(b, ';')
		if row.decided >= 0 {
			y, m, d := civilFromDays(int(row.decided))
			b = appendDate(b, y, m, d)
		}
		b = append(b, '\r', '\n')
		cw.buf = b
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// csvField quotes s, CSV style, when it holds a delimiter, a quote or a
// line break.
func csvField(s string) string {
	if strings.ContainsAny(s, ";,\"\r\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// toFact converts a row to the fact the cases_csv collector makes of it
// with its default options.
func (cm *caseModel) toFact(row *caseRow) facts.Case {
	ct := cm.types[row.typ]
	y, m, d := civilFromDays(int(row.day))
	c := facts.Case{
		ID:          departments[ct.Dept].Prefix + " " + strconv.Itoa(y) + "/" + fmt.Sprintf("%04d", row.serial),
		Type:        ct.Name,
		Department:  departments[ct.Dept].Name,
		Channel:     caseChannels[row.channel],
		Digital:     int(row.channel) < len(channelsDigital),
		Application: ct.Kind == "Ansökan",
		Received:    time.Date(y, time.Month(m), d, int(row.minute)/60, int(row.minute)%60, 0, 0, strategy.Stockholm),
	}
	if row.decided >= 0 {
		c.Decided = dayTime(int(row.decided))
	}
	return c
}

// spread distributes n cases over the months of [from, to) by seasonal
// weight, exactly (largest remainder).
func spread(n int, from, to time.Time) []monthVolume {
	var ms []monthVolume
	var w []float64
	total := 0.0
	for t := monthStart(from.Year(), from.Month()); t.Before(to); t = t.AddDate(0, 1, 0) {
		ms = append(ms, monthVolume{Year: t.Year(), Month: t.Month()})
		w = append(w, volumeSeason[t.Month()-1])
		total += volumeSeason[t.Month()-1]
	}
	given := 0
	rem := make([]int, len(ms))
	frac := make([]float64, len(ms))
	for i := range ms {
		x := float64(n) * w[i] / total
		ms[i].N = int(x)
		frac[i] = x - float64(ms[i].N)
		given += ms[i].N
		rem[i] = i
	}
	slices.SortStableFunc(rem, func(a, b int) int {
		switch {
		case frac[a] > frac[b]:
			return -1
		case frac[a] < frac[b]:
			return 1
		}
		return 0
	})
	for i := 0; given < n; i++ {
		ms[rem[i%len(rem)]].N++
		given++
	}
	return ms
}

// Default span of the benchmark generators.
var (
	benchFrom = time.Date(2010, 1, 1, 0, 0, 0, 0, strategy.Stockholm)
	benchTo   = time.Date(2026, 1, 1, 0, 0, 0, 0, strategy.Stockholm)
)

// GenerateCases writes a case-management export with a header and n case
// rows received between 2010 and 2025, in the same format and with the
// same model as the demo's monthly files (Windows-1252, ';', CRLF). The
// rows depend only on n and seed.
func GenerateCases(w io.Writer, n int, seed int64) error {
	cm := defaultCaseModel(seed, benchFrom, benchTo)
	cw, err := newCaseWriter(cm.types)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := cw.header(bw); err != nil {
		return err
	}
	var s serials
	var rows []caseRow
	for _, mv := range spread(n, benchFrom, benchTo) {
		rows = cm.month(mv.Year, mv.Month, mv.N, rows[:0])
		s.assign(cm.types, rows, mv.Year)
		if err := cw.write(bw, rows); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Cases yields the n cases GenerateCases(w, n, seed) writes, as the facts
// the cases_csv collector makes of them with its default options, one
// month at a time.
func Cases(n int, seed int64) iter.Seq[facts.Case] {
	return func(yield func(facts.Case) bool) {
		cm := defaultCaseModel(seed, benchFrom, benchTo)
		var s serials
		var rows []caseRow
		for _, mv := range spread(n, benchFrom, benchTo) {
			rows = cm.month(mv.Year, mv.Month, mv.N, rows[:0])
			s.assign(cm.types, rows, mv.Year)
			for i := range rows {
				if !yield(cm.toFact(&rows[i])) {
					return
				}
			}
		}
	}
}

// writeCaseFiles writes one export per month into dir and returns the
// file paths and the number of rows.
func (cm *caseModel) writeCaseFiles(dir string, months []monthVolume) ([]string, int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, err
	}
	cw, err := newCaseWriter(cm.types)
	if err != nil {
		return nil, 0, err
	}
	var (
		files []string
		total int
		s     serials
		rows  []caseRow
	)
	for _, mv := range months {
		rows = cm.month(mv.Year, mv.Month, mv.N, rows[:0])
		if len(rows) == 0 {
			continue
		}
		s.assign(cm.types, rows, mv.Year)
		name := filepath.Join(dir, fmt.Sprintf("arenden-%04d-%02d.csv", mv.Year, int(mv.Month)))
		if err := writeFile(name, func(w io.Writer) error {
			if err := cw.header(w); err != nil {
				return err
			}
			return cw.write(w, rows)
		}); err != nil {
			return nil, 0, err
		}
		files = append(files, name)
		total += len(rows)
	}
	return files, total, nil
}

// writeFile creates name and writes it through a buffer.
func writeFile(name string, fill func(w io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := fill(bw); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// caseStat is the handling-time statistic an indicator measures.
type caseStat struct {
	p     float64      // 0.5 for the median, 0.9 for p90
	types map[int]bool // the types it covers
}

// calibrate returns the factor on base handling times that makes stat
// equal want for cases at the model's baseline (dur = 1), measured over a
// year of cases with their seasonal mix.
func (cm *caseModel) calibrate(stat caseStat, want float64) float64 {
	r := rand.New(rand.NewPCG(uint64(cm.seed), 0xca11b))
	var w []float64
	for i, ct := range cm.types {
		if stat.types[i] {
			w = append(w, ct.Weight)
		} else {
			w = append(w, 0)
		}
	}
	cum := cumulative(w)
	if cum[len(cum)-1] == 0 || want <= 0 {
		return 1
	}
	seasons := cumulative(volumeSeason[:])
	const n = 40000
	xs := make([]float64, n)
	for i := range xs {
		ct := cm.types[pick(r, cum)]
		m := pick(r, seasons)
		xs[i] = math.Round(ct.Days * durationSeason[m] * math.Exp(ct.Spread*r.NormFloat64()))
	}
	slices.Sort(xs)
	got := xs[int(stat.p*float64(n-1))]
	if got <= 0 {
		return 1
	}
	return want / got
}
