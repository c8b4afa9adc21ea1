package demo

import (
	"math"
	"math/rand/v2"
)

// Randomness: every stream is a PCG seeded from the demo seed and a key
// (an indicator id, a month, a service), so each part of the data is
// reproducible on its own and does not depend on the order in which other
// parts were generated.

// mix is SplitMix64's finaliser: a bijective scrambling of x.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hashString is FNV-1a over s.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// key combines a seed and parts into one well-mixed 64-bit key.
func key(seed int64, parts ...uint64) uint64 {
	h := mix(uint64(seed))
	for _, p := range parts {
		h = mix(h ^ p)
	}
	return h
}

// newRand returns a PCG-backed generator for the stream named by parts.
func newRand(seed int64, parts ...uint64) *rand.Rand {
	k := key(seed, parts...)
	return rand.New(rand.NewPCG(k, mix(k^0x5851f42d4c957f2d)))
}

// unit maps a key to a float in [0, 1).
func unit(k uint64) float64 { return float64(k>>11) / (1 << 53) }

// normal maps a key to a standard normal value (Box–Muller on two derived
// uniforms), for stateless per-sample noise.
func normal(k uint64) float64 {
	u1 := unit(mix(k ^ 0x1234567))
	u2 := unit(mix(k ^ 0x7654321))
	if u1 < 1e-300 {
		u1 = 1e-300
	}
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// pick returns an index drawn from the cumulative weights cum (the last
// element is the total).
func pick(r *rand.Rand, cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// cumulative returns the running sums of w.
func cumulative(w []float64) []float64 {
	c := make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		c[i] = s
	}
	return c
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }
