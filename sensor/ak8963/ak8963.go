package ak8963

import (
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/i2c"

	"github.com/imustream/imustream/sensor"
)

// Opts configures a Dev. Zero fields take the defaults.
type Opts struct {
	// Bypass, when set, is the I²C address of the MPU-9250/9255 whose
	// bypass switch New and re-initialisations turn on first.
	Bypass uint16
	// MaxErrors is how many failed reads in a row make the next read
	// re-initialise the chip. It defaults to 10.
	MaxErrors int
	// ChipAxes keeps the AK8963's own axes instead of turning them into
	// the MPU's. It defaults to false.
	ChipAxes bool
}

// Errors.
var (
	// ErrWrongChip is wrapped by New's error when WIA is not the AK8963's.
	ErrWrongChip = errors.New("ak8963: not an AK8963")
	// ErrStale: the chip answers but has made no measurement for
	// sensor.MaxStaleReads reads (it lost its mode, usually to a power
	// glitch); the next read re-initialises it.
	ErrStale = errors.New("ak8963: no new measurement (chip reset?)")
)

// MPUAxes turns the AK8963's axes into the MPU-9250's (product
// specification 9.1): x = AK y, y = AK x, z = −AK z.
var MPUAxes = sensor.Axes{2, 1, -3}

// Dev is an AK8963. ReadMag is for one goroutine; Stats for any.
type Dev struct {
	bus   i2c.Bus
	opts  Opts
	scale [3]float64 // µT per LSB, sensitivity-adjusted
	asa   [3]byte
	axes  sensor.Axes
	rec   sensor.Recovery
	mag   sensor.MagReading
	// scratch takes the IMU status bits Recovery would set: a
	// magnetometer's faults are its own, not the IMU sample's.
	scratch sensor.Sample

	w   [2]byte
	reg [1]byte
	buf [burstLen]byte
}

var (
	_ sensor.Magnetometer = (*Dev)(nil)
	_ conn.Resource       = (*Dev)(nil)
)

// doSleep is replaced in tests.
var doSleep = time.Sleep

// New checks the chip at 0x0C, reads its fuse ROM and starts continuous
// measurement; nil opts means the defaults.
func New(bus i2c.Bus, opts *Opts) (*Dev, error) {
	d := &Dev{bus: bus, axes: MPUAxes}
	if opts != nil {
		d.opts = *opts
	}
	if d.opts.MaxErrors < 0 {
		return nil, fmt.Errorf("ak8963: MaxErrors %d is negative", d.opts.MaxErrors)
	}
	if d.opts.MaxErrors == 0 {
		d.opts.MaxErrors = 10
	}
	if d.opts.ChipAxes {
		d.axes = sensor.Axes{}
	}
	d.rec.MaxErrors = d.opts.MaxErrors
	if err := d.init(true); err != nil {
		return nil, err
	}
	return d, nil
}

// String returns "ak8963@0x0c".
func (d *Dev) String() string { return fmt.Sprintf("ak8963@%#02x", Addr) }

// ASA returns the sensitivity adjustment values read from the fuse ROM.
func (d *Dev) ASA() [3]byte { return d.asa }

// Stats returns the read counters.
func (d *Dev) Stats() sensor.Stats { return d.rec.Stats() }

