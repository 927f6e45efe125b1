package sim

import (
	"math"
	"slices"
	"testing"

	"github.com/imustream/imustream/sensor"
)

// fifoRun reads a FIFO-mode sim every tick ns for dur ns (simulated time,
// no sleeping), with stall(i) ns added to the i-th read, and returns every
// sample's reconstructed and true time.
type fifoRun struct {
	recon, truth []float64
	flags        sensor.Status
}

func runFIFO(t *testing.T, d *Sim, tick, dur int64, stall func(i int) int64) fifoRun {
	t.Helper()
	var r fifoRun
	buf := make([]sensor.Sample, 64)
	const origin = int64(1e12) // CLOCK_MONOTONIC of a machine up for a while
	last := int64(0)
	for i := 0; int64(i)*tick < dur; i++ {
		now := origin + int64(i)*tick
		if stall != nil {
			now += stall(i)
		}
		if now <= last {
			continue // a tick the stall skipped, as the sender does
		}
		last = now
		buf[0].MonoNs, buf[0].WallNs = now, now+1_700_000_000e9
		k := d.NextSample()
		n, err := d.ReadBatch(buf)
		if err != nil {
			t.Fatal(err)
		}
		for j := range n {
			if buf[j].WallNs-buf[j].MonoNs != 1_700_000_000e9 {
				t.Fatalf("sample %d: wall − mono %d, want the read's", k+int64(j), buf[j].WallNs-buf[j].MonoNs)
			}
			r.recon = append(r.recon, float64(buf[j].MonoNs))
			r.truth = append(r.truth, d.SampleMonoNs(k+int64(j)))
			r.flags |= buf[j].Status
		}
	}
	return r
}

func p99abs(xs []float64) float64 {
	a := make([]float64, len(xs))
	for i, x := range xs {
		a[i] = math.Abs(x)
	}
	slices.Sort(a)
	return a[int(math.Ceil(0.99*float64(len(a))))-1]
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// The acceptance figure of the FIFO mode: 1 kHz ODR read at 200 Hz with a
// sensor clock 50 ppm fast, 10 minutes of simulated time.
func TestFIFOTimestamps10Minutes(t *testing.T) {
	const odr, ppm = 1000.0, 50.0
	d := New(Opts{Seed: 3, FIFORateHz: odr, ClockPPM: ppm})
	r := runFIFO(t, d, 5e6, 600e9, nil)
	want := int(600 * odr * (1 + ppm*1e-6))
	if len(r.recon) < want-6 || len(r.recon) > want+1 || d.FIFOLost() != 0 || r.flags&sensor.StatusFIFOOverflow != 0 {
		t.Fatalf("%d samples, %d lost, flags %#x; want about %d, none lost", len(r.recon), d.FIFOLost(), r.flags, want)
	}
	spacing := make([]float64, 0, len(r.recon))
	offset := make([]float64, len(r.recon))
	for i := range r.recon {
		offset[i] = r.recon[i] - r.truth[i]
		if i > 0 {
			spacing = append(spacing, (r.recon[i]-r.recon[i-1])-(r.truth[i]-r.truth[i-1]))
		}
	}
	sp := p99abs(spacing)
	perMin := int(odr * 60)
	m5, m10 := mean(offset[4*perMin:5*perMin]), mean(offset[len(offset)-perMin:])
	worst := p99abs(offset[perMin:])
	t.Logf("spacing error p99 %.3f µs; offset mean minute 5 %.1f µs, minute 10 %.1f µs; |offset| p99 after minute 1 %.1f µs; period %.4f ns (true %.4f)",
		sp/1e3, m5/1e3, m10/1e3, worst/1e3, d.fifo.clock.PeriodNs(), d.fifo.period)
	if sp > 5e3 {
		t.Errorf("reconstructed spacing error p99 %.2f µs, want ≤ 5 µs", sp/1e3)
	}
	// No drift: 50 ppm left uncorrected is 15 ms in 5 minutes; the
	// offset in minute 10 must be where it was in minute 5, and small all
	// along.
	if math.Abs(m10-m5) > 20e3 {
		t.Errorf("offset drifted from %.1f µs (minute 5) to %.1f µs (minute 10)", m5/1e3, m10/1e3)
	}
	if worst > 100e3 {
		t.Errorf("|offset| p99 after the first minute %.1f µs, want ≤ 100 µs (a tenth of the period)", worst/1e3)
	}
}

// A 20 ms host stall: the FIFO holds the samples, none is lost or
// flagged, and the timestamps keep their spacing across it.
func TestFIFOStall(t *testing.T) {
	d := New(Opts{Seed: 9, FIFORateHz: 1000, ClockPPM: 50})
	const stallAt = 4000 // reads: 20 s in
	r := runFIFO(t, d, 5e6, 30e9, func(i int) int64 {
		if i == stallAt {
			return 20e6
		}
		return 0
	})
	if d.FIFOLost() != 0 || r.flags != 0 {
		t.Fatalf("%d samples lost, flags %#x; want none and no flag", d.FIFOLost(), r.flags)
	}
	for i := 1; i < len(r.recon); i++ {
		if want := r.truth[i] - r.truth[i-1]; r.recon[i] <= r.recon[i-1] || math.Abs(r.recon[i]-r.recon[i-1]-want) > 5e3 {
			t.Fatalf("sample %d: spacing %.0f ns, true %.0f ns", i, r.recon[i]-r.recon[i-1], want)
		}
		if r.truth[i]-r.truth[i-1] > 1.5e6 {
			t.Fatalf("sample %d: a gap in the sim's own samples", i)
		}
	}
}

// A FIFO too small for the stall overflows: the first sample after it is
// flagged, the loss is counted, and the timestamps start again.
func TestFIFOOverflow(t *testing.T) {
	d := New(Opts{Seed: 1, FIFORateHz: 1000, FIFOSamples: 16})
	r := runFIFO(t, d, 5e6, 2e9, func(i int) int64 {
		if i == 100 {
			return 40e6
		}
		return 0
	})
	if lost := d.FIFOLost(); lost < 20 || lost > 30 {
		t.Errorf("lost %d samples, want 45 − 16 − 5 ± a few", lost)
	}
	if r.flags&sensor.StatusFIFOOverflow == 0 {
		t.Error("no sample flagged StatusFIFOOverflow")
	}
	for i := 1; i < len(r.recon); i++ {
		if r.recon[i] <= r.recon[i-1] {
			t.Fatalf("sample %d: time %v not after %v", i, r.recon[i], r.recon[i-1])
		}
	}
}

func TestFIFOReadAllocs(t *testing.T) {
	d := New(Opts{FIFORateHz: 1000})
	buf := make([]sensor.Sample, 32)
	now := int64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		now += 5e6
		buf[0].MonoNs = now
		if _, err := d.ReadBatch(buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReadBatch allocates %v times per call", allocs)
	}
}

func BenchmarkReadBatch(b *testing.B) {
	d := New(Opts{FIFORateHz: 1000})
	buf := make([]sensor.Sample, 32)
	b.ReportAllocs()
	now := int64(0)
	for b.Loop() {
		now += 5e6
		buf[0].MonoNs = now
		if _, err := d.ReadBatch(buf); err != nil {
			b.Fatal(err)
		}
	}
}
