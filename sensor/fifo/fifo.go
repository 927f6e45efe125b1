// Package fifo reconstructs when a sensor took the samples it queued in its
// FIFO, from the sensor's own sample clock.
//
// A chip read through its FIFO samples at its output data rate (ODR) on
// its own oscillator and the host collects whole samples in bursts, late
// by however long the host took to wake up. The samples carry no time, but
// each read says something exact: when the read started at host time t
// (CLOCK_MONOTONIC), the FIFO held N samples in all, so sample N−1 was
// taken at or before t and sample N after it. With the sample times on a
// line a + k·P (the sensor clock: evenly spaced, at a rate a few hundred
// ppm off the datasheet's), each read bounds the phase of that line.
//
// Clock estimates that line in two parts:
//
//   - Rate. Between an anchor read (t₀, N₀) and a later one (t, N),
//     t − t₀ = P·(N − N₀) + (φ − φ₀) with both phases φ in [0, P), so every
//     read bounds P within ±P/(N − N₀). The intersection of those bounds
//     narrows as samples accumulate (1 ppm after 10⁶ samples, whatever the
//     host's delays: a late read still counts the samples taken by then),
//     and the estimate is its middle. A second anchor started half way
//     takes over periodically, so a sensor clock that drifts with
//     temperature is followed.
//   - Phase. With P known, each read says u = t − (estimated time of sample
//     N−1) lies in [ε, ε + P) where ε is the estimate's error; the running
//     minimum and maximum of u bound ε from both sides, and the middle of
//     that bound is the correction. The bounds relax by what the rate's
//     uncertainty allows, so old reads fade as they become less exact. A
//     read delayed by the host moves u within the bound, not the bound, so
//     stalls do not pull the estimate.
//   - Slew. A correction is spread over the samples, at most MaxSlewNs per
//     sample, so the spacing of the reconstructed times stays within a few
//     µs of the sensor's own while the phase settles. Until the rate is
//     known to 0.1 % (a second or two) the limit is 20 times that: a chip
//     whose oscillator is a percent or two off its datasheet rate leaves
//     the first estimates far off in phase, which must catch up.
//
// A FIFO overflow loses an unknown number of samples: Reset starts the
// estimate again from the next read.
//
// The phase is as exact as the reads are spread over the sample period:
// reads that always land at the same point of it bound the phase from one
// side only, and the estimate stays in the middle of what they allow (half
// a period at most). Host jitter and the sensor clock's ppm error spread
// them (+50 ppm moves a 200 Hz read grid across a 1 kHz sample period in
// 20 s).
package fifo

import (
	"math"

	"github.com/imustream/imustream/sensor"
)

// Loop constants, chosen with the simulator (sensor/sim's FIFO mode) and
// the tests: at 1 kHz ODR read at 200 Hz, the reconstructed spacing stays
// within 1 µs of the truth; the phase error settles to tens of µs without
// host jitter and within half a period with it.
const (
	// MaxSlewNs bounds how much a phase correction changes one sample's
	// spacing.
	MaxSlewNs = 1000
	// kp is the fraction of the phase correction applied per read.
	kp = 0.05
	// maxRateErr bounds the period around the nominal one: an ODR off by
	// more than that is a different setting, not drift.
	maxRateErr = 0.05
	// startSlew multiplies MaxSlewNs until the rate is settled.
	startSlew = 20
	// settled is the rate bounds' half-width, relative, from which their
	// middle is the period.
	settled = 1e-3
	// rotate is how many samples an anchor serves before the second one,
	// started half way, takes over.
	rotate = 1 << 20
)

// anchor is one read the rate is measured from, and the bounds on the
// period that the reads since give.
type anchor struct {
	t      float64
	n      int64
	lo, hi float64
}

func (a *anchor) set(t float64, n int64, nominal float64) {
	*a = anchor{t: t, n: n, lo: nominal * (1 - maxRateErr), hi: nominal * (1 + maxRateErr)}
}

// update narrows the bounds with a read at t that counted n samples in
// all, p the period estimate; false when they no longer intersect (the
// clock changed, or the host's time jumped).
func (a *anchor) update(t float64, n int64, p float64) bool {
	dn := float64(n - a.n)
	if dn <= 0 {
		return true
	}
	a.lo = math.Max(a.lo, (t-a.t-p)/dn)
	a.hi = math.Min(a.hi, (t-a.t+p)/dn)
	return a.lo <= a.hi
}

// Clock estimates the sample times of one sensor's FIFO. Its methods are
// for one goroutine, the one that reads the sensor.
type Clock struct {
	nominal float64 // ns per sample, from the ODR
	period  float64 // estimate, ns per sample
	count   int64   // samples counted since the start
	a, b    anchor  // b starts when a has served rotate/2 samples
	known   bool    // the period was settled once: Reset keeps it
	newest  float64 // estimated CLOCK_MONOTONIC ns of the newest sample
	minU    float64
	maxU    float64
	started bool
	// The lines of the last reads that found samples, oldest first, for
	// At.
	segs [4]seg
	nseg int
}

