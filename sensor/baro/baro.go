package baro

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/bmxx80"
)

// Addresses the chips answer at: BMP280/BME280 with SDO low, and BMP180
// or BMP280/BME280 with SDO high.
const (
	AddrLow  = 0x76
	AddrHigh = 0x77
)

// Opts configures a Dev. Zero fields take the value in DefaultOpts.
type Opts struct {
	// RateHz is how often the goroutine reads the pressure, 1 to 25: a
	// conversion at the default oversampling takes about 18 ms. It defaults
	// to 20.
	RateHz int
	// MaxAge is how old the latest good reading may be and still be valid.
	// It defaults to five periods, so a single failed read does not flap
	// the channel but a barometer gone for a quarter second does.
	MaxAge time.Duration
	// Sense is the chip's oversampling. It defaults to bmxx80.DefaultOpts
	// (4× pressure and temperature, RMS noise about 3 Pa).
	Sense *bmxx80.Opts
}

// DefaultOpts are the defaults; MaxAge zero means five periods.
var DefaultOpts = Opts{RateHz: 20}

// MaxRateHz is the fastest RateHz accepted.
const MaxRateHz = 25

// ErrInvalidOpts is wrapped by every configuration error.
var ErrInvalidOpts = errors.New("baro: invalid options")

// Stats counts the goroutine's reads.
type Stats struct {
	Reads  uint64 // good reads
	Errors uint64 // failed reads
}

// reading is one good pressure, never modified once published.
type reading struct {
	pa float32
	at time.Time // monotonic
}

// Dev is a barometer read in the background. Pressure may be called from
// any goroutine; Halt once.
type Dev struct {
	dev    *bmxx80.Dev
	name   string
	period time.Duration
	maxAge time.Duration

	latest atomic.Pointer[reading]
	reads  atomic.Uint64
	errs   atomic.Uint64
	lastMu sync.Mutex
	last   error // the latest read error, for LastError

	stop     chan struct{}
	done     chan struct{}
	haltOnce sync.Once
	haltErr  error
}

var _ conn.Resource = (*Dev)(nil)

// New opens the barometer at addr (0x76 or 0x77) with periph's bmxx80
// driver, which identifies the chip (chip id register 0xD0) and reads its
// calibration, and starts reading it every 1/RateHz s. Call Halt to stop.
func New(bus i2c.Bus, addr uint16, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
		if o.RateHz == 0 {
			o.RateHz = DefaultOpts.RateHz
		}
	}
	if o.RateHz < 1 || o.RateHz > MaxRateHz {
		return nil, fmt.Errorf("%w: rate %d Hz; valid: 1 to %d Hz", ErrInvalidOpts, o.RateHz, MaxRateHz)
	}
	period := time.Second / time.Duration(o.RateHz)
	if o.MaxAge == 0 {
		o.MaxAge = 5 * period
	}
	if o.MaxAge < period {
		return nil, fmt.Errorf("%w: MaxAge %s is shorter than the %s period", ErrInvalidOpts, o.MaxAge, period)
	}
	if addr != AddrLow && addr != AddrHigh {
		return nil, fmt.Errorf("%w: address %#02x; valid: 0x76, 0x77", ErrInvalidOpts, addr)
	}
	sense := o.Sense
	if sense == nil {
		sense = &bmxx80.DefaultOpts
	}
	b, err := bmxx80.NewI2C(bus, addr, sense)
	if err != nil {
		return nil, fmt.Errorf("baro: opening the barometer at %#02x: %w", addr, err)
	}
	// bmxx80 names the chip in String as "BMP280{…}"; keep the chip.
	chip, _, _ := strings.Cut(b.String(), "{")
	d := &Dev{
		dev:    b,
		name:   fmt.Sprintf("%s@%#02x", strings.ToLower(chip), addr),
		period: period,
		maxAge: o.MaxAge,
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go d.run()
	return d, nil
}

// String returns the chip and address, e.g. "bmp280@0x76".
func (d *Dev) String() string { return d.name }

// Period returns the time between reads.
func (d *Dev) Period() time.Duration { return d.period }

// Pressure returns the latest pressure in Pa, and whether it is fresh: read
// successfully within MaxAge. It does not allocate or touch the bus.
func (d *Dev) Pressure() (pa float32, ok bool) {
	r := d.latest.Load()
	if r == nil || time.Since(r.at) > d.maxAge {
		return 0, false
	}
	return r.pa, true
}

// Stats returns the counters; safe from any goroutine.
func (d *Dev) Stats() Stats { return Stats{Reads: d.reads.Load(), Errors: d.errs.Load()} }

// LastError returns the error of the latest failed read, or nil.
func (d *Dev) LastError() error {
	d.lastMu.Lock()
	defer d.lastMu.Unlock()
	return d.last
}

// Halt stops the goroutine, waits for it and halts the chip. Pressure
// reports nothing valid afterwards.
func (d *Dev) Halt() error {
	d.haltOnce.Do(func() {
		close(d.stop)
		<-d.done
		d.latest.Store(nil)
		if err := d.dev.Halt(); err != nil {
			d.haltErr = fmt.Errorf("baro: %w", err)
		}
	})
	return d.haltErr
}

// run reads at once and then every period until Halt. A failed read is
// counted and the next one tried: bmxx80 sets the measurement mode on every
// Sense, so a chip that lost power recovers by itself.
func (d *Dev) run() {
	defer close(d.done)
	t := time.NewTicker(d.period)
	defer t.Stop()
	for {
		var e physic.Env
		if err := d.dev.Sense(&e); err != nil {
			d.errs.Add(1)
			d.lastMu.Lock()
			d.last = fmt.Errorf("baro: %s: %w", d.name, err)
			d.lastMu.Unlock()
		} else {
			d.reads.Add(1)
			d.latest.Store(&reading{pa: float32(float64(e.Pressure) / float64(physic.Pascal)), at: time.Now()})
		}
		select {
		case <-d.stop:
			return
		case <-t.C:
		}
	}
}
