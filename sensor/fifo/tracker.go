package fifo

import (
	"sync/atomic"

	"github.com/imustream/imustream/sensor"
)

// Tracker is the bookkeeping every FIFO driver shares around its Clock:
// how many samples the last read left in the chip, an overflow to flag on
// the next sample, and the overflow count. Methods other than Overflows
// are for the goroutine that reads the sensor.
type Tracker struct {
	clock     *Clock
	left      int
	over      bool
	overflows atomic.Uint64
}

// NewTracker returns a Tracker for a FIFO filled at odrHz.
func NewTracker(odrHz float64) *Tracker { return &Tracker{clock: New(odrHz)} }

// Overflowed records an overflow: the driver has reset the FIFO, so the
// estimate starts again and the next sample is flagged.
func (t *Tracker) Overflowed() {
	t.clock.Reset()
	t.left = 0
	t.over = true
	t.overflows.Add(1)
}

// Restart is for a re-initialised chip: its FIFO starts empty, on a clock
// whose phase is new.
func (t *Tracker) Restart() {
	t.clock.Reset()
	t.left = 0
}

// Overflows counts the overflows; safe from any goroutine.
func (t *Tracker) Overflows() uint64 { return t.overflows.Load() }

// Stamp times dst, the oldest len(dst) of the queued samples a read that
// started at monoNs (wallNs) found, and flags the first after an overflow.
// The driver has decoded them; the rest stay queued for the next read.
func (t *Tracker) Stamp(dst []sensor.Sample, monoNs, wallNs int64, queued int) {
	t.clock.Update(monoNs, max(queued-t.left, 0))
	Stamp(dst, queued, t.clock, wallNs-monoNs)
	t.left = queued - len(dst)
	if t.over && len(dst) > 0 {
		dst[0].Status |= sensor.StatusFIFOOverflow
		t.over = false
	}
}