// New returns a Clock for a sensor sampling at odrHz (> 0).
func New(odrHz float64) *Clock {
	p := 1e9 / odrHz
	return &Clock{nominal: p, period: p}
}

// PeriodNs is the estimated sample period in ns.
func (c *Clock) PeriodNs() float64 { return c.period }

// Reset forgets the phase, after an overflow lost an unknown number of
// samples or a re-initialisation restarted the chip. A period learned
// before stays until the new reads bound it again: the chip's clock is
// the same.
func (c *Clock) Reset() {
	c.started = false
	if !c.known {
		c.period = c.nominal
	}
}

// Update takes a read that started at monoNs and found n samples that
// were not in the FIFO at the last read, and returns the estimated time of
// the newest sample in the FIFO and the spacing: the sample j before it
// was taken at newest − j·step. With n = 0 it only refines the estimate.
func (c *Clock) Update(monoNs int64, n int) (newest, step float64) {
	t := float64(monoNs)
	c.count += int64(n)
	if !c.started {
		// The newest sample was taken some time in the period before the
		// read: guess the middle, with a bound of zero width that the next
		// reads widen.
		c.started = true
		if !c.known {
			c.period = c.nominal
		}
		c.a.set(t, c.count, c.nominal)
		c.b = anchor{}
		c.newest = t - c.period/2
		c.minU, c.maxU = c.period/2, c.period/2
		c.nseg = 0
		c.push(seg{end: c.count - 1, newest: c.newest, step: c.period})
		return c.newest, c.period
	}
	if !c.a.update(t, c.count, c.period) {
		c.a.set(t, c.count, c.nominal)
	}
	switch {
	case c.b.hi == 0 && c.count-c.a.n >= rotate/2:
		c.b.set(t, c.count, c.nominal)
	case c.b.hi != 0 && !c.b.update(t, c.count, c.period):
		c.b.set(t, c.count, c.nominal)
	}
	if c.count-c.a.n >= rotate && c.b.hi != 0 {
		c.a, c.b = c.b, anchor{}
	}
	// Until the bounds are within ±0.1 %, keep the period where it was
	// unless they exclude it: their middle jumps by up to a percent from
	// read to read early on, which would show in the spacing.
	half := (c.a.hi - c.a.lo) / 2
	p := math.Max(c.a.lo, math.Min(c.a.hi, c.period))
	if half <= c.nominal*settled {
		p = (c.a.lo + c.a.hi) / 2
		c.known = true
	}
	c.period = p

	prev := c.newest
	c.newest += float64(n) * p
	u := t - c.newest
	relax := half * float64(n)
	c.minU = math.Min(c.minU+relax, u)
	c.maxU = math.Max(c.maxU-relax, u)
	adj := kp * (c.minU + c.maxU - p) / 2
	if u < 0 {
		// The newest sample cannot be later than the read that found it.
		adj = math.Min(adj, u)
	}
	lim := MaxSlewNs * float64(max(n, 1))
	if !c.known {
		// Until the rate is known, the phase may be far off: catch up
		// faster than the spacing limit allows later.
		lim *= startSlew
	}
	adj = math.Max(-lim, math.Min(lim, adj))
	c.newest += adj
	c.minU -= adj
	c.maxU -= adj
	if n == 0 {
		return c.newest, p
	}
	step = (c.newest - prev) / float64(n)
	c.push(seg{end: c.count - 1, newest: c.newest, step: step})
	return c.newest, step
}

// seg is the line one read gave its new samples: the newest has index
// end (counted from the start) and time newest, the others step apart.
type seg struct {
	end          int64
	newest, step float64
}

// push records the segment of a read that found new samples.
func (c *Clock) push(sg seg) {
	if c.nseg == len(c.segs) {
		copy(c.segs[:], c.segs[1:])
		c.nseg--
	}
	c.segs[c.nseg] = sg
	c.nseg++
}

// At returns the estimated time of sample k (counted from the start, as
// Update counts them) on the line of the read that found it new: a sample
// left queued keeps the time that read gave it, and times stay in order
// across reads. Samples older than the last segments kept are extrapolated
// from the oldest.
func (c *Clock) At(k int64) float64 {
	for i := c.nseg - 1; i >= 0; i-- {
		if i == 0 || k > c.segs[i-1].end {
			sg := &c.segs[i]
			return sg.newest - float64(sg.end-k)*sg.step
		}
	}
	return c.newest
}

// Count is how many samples Update has counted since the start: the
// newest has index Count()−1.
func (c *Clock) Count() int64 { return c.count }

// Stamp sets the MonoNs and WallNs of dst, the oldest len(dst) of the
// queued samples in the FIFO, from c after its Update; wallOffset is
// CLOCK_REALTIME − CLOCK_MONOTONIC at the read.
func Stamp(dst []sensor.Sample, queued int, c *Clock, wallOffset int64) {
	first := c.count - int64(queued)
	for i := range dst {
		m := int64(math.Round(c.At(first + int64(i))))
		dst[i].MonoNs, dst[i].WallNs = m, m+wallOffset
	}
}
