package fifo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/imustream/imustream/sensor"
)

// chip is a sensor clock: sample k taken at start + k·period.
type chip struct {
	start, period float64
	seen          int64
}

// read returns how many samples are new at host time t.
func (c *chip) read(t float64) int {
	taken := int64(math.Floor((t-c.start)/c.period)) + 1
	n := taken - c.seen
	c.seen = taken
	return int(n)
}

func (c *chip) at(k int64) float64 { return c.start + float64(k)*c.period }

type result struct {
	spacingP99, spacingMax, offsetP99, offsetMax float64
}

// run reads a chip at odr (ppm off) every tick ns plus jitter(i) for dur
// ns and compares the reconstructed times with the truth after settle ns.
func run(t *testing.T, odr, ppm float64, tick int64, dur, settle float64, jitter func(i int) float64) result {
	t.Helper()
	c := &chip{start: 1e12 - 123456, period: 1e9 / (odr * (1 + ppm*1e-6))}
	clk := New(odr)
	var spacing, offset []float64
	var prev float64
	k := int64(0)
	last := 0.0
	for i := 0; float64(int64(i)*tick) < dur; i++ {
		now := 1e12 + float64(int64(i)*tick) + jitter(i)
		if now <= last {
			continue
		}
		last = now
		n := c.read(now)
		newest, step := clk.Update(int64(now), n)
		for j := range n {
			got := newest - float64(n-1-j)*step
			if k > 0 && now-1e12 > settle {
				spacing = append(spacing, math.Abs(got-prev-c.period))
				offset = append(offset, math.Abs(got-c.at(k)))
			}
			prev = got
			k++
		}
	}
	p99 := func(xs []float64) float64 {
		slices.Sort(xs)
		return xs[int(math.Ceil(0.99*float64(len(xs))))-1]
	}
	r := result{spacingP99: p99(spacing), spacingMax: slices.Max(spacing), offsetP99: p99(offset), offsetMax: slices.Max(offset)}
	t.Logf("ODR %g Hz %+g ppm: spacing error p99 %.2f µs, max %.2f µs; |offset| p99 %.1f µs, max %.1f µs; period %.3f ns (true %.3f)",
		odr, ppm, r.spacingP99/1e3, r.spacingMax/1e3, r.offsetP99/1e3, r.offsetMax/1e3, clk.PeriodNs(), c.period)
	return r
}

// Host jitter (up to 300 µs, as a loaded Pi wakes) and clock errors of
// either sign: the spacing follows the sensor's, the phase settles.
func TestJitteredReads(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ odr, ppm float64 }{{1000, 50}, {1000, -300}, {833, 2000}, {1125, -15000}, {6666, 100}} {
		r := run(t, tc.odr, tc.ppm, 5e6, 120e9, 30e9, func(int) float64 { return 300e3 * rng.Float64() })
		if r.spacingP99 > 5e3 {
			t.Errorf("ODR %g %+g ppm: spacing error p99 %.2f µs, want ≤ 5", tc.odr, tc.ppm, r.spacingP99/1e3)
		}
		// The documented bound: the middle of what the reads allow, within
		// half a period.
		if p := 1e9 / tc.odr; r.offsetMax > p/2 {
			t.Errorf("ODR %g %+g ppm: |offset| max %.1f µs after 30 s, want ≤ half the period", tc.odr, tc.ppm, r.offsetMax/1e3)
		}
	}
}

// Stalls of up to 30 ms every few seconds do not pull the estimate.
func TestStalls(t *testing.T) {
	r := run(t, 1000, 50, 5e6, 120e9, 30e9, func(i int) float64 {
		if i%777 == 0 {
			return 30e6
		}
		return 0
	})
	if r.spacingP99 > 5e3 || r.offsetMax > 0.5e6 {
		t.Errorf("spacing p99 %.2f µs, |offset| max %.1f µs", r.spacingP99/1e3, r.offsetMax/1e3)
	}
}

