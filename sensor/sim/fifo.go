package sim

import (
	"math"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/fifo"
)

// DefaultFIFOSamples is the simulated FIFO's capacity when
// Opts.FIFOSamples is zero.
const DefaultFIFOSamples = 512

// fifoState is the simulated chip's sample clock and FIFO.
type fifoState struct {
	on      bool
	period  float64 // true sample period in ns (the ppm error applied)
	start   float64 // CLOCK_MONOTONIC ns of sample 0
	next    int64   // index of the oldest sample still in the FIFO
	seen    int64   // samples taken up to the last read
	size    int64
	over    bool // the next sample read follows an overflow
	lost    int64
	started bool
	clock   *fifo.Clock
}

func (d *Sim) initFIFO() {
	f := &d.fifo
	if d.opts.FIFORateHz <= 0 {
		return
	}
	f.on = true
	f.period = 1e9 / (d.opts.FIFORateHz * (1 + d.opts.ClockPPM*1e-6))
	f.size = int64(d.opts.FIFOSamples)
	if f.size <= 0 {
		f.size = DefaultFIFOSamples
	}
	f.clock = fifo.New(d.opts.FIFORateHz)
}

// FIFORateHz implements sensor.Batcher: Opts.FIFORateHz, 0 without the
// FIFO mode.
func (d *Sim) FIFORateHz() float64 {
	if !d.fifo.on {
		return 0
	}
	return d.opts.FIFORateHz
}

// SampleMonoNs is the true CLOCK_MONOTONIC time of FIFO sample k (counted
// from 0 at the chip's start, lost samples included), as the simulated
// chip took it: what the reconstructed timestamps are checked against.
func (d *Sim) SampleMonoNs(k int64) float64 { return d.fifo.start + float64(k)*d.fifo.period }

// FIFOLost counts the samples lost to overflows.
func (d *Sim) FIFOLost() int64 { return d.fifo.lost }

// NextSample is the index of the oldest sample still in the FIFO: the
// next one ReadBatch returns.
func (d *Sim) NextSample() int64 { return d.fifo.next }

// ReadBatch implements sensor.Batcher in the FIFO mode (Opts.FIFORateHz):
// the chip started sampling at the first read's time plus a phase drawn
// from the seed, one sample per period of its clock (ClockPPM off the
// nominal one, with no jitter), into a FIFO of FIFOSamples that drops
// its oldest samples when full. Each call returns the samples taken up to
// dst[0].MonoNs, timestamped by a fifo.Clock as a chip driver does. The
// faults of Opts and FailFor fail calls, which leave the samples queued.
func (d *Sim) ReadBatch(dst []sensor.Sample) (int, error) {
	f := &d.fifo
	if !f.on || len(dst) == 0 {
		return 0, nil
	}
	s0 := &dst[0]
	now, wall := s0.MonoNs, s0.WallNs
	if d.halted.Load() {
		s0.Status |= sensor.StatusSensorError
		return 0, ErrHalted
	}
	d.reads++
	if !f.started {
		f.started = true
		d.t0 = now
		// The chip's first sample falls somewhere in the period before.
		f.start = float64(now) - f.period*(0.05+0.9*math.Mod(float64(d.opts.Seed%1000)*0.618034, 1))
	}
	if err := d.fault(); err != nil {
		s0.Status |= sensor.StatusSensorError
		return 0, err
	}
	// Samples taken so far; a clock that went back takes none.
	taken := max(int64(math.Floor((float64(now)-f.start)/f.period))+1, f.seen, f.next)
	fresh := taken - max(f.seen, f.next)
	f.seen = taken
	if taken-f.next > f.size {
		// Full: the oldest are overwritten. The driver of a real chip
		// cannot tell how many, so the clock starts its phase again.
		f.lost += taken - f.next - f.size
		f.next = taken - f.size
		f.over = true
		f.clock.Reset()
	}
	queued := int(taken - f.next)
	n := min(queued, len(dst))
	f.clock.Update(now, int(fresh))
	fifo.Stamp(dst[:n], queued, f.clock, wall-now)
	for i := range n {
		s := &dst[i]
		r := d.model((d.SampleMonoNs(f.next+int64(i)) - float64(d.t0)) * 1e-9)
		s.Accel, s.Gyro, s.TempC = r.accel, r.gyro, r.temp
		s.Status = 0
		if r.sat {
			s.Status |= sensor.StatusSaturated
		}
	}
	if n > 0 && f.over {
		dst[0].Status |= sensor.StatusFIFOOverflow
		f.over = false
	}
	f.next += int64(n)
	return n, nil
}

var _ sensor.Batcher = (*Sim)(nil)
