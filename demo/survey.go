package demo

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/malbild/malbild/strategy"
)

const surveyHeader = "Enkät,Svars-id,System,Grupp,Betyg,Datum"

// scoreSD is the spread of answers around a system's mean (before
// rounding to the 1–5 scale).
const scoreSD = 0.9

// surveyModel says how the yearly systemenkät develops. Each answer is
// round(μ + N(0, scoreSD)) clamped to 1–5, with μ = level(t) + the
// system's quality, or a per-system mean when systems are shaped one by
// one (satisfaction_systems_top_share).
type surveyModel struct {
	seed int64
	// level returns the municipality-wide shift μc for the year at t.
	level func(t float64) float64
	// systemMeans, when set, gives each system's μ directly.
	systemMeans func(t float64) []float64
	// responses is the number of responses in the year at t.
	responses func(t float64) float64
}

// scoreProbs returns P(score = k) for k = 1..5 given μ.
func scoreProbs(mu float64) [5]float64 {
	var p [5]float64
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-(x-mu)/(scoreSD*math.Sqrt2)) }
	prev := 0.0
	for k := 1; k <= 5; k++ {
		c := 1.0
		if k < 5 {
			c = cdf(float64(k) + 0.5)
		}
		p[k-1] = c - prev
		prev = c
	}
	return p
}

// expectedScore and topShare are the mean score and the share of scores
// ≥ min for answers around μ.
func expectedScore(mu float64) float64 {
	s := 0.0
	for k, p := range scoreProbs(mu) {
		s += float64(k+1) * p
	}
	return s
}

func topShare(mu, min float64) float64 {
	s := 0.0
	for k, p := range scoreProbs(mu) {
		if float64(k+1) >= min {
			s += p
		}
	}
	return s
}

// surveyFilter is the part of the answers an indicator measures.
type surveyFilter struct {
	system, group string
}

// weight is the expected share of answers that are about system i from
// group g.
func surveyWeights(f surveyFilter) [][]float64 {
	total := 0
	for _, s := range systems {
		total += s.Users
	}
	w := make([][]float64, len(systems))
	for i, s := range systems {
		w[i] = make([]float64, len(s.Groups))
		if f.system != "" && !strings.EqualFold(f.system, s.Name) {
			continue
		}
		for j, g := range s.Groups {
			if f.group != "" && !strings.EqualFold(f.group, g) {
				continue
			}
			w[i][j] = float64(s.Users) / float64(total) / float64(len(s.Groups))
		}
	}
	return w
}

// solveLevel finds the shift μc for which stat (the expected mean score
// or top share of the answers in f) equals want.
func solveLevel(f surveyFilter, want float64, stat func(mu float64) float64) float64 {
	w := surveyWeights(f)
	lo, hi := -3.0, 7.0
	for range 60 {
		c := (lo + hi) / 2
		s, n := 0.0, 0.0
		for i, sys := range systems {
			for j := range sys.Groups {
				s += w[i][j] * stat(c+sys.Quality)
				n += w[i][j]
			}
		}
		if n == 0 {
			return 3
		}
		if s/n < want {
			lo = c
		} else {
			hi = c
		}
	}
	return (lo + hi) / 2
}

// systemTopMeans gives per-system means so that round(share × systems)
// systems, the best ones, have a mean score clearly at or above min and
// the rest clearly below it.
func systemTopMeans(share, min float64) []float64 {
	n := len(systems)
	k := int(math.Round(clamp(share, 0, 1) * float64(n)))
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	// Best quality first (stable for equal quality).
	for i := 1; i < n; i++ {
		for j := i; j > 0 && systems[order[j]].Quality > systems[order[j-1]].Quality; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	mus := make([]float64, n)
	for rank, i := range order {
		want := min - 0.6 - 0.06*float64(rank-k)
		if rank < k {
			want = min + 0.5 - 0.01*float64(rank)
		}
		mus[i] = invert(expectedScore, clamp(want, 1.2, 4.8))
	}
	return mus
}

// invert finds μ with f(μ) = y for an increasing f.
func invert(f func(float64) float64, y float64) float64 {
	lo, hi := -3.0, 9.0
	for range 60 {
		m := (lo + hi) / 2
		if f(m) < y {
			lo = m
		} else {
			hi = m
		}
	}
	return (lo + hi) / 2
}

// surveyYears lists the years whose October survey ran after from and
// has closed by now.
func surveyYears(from, now time.Time) []int {
	var ys []int
	for y := from.Year(); y <= now.Year(); y++ {
		opens := time.Date(y, 10, 1, 0, 0, 0, 0, strategy.Stockholm)
		if closes := opens.AddDate(0, 0, 23); !opens.Before(from) && !closes.After(now) {
			ys = append(ys, y)
		}
	}
	return ys
}

// writeSurveyFiles writes enkat-YYYY.csv per year into dir (UTF-8 without
// BOM, ',' between fields, CRLF, as a web survey tool exports it).
// The survey is called survey, or "Systemenkät <year>" when that is empty.
func (sm *surveyModel) writeSurveyFiles(dir string, from, now time.Time, survey string) ([]string, int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, err
	}
	var users []float64
	for _, s := range systems {
		users = append(users, float64(s.Users))
	}
	cumUsers := cumulative(users)
	var files []string
	total := 0
	for _, y := range surveyYears(from, now) {
		r := newRand(sm.seed, 's', uint64(y))
		t := unix(time.Date(y, 10, 10, 0, 0, 0, 0, strategy.Stockholm))
		level := sm.level(t)
		var mus []float64
		if sm.systemMeans != nil {
			mus = sm.systemMeans(t)
		}
		n := int(math.Round(sm.responses(t) * (1 + 0.06*r.NormFloat64())))
		if n < 20 {
			n = 20
		}
		name := survey
		if name == "" {
			name = fmt.Sprintf("Systemenkät %d", y)
		}
		var b strings.Builder
		b.WriteString(surveyHeader + "\r\n")
		first := daysFromCivil(y, 10, 1)
		for i := range n {
			si := pick(r, cumUsers)
			sys := systems[si]
			group := sys.Groups[r.IntN(len(sys.Groups))]
			mu := level + sys.Quality
			if mus != nil {
				mu = mus[si]
			}
			score := int(math.Round(mu + scoreSD*r.NormFloat64()))
			score = max(1, min(5, score))
			day := first + r.IntN(21)
			for weekday(day) == 0 || weekday(day) == 6 {
				day++
			}
			dy, dm, dd := civilFromDays(day)
			fmt.Fprintf(&b, "%s,R-%d-%05d,%s,%s,%d,", csvField(name), y, i+1, csvField(sys.Name), csvField(group), score)
			b.Write(appendDate(nil, dy, dm, dd))
			b.WriteString("\r\n")
		}
		file := filepath.Join(dir, "enkat-"+strconv.Itoa(y)+".csv")
		if err := writeFile(file, func(w io.Writer) error {
			_, err := io.WriteString(w, b.String())
			return err
		}); err != nil {
			return nil, 0, err
		}
		files = append(files, file)
		total += n
	}
	return files, total, nil
}
