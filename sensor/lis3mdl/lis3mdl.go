package lis3mdl

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/i2c"

	"github.com/imustream/imustream/sensor"
)

// Range is the full scale, ± the value in gauss.
type Range int

// Ranges and their sensitivity (datasheet table 2, LSB/gauss).
const (
	Range4G  Range = 4  // 6842 LSB/gauss
	Range8G  Range = 8  // 3421
	Range12G Range = 12 // 2281
	Range16G Range = 16 // 1711
)

var ranges = []struct {
	r     Range
	lsbPG float64
}{{Range4G, 6842}, {Range8G, 3421}, {Range12G, 2281}, {Range16G, 1711}}

func (r Range) String() string { return "±" + strconv.Itoa(int(r)) + " gauss" }

// Opts configures a Dev. Zero fields take the value in DefaultOpts.
type Opts struct {
	// Range is the full scale. It defaults to ±4 gauss (±400 µT, ten
	// times the Earth's field).
	Range Range
}

// DefaultOpts are the defaults.
var DefaultOpts = Opts{Range: Range4G}

// ErrInvalidOpts is wrapped by every configuration error.
var ErrInvalidOpts = errors.New("lis3mdl: invalid options")

// WhoAmIError says that the device at Addr is not an LIS3MDL.
type WhoAmIError struct {
	Addr uint16
	Got  byte
}

func (e *WhoAmIError) Error() string {
	return fmt.Sprintf("lis3mdl: unexpected WHO_AM_I 0x%02x at %#02x; expected 0x3d (LIS3MDL)", e.Got, e.Addr)
}

// IsWhoAmI reports whether v is the LIS3MDL's WHO_AM_I.
func IsWhoAmI(v byte) bool { return v == whoAmI }

// Dev is an LIS3MDL on an I²C bus. ReadMag is for one goroutine.
type Dev struct {
	bus   i2c.Bus
	addr  uint16
	fs    byte
	scale float64 // µT per LSB
	w     [2]byte
	buf   [burstLen]byte
}

// resetDelay covers the soft reset; the datasheet gives none, drivers
// wait a few ms.
const resetDelay = 10 * time.Millisecond

// doSleep is replaced in tests.
var doSleep = time.Sleep

// New checks WHO_AM_I at addr (0x1C or 0x1E), resets the chip and starts
// it; nil opts means DefaultOpts.
func New(bus i2c.Bus, addr uint16, opts *Opts) (*Dev, error) {
	if addr != AddrLow && addr != AddrHigh {
		return nil, fmt.Errorf("%w: address %#02x; valid: 0x1c (SDO low), 0x1e (SDO high)", ErrInvalidOpts, addr)
	}
	o := DefaultOpts
	if opts != nil && opts.Range != 0 {
		o.Range = opts.Range
	}
	d := &Dev{bus: bus, addr: addr}
	var names []string
	for i, r := range ranges {
		names = append(names, strconv.Itoa(int(r.r)))
		if r.r == o.Range {
			d.fs, d.scale = byte(i), 100/r.lsbPG
		}
	}
	if d.scale == 0 {
		return nil, fmt.Errorf("%w: range %d gauss; valid: %s gauss", ErrInvalidOpts, int(o.Range), strings.Join(names, ", "))
	}
	if err := d.Init(true); err != nil {
		return nil, err
	}
	return d, nil
}

// String returns e.g. "lis3mdl@0x1e".
func (d *Dev) String() string { return fmt.Sprintf("lis3mdl@%#02x", d.addr) }

// Init checks WHO_AM_I and configures the chip, after a soft reset if
// reset is set; an IMU driver's re-initialisation calls it without.
func (d *Dev) Init(reset bool) error {
	d.w[0] = regWhoAmI
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:1]); err != nil {
		return fmt.Errorf("lis3mdl: reading WHO_AM_I at %#02x: %w (%w)", d.addr, err, sensor.ErrNotFound)
	}
	if d.buf[0] != whoAmI {
		return &WhoAmIError{Addr: d.addr, Got: d.buf[0]}
	}
	if reset {
		if err := d.writeReg(regCtrlReg2, ctrl2SoftRst); err != nil {
			return fmt.Errorf("lis3mdl: reset: %w", err)
		}
		doSleep(resetDelay)
	}
	for _, w := range [...]struct {
		reg, val byte
		name     string
	}{
		{regCtrlReg2, d.fs << 5, "CTRL_REG2"},
		{regCtrlReg1, ctrl1UHP155Hz, "CTRL_REG1"},
		{regCtrlReg4, ctrl4UHPZ, "CTRL_REG4"},
		{regCtrlReg5, ctrl5BDU, "CTRL_REG5"},
		{regCtrlReg3, ctrl3Cont, "CTRL_REG3"},
	} {
		if err := d.writeReg(w.reg, w.val); err != nil {
			return fmt.Errorf("lis3mdl: writing %s: %w", w.name, err)
		}
	}
	return nil
}

// ReadMag reads the field into s.Mag in one burst. A new reading sets
// StatusMag (and StatusMagOverflow with an axis at the limits); no new
// one since the last call clears StatusMag and leaves Mag. On error s is
// left alone.
func (d *Dev) ReadMag(s *sensor.Sample) error {
	d.w[0] = regStatus | autoInc
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:]); err != nil {
		return fmt.Errorf("lis3mdl: read at %#02x: %w", d.addr, err)
	}
	s.Status &^= sensor.StatusMag | sensor.StatusMagOverflow
	if d.buf[0]&statusZYXDA == 0 {
		return nil
	}
	over := false
	for i := range 3 {
		v := int16(uint16(d.buf[1+2*i]) | uint16(d.buf[2+2*i])<<8)
		over = over || v == math.MaxInt16 || v == math.MinInt16
		s.Mag[i] = float32(float64(v) * d.scale)
	}
	s.Status |= sensor.StatusMag
	if over {
		s.Status |= sensor.StatusMagOverflow
	}
	return nil
}

// Halt puts the chip in power-down (MD 11).
func (d *Dev) Halt() error {
	if err := d.writeReg(regCtrlReg3, 0b11); err != nil {
		return fmt.Errorf("lis3mdl: power down: %w", err)
	}
	return nil
}

func (d *Dev) writeReg(reg, val byte) error {
	d.w = [2]byte{reg, val}
	return d.bus.Tx(d.addr, d.w[:], nil)
}

var _ conn.Resource = (*Dev)(nil)
