package fifo

import (
	"fmt"

	"github.com/imustream/imustream/sensor"
)

// Chip is the chip-specific part of a FIFO read: registers, the reset
// sequence and the frame layout. Errors it returns carry the driver's
// prefix; ReadBatch counts them.
type Chip interface {
	// Reinit restores the chip's configuration after faults, its FIFO
	// restarted (Tracker.Restart).
	Reinit() error
	// Status reads how much the FIFO holds, in the chip's unit (bytes,
	// words), and whether it overflowed.
	Status() (count int, overflow bool, err error)
	// Reset empties the FIFO after an overflow and starts it again.
	Reset() error
	// Drain reads at most len(dst) whole samples of count in one burst
	// and decodes them into dst (Recovery.GoodCounts for each). It
	// returns how many it decoded and how many whole samples count held.
	Drain(dst []sensor.Sample, count int) (n, queued int, err error)
}

// ReadBatch is the sequence every FIFO driver's sensor.Batcher shares:
// re-initialise the chip when r says so, read the FIFO's status, reset it
// on an overflow (counted, the next sample flagged), else drain the whole
// samples in one burst and time them from the sensor clock. dst[0]'s
// MonoNs and WallNs are the read's start. A failed step is counted by r,
// flags dst[0] and returns its error; the FIFO's samples stay queued.
func (t *Tracker) ReadBatch(dst []sensor.Sample, r *sensor.Recovery, c Chip) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	s0 := &dst[0]
	now, wall := s0.MonoNs, s0.WallNs
	if r.Due() {
		if err := c.Reinit(); err != nil {
			return 0, r.Fail(s0, fmt.Errorf("%w (while re-initialising)", err))
		}
		r.Reinitialised()
	}
	count, over, err := c.Status()
	if err != nil {
		return 0, r.Fail(s0, err)
	}
	if over {
		if err := c.Reset(); err != nil {
			return 0, r.Fail(s0, err)
		}
		t.Overflowed()
		return 0, nil
	}
	n, queued, err := c.Drain(dst, count)
	if err != nil {
		return 0, r.Fail(s0, err)
	}
	t.Stamp(dst[:n], now, wall, queued)
	return n, nil
}
