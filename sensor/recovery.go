package sensor

import (
	"fmt"
	"math"
	"sync/atomic"
)

// Stats counts what a driver's Read did.
type Stats struct {
	Reads   uint64 // good reads
	Errors  uint64 // failed reads, each failed Read once
	Reinits uint64 // successful re-initialisations after MaxErrors failures
	// FIFOOverflows counts the overflows of a chip read through its FIFO.
	FIFOOverflows uint64
}

// Recovery is the fault bookkeeping every chip driver shares: it counts
// reads and errors, calls for a re-initialisation after MaxErrors failed
// reads in a row (a chip that browned out has lost its configuration), and
// flags the first good sample after one. Read-side methods are for the one
// goroutine that calls Read; Stats is safe from any.
type Recovery struct {
	MaxErrors int

	failures int
	reinited bool
	reads    atomic.Uint64
	errors   atomic.Uint64
	reinits  atomic.Uint64
}

// Due reports whether the driver must re-initialise the chip before reading.
func (r *Recovery) Due() bool { return r.failures >= r.MaxErrors }

// Force makes the next Read re-initialise, for a driver that can tell the
// chip lost its configuration.
func (r *Recovery) Force() { r.failures = max(r.failures, r.MaxErrors) }

// Reinitialised records a successful re-initialisation.
func (r *Recovery) Reinitialised() {
	r.failures = 0
	r.reinited = true
	r.reinits.Add(1)
}

// Fail records a failed read, flags s and returns err. The sample keeps
// its previous values.
func (r *Recovery) Fail(s *Sample, err error) error {
	r.failures++
	r.errors.Add(1)
	s.Status = s.Status&^StatusReinit | StatusSensorError
	return err
}

// Good records a good read and sets s's sensor bits; timing bits stay.
func (r *Recovery) Good(s *Sample, saturated bool) {
	r.failures = 0
	r.reads.Add(1)
	s.Status &^= StatusSensorError | StatusSaturated | StatusReinit
	if saturated {
		s.Status |= StatusSaturated
	}
	if r.reinited {
		s.Status |= StatusReinit
		r.reinited = false
	}
}

// GoodCounts is Good for a chip whose axes are 16-bit counts: it sets Accel
// and Gyro to the counts times the scales (SI unit per LSB) and flags
// saturation when an axis is at the int16 limits, where the ADC clips.
func (r *Recovery) GoodCounts(s *Sample, accel, gyro [3]int16, accelScale, gyroScale float64) {
	sat := false
	for i := range 3 {
		sat = sat || fullScale(accel[i]) || fullScale(gyro[i])
		s.Accel[i] = float32(float64(accel[i]) * accelScale)
		s.Gyro[i] = float32(float64(gyro[i]) * gyroScale)
	}
	r.Good(s, sat)
}

func fullScale(v int16) bool { return v == math.MaxInt16 || v == math.MinInt16 }

// Stats returns the counters.
func (r *Recovery) Stats() Stats {
	return Stats{Reads: r.reads.Load(), Errors: r.errors.Load(), Reinits: r.reinits.Load()}
}

// Bus is the method of periph's i2c.Bus that Burst uses, declared here so
// that package sensor, which the simulator uses too, needs no periph.
type Bus interface {
	Tx(addr uint16, w, r []byte) error
}

// Burst is the start of every chip driver's Read: re-initialise the chip
// when Recovery says so, then read the sample's registers in one bus
// transaction. The driver fills it in once, in New.
type Burst struct {
	Recovery
	Name string // the driver's package: its errors start with it
	Bus  Bus
	Addr uint16
	// Reg is the first register of the burst. An array, so that Read hands
	// the bus no new slice: that would escape and be allocated.
	Reg [1]byte
	// Reinit restores the chip's configuration, quickly: it runs on the
	// hot path.
	Reinit func() error
}

// Read runs Reinit when it is due, then reads buf from Reg on. A failure
// of either is counted and flags s (see Recovery.Fail), and its error says
// which of the two failed. After a good read the driver decodes buf and
// calls Good or GoodCounts.
func (b *Burst) Read(s *Sample, buf []byte) error {
	if b.Due() {
		if err := b.Reinit(); err != nil {
			return b.Fail(s, fmt.Errorf("%w (while re-initialising)", err))
		}
		b.Reinitialised()
	}
	if err := b.Bus.Tx(b.Addr, b.Reg[:], buf); err != nil {
		return b.Fail(s, fmt.Errorf("%s: read at %#02x: %w", b.Name, b.Addr, err))
	}
	return nil
}