// The first read places the newest sample half a period back; reads that
// find nothing only refine the estimate; a read earlier than the estimate of the
// newest sample pulls it back, at the slew limit.
func TestUpdateEdges(t *testing.T) {
	c := New(1000)
	if nw, step := c.Update(10e6, 3); nw != 10e6-0.5e6 || step != 1e6 {
		t.Fatalf("first: %v %v", nw, step)
	}
	nw, _ := c.Update(10e6+100e3, 0)
	if math.Abs(nw-(10e6-0.5e6)) > 5e3 {
		t.Errorf("an empty read moved the newest sample to %v; want a small refinement", nw)
	}
	nw, _ = c.Update(10e6+1.2e6, 1) // predicted 10.5 ms, read at 11.2 ms: fine
	if nw > 11.2e6 {
		t.Errorf("newest %v after the read at 11.2 ms", nw)
	}
	before := nw
	nw, step := c.Update(11.3e6, 1) // predicted about 1 ms on: later than the read
	// Early on the rate is not known yet, so the start-up slew applies.
	if step > 1e6-MaxSlewNs+1 || step < 1e6-startSlew*MaxSlewNs-1 || nw >= before+1e6 {
		t.Errorf("newest %v (step %v) after a read at 11.3 ms; want it pulled back within the start-up slew limit", nw, step)
	}
	c.Reset()
	if nw, _ := c.Update(50e6, 2); nw != 50e6-0.5e6 || c.PeriodNs() != 1e6 {
		t.Errorf("after Reset: %v, period %v", nw, c.PeriodNs())
	}
}

// A period far off the nominal one is held within ±5 %.
func TestPeriodBounded(t *testing.T) {
	c := New(1000)
	now := int64(0)
	for range 1000 {
		now += 5e6
		c.Update(now, 10) // twice the rate the ODR says
	}
	if p := c.PeriodNs(); p < 0.95e6-1 || p > 1.05e6+1 {
		t.Errorf("period %v ns, want within ±5 %% of 1 ms", p)
	}
}

func TestTracker(t *testing.T) {
	tr := NewTracker(1000)
	dst := make([]sensor.Sample, 4)
	tr.Stamp(dst[:2], 10e6, 10e6+7, 5) // 5 queued, 2 read
	if dst[1].MonoNs-dst[0].MonoNs != 1e6 || dst[0].WallNs-dst[0].MonoNs != 7 {
		t.Errorf("stamps %d %d", dst[0].MonoNs, dst[1].MonoNs)
	}
	first := dst[1].MonoNs
	tr.Overflowed()
	tr.Stamp(dst[:1], 20e6, 20e6, 1)
	if dst[0].Status != sensor.StatusFIFOOverflow || tr.Overflows() != 1 {
		t.Errorf("after overflow: %#x, %d", dst[0].Status, tr.Overflows())
	}
	dst[0].Status = 0
	tr.Stamp(dst[:1], 21e6, 21e6, 1)
	if dst[0].Status != 0 || dst[0].MonoNs <= first {
		t.Errorf("second after overflow: %#x at %d", dst[0].Status, dst[0].MonoNs)
	}
}

func BenchmarkUpdate(b *testing.B) {
	c := New(1000)
	now := int64(0)
	b.ReportAllocs()
	for b.Loop() {
		now += 5e6
		c.Update(now, 5)
	}
}

// A chip 1.5 % off its datasheet rate: once the rate is known (2 s in),
// no step between two samples is off by more than 5 µs and the phase has
// caught up. (Before, the phase may slew by startSlew µs per sample.)
func TestStartupSpacing(t *testing.T) {
	for _, ppm := range []float64{-15000, 15000, 50} {
		r := run(t, 1125, ppm, 5e6, 20e9, 2e9, func(int) float64 { return 0 })
		if r.spacingMax > 5e3 {
			t.Errorf("%+g ppm: spacing error max %.2f µs from the start, want ≤ 5", ppm, r.spacingMax/1e3)
		}
	}
}

// After an overflow the phase starts again but the learned rate stays:
// the first samples after it are spaced by the chip's period, not the
// datasheet's.
func TestResetKeepsRate(t *testing.T) {
	c := &chip{start: 0, period: 1e9 / (1125 * 1.015)}
	clk := New(1125)
	now := 0.0
	for range 2000 { // 10 s
		now += 5e6
		clk.Update(int64(now), c.read(now))
	}
	learned := clk.PeriodNs()
	if math.Abs(learned-c.period) > 1e-4*c.period { // 100 ppm: the bounds after 10 s
		t.Fatalf("learned %v ns, true %v", learned, c.period)
	}
	clk.Reset()
	now += 40e6
	c.read(now) // what the overflow lost
	now += 5e6
	clk.Update(int64(now), c.read(now))
	now += 5e6
	n := c.read(now)
	_, step := clk.Update(int64(now), n)
	if math.Abs(step-learned) > MaxSlewNs+1 {
		t.Errorf("step after the reset %v ns, want the learned %v within the slew limit (the datasheet's is %v)", step, learned, 1e9/1125.0)
	}
}