// init configures the chip: bypass, ID, reset (with reset), fuse ROM,
// continuous mode. A re-initialisation skips the reset and the fuse ROM.
func (d *Dev) init(full bool) error {
	if d.opts.Bypass != 0 {
		// I²C master off, then the bypass switch on.
		if err := d.write(d.opts.Bypass, mpuUserCtrl, 0); err != nil {
			return fmt.Errorf("ak8963: MPU at %#02x: USER_CTRL: %w", d.opts.Bypass, err)
		}
		if err := d.write(d.opts.Bypass, mpuIntPinCfg, bypassEn); err != nil {
			return fmt.Errorf("ak8963: MPU at %#02x: INT_PIN_CFG bypass: %w", d.opts.Bypass, err)
		}
	}
	d.reg[0] = regWIA
	if err := d.bus.Tx(Addr, d.reg[:], d.buf[:1]); err != nil {
		return fmt.Errorf("ak8963: reading WIA at %#02x: %w (%w)", Addr, err, sensor.ErrNotFound)
	}
	if d.buf[0] != wia {
		return fmt.Errorf("%w: WIA 0x%02x at %#02x, expected 0x%02x", ErrWrongChip, d.buf[0], Addr, wia)
	}
	if full {
		if err := d.write(Addr, regCNTL2, cntl2RST); err != nil {
			return fmt.Errorf("ak8963: reset: %w", err)
		}
		doSleep(time.Millisecond)
		// Fuse ROM access mode to read ASA (datasheet 8.3.11), then power
		// down before changing mode again (datasheet 7.5: 100 µs).
		if err := d.write(Addr, regCNTL1, modeFuseROM); err != nil {
			return fmt.Errorf("ak8963: fuse ROM mode: %w", err)
		}
		d.reg[0] = regASAX
		if err := d.bus.Tx(Addr, d.reg[:], d.asa[:]); err != nil {
			return fmt.Errorf("ak8963: reading ASA: %w", err)
		}
		if err := d.write(Addr, regCNTL1, modePowerDown); err != nil {
			return fmt.Errorf("ak8963: power down: %w", err)
		}
		doSleep(time.Millisecond)
		for i, a := range d.asa {
			// Hadj = H × ((ASA − 128) × 0.5 / 128 + 1), datasheet 8.3.11.
			d.scale[i] = lsbUT * ((float64(a)-128)*0.5/128 + 1)
		}
	}
	if err := d.write(Addr, regCNTL1, cntl1Bit16|modeContinuous2); err != nil {
		return fmt.Errorf("ak8963: continuous mode: %w", err)
	}
	return nil
}

func (d *Dev) write(addr uint16, reg, val byte) error {
	d.w = [2]byte{reg, val}
	return d.bus.Tx(addr, d.w[:], nil)
}

// ReadMag implements sensor.Magnetometer with one 8-byte burst. Without
// new data (ST1 DRDY clear) it repeats the latest reading; with HOFL set
// in ST2 it flags sensor.StatusMagOverflow. A failed read clears the
// field's bits and is counted; after Opts.MaxErrors of them in a row the
// next read re-initialises the chip (and the MPU's bypass).
func (d *Dev) ReadMag(s *sensor.Sample) error {
	if d.rec.Due() {
		if err := d.init(false); err != nil {
			return d.fail(s, fmt.Errorf("%w (while re-initialising)", err))
		}
		d.rec.Reinitialised()
	}
	d.reg[0] = regST1
	if err := d.bus.Tx(Addr, d.reg[:], d.buf[:]); err != nil {
		return d.fail(s, fmt.Errorf("ak8963: read at %#02x: %w", Addr, err))
	}
	d.rec.Good(&d.scratch, false)
	b := &d.buf
	if b[0]&st1DRDY == 0 {
		if d.mag.NoData(s) {
			d.rec.Force()
			return d.fail(s, ErrStale)
		}
		return nil
	}
	var c [3]int16
	for i := range 3 {
		c[i] = int16(uint16(b[1+2*i]) | uint16(b[2+2*i])<<8) // little-endian (datasheet 8.3.4)
	}
	d.mag.SetCounts(s, c, d.scale, d.axes, b[7]&st2HOFL != 0)
	return nil
}

func (d *Dev) fail(s *sensor.Sample, err error) error {
	d.rec.Fail(&d.scratch, err)
	s.Status &^= sensor.StatusMag | sensor.StatusMagOverflow
	return err
}

// Halt powers the chip down.
func (d *Dev) Halt() error {
	if err := d.write(Addr, regCNTL1, modePowerDown); err != nil {
		return fmt.Errorf("ak8963: power down: %w", err)
	}
	return nil
}
