package lsm9ds1

import (
	"errors"
	"fmt"
	"math"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/i2c"

	"github.com/imustream/imustream/sensor"
)

// WhoAmIError says that the device at Addr is not an LSM9DS1
// accelerometer/gyroscope.
type WhoAmIError struct {
	Addr uint16
	Got  byte // the WHO_AM_I value read
}

func (e *WhoAmIError) Error() string {
	return fmt.Sprintf("lsm9ds1: unexpected WHO_AM_I 0x%02x at %#02x; expected %s", e.Got, e.Addr, Expected())
}

// Expected describes the WHO_AM_I value the driver accepts, for messages.
func Expected() string { return "0x68 (LSM9DS1 accelerometer/gyroscope)" }

// IsWhoAmI reports whether v is the LSM9DS1's WHO_AM_I.
func IsWhoAmI(v byte) bool { return v == whoAmIAG }

// ErrConfigLost is wrapped by the error of a read that found the control
// registers at other values than the driver wrote: the chip was reset,
// usually by a power glitch, and sits in power-down. The next Read
// re-initialises it.
var ErrConfigLost = errors.New("lsm9ds1: chip lost its configuration (power glitch?)")

// Stats counts what happened on the hot path.
type Stats = sensor.Stats

// Dev is the accelerometer/gyroscope of an LSM9DS1 on an I²C bus.
//
// Read is meant for one goroutine; Stats may be called from any. Halt must
// not run concurrently with Read.
type Dev struct {
	bus  i2c.Bus
	addr uint16
	set  settings

	accelScale, gyroScale float64 // SI unit per LSB
	ctrl6XL, ctrl8        byte    // as written, checked on every read

	burst sensor.Burst

	// Fixed buffers: a slice handed to an interface method escapes, so Read
	// must not build a new one.
	w   [2]byte
	buf [burstLen]byte
}

// New checks WHO_AM_I at addr (0x6A or 0x6B), resets the chip and
// configures it as opts says; nil opts means DefaultOpts.
//
// If nothing answers, the error wraps sensor.ErrNotFound and the bus error;
// if something else answers, it is a *WhoAmIError; invalid opts wrap
// ErrInvalidOpts.
func New(bus i2c.Bus, addr uint16, opts *Opts) (*Dev, error) {
	if addr != AddrLow && addr != AddrHigh {
		return nil, fmt.Errorf("%w: address %#02x; valid: 0x6a (SDO_A/G low, Sense HAT), 0x6b (SDO_A/G high)", ErrInvalidOpts, addr)
	}
	s, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	d := &Dev{
		bus:        bus,
		addr:       addr,
		set:        s,
		accelScale: s.accelMG * 1e-3 * sensor.StandardGravity,
		gyroScale:  s.gyroMDPS * 1e-3 * math.Pi / 180,
		ctrl6XL:    byte(s.odr)<<odrShift | s.accelFS<<fsShift,
		ctrl8:      ctrl8BDU | ctrl8IfAddInc,
	}
	d.burst = sensor.Burst{
		Recovery: sensor.Recovery{MaxErrors: s.opts.MaxErrors},
		Name:     "lsm9ds1",
		Bus:      bus,
		Addr:     addr,
		Reg:      [1]byte{regOutTempL},
		Reinit:   func() error { return d.init(false) },
	}
	if err := d.init(true); err != nil {
		return nil, err
	}
	return d, nil
}

// String returns the chip and address, e.g. "lsm9ds1@0x6a".
func (d *Dev) String() string { return fmt.Sprintf("lsm9ds1@%#02x", d.addr) }

// Opts returns the configuration in use, defaults filled in.
func (d *Dev) Opts() Opts { return d.set.opts }

// ODR returns the output data rate the chip runs at.
func (d *Dev) ODR() ODR { return d.set.odr }

// Stats returns the counters. It is safe to call concurrently with Read.
func (d *Dev) Stats() Stats {
	return d.burst.Stats()
}

// Read implements sensor.Sensor with one burst transaction.
//
// On a good read it fills Accel, Gyro and TempC, clears StatusSensorError,
// sets StatusSaturated if an axis reads full scale and StatusReinit if the
// chip was re-initialised just before. On a failed read it sets
// StatusSensorError, clears StatusReinit and leaves the values alone. After
// Opts.MaxErrors consecutive failures, or at once when the chip lost its
// configuration, every Read first re-initialises the chip (without the
// reset delay) until that works. The caller's timing bits are never touched.
func (d *Dev) Read(s *sensor.Sample) error {
	if err := d.burst.Read(s, d.buf[:]); err != nil {
		return err
	}
	b := &d.buf
	if b[offCtrl8] != d.ctrl8 || b[offCtrl6XL] != d.ctrl6XL {
		err := d.burst.Fail(s, fmt.Errorf("%w: CTRL_REG6_XL 0x%02x CTRL_REG8 0x%02x, wrote 0x%02x 0x%02x", ErrConfigLost, b[offCtrl6XL], b[offCtrl8], d.ctrl6XL, d.ctrl8))
		d.burst.Force() // no point waiting: re-initialise next time
		return err
	}

	var acc, gyr [3]int16
	for i := range 3 {
		acc[i] = le16(b[offAccel+2*i:])
		gyr[i] = le16(b[offGyro+2*i:])
	}
	// Datasheet: 16 LSB/°C, 0 LSB at 25 °C (typical).
	s.TempC = float32(25 + float64(le16(b[offTemp:]))/16)
	d.burst.GoodCounts(s, acc, gyr, d.accelScale, d.gyroScale)
	return nil
}

// Halt powers the gyroscope and the accelerometer down. Make a new Dev with
// New to use them again.
func (d *Dev) Halt() error {
	if err := d.writeReg(regCtrlReg1G, 0); err != nil {
		return fmt.Errorf("lsm9ds1: power down gyroscope: %w", err)
	}
	if err := d.writeReg(regCtrlReg6XL, 0); err != nil {
		return fmt.Errorf("lsm9ds1: power down accelerometer: %w", err)
	}
	return nil
}

func le16(b []byte) int16 { return int16(uint16(b[0]) | uint16(b[1])<<8) }

// resetDelay covers the software reset; the datasheet gives no figure and
// drivers commonly wait 10 ms, so this doubles it.
const resetDelay = 20 * time.Millisecond

// doSleep is replaced in tests.
var doSleep = time.Sleep

// init checks WHO_AM_I and configures the chip, after a software reset if
// reset is set. The re-initialisation on the hot path skips the reset so as
// not to stall the caller: the writes restore a chip that lost power too.
func (d *Dev) init(reset bool) error {
	d.w[0] = regWhoAmI
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:1]); err != nil {
		return fmt.Errorf("lsm9ds1: reading WHO_AM_I at %#02x: %w (%w)", d.addr, err, sensor.ErrNotFound)
	}
	if d.buf[0] != whoAmIAG {
		return &WhoAmIError{Addr: d.addr, Got: d.buf[0]}
	}
	if reset {
		if err := d.writeReg(regCtrlReg8, ctrl8SWReset|ctrl8IfAddInc); err != nil {
			return fmt.Errorf("lsm9ds1: reset: %w", err)
		}
		doSleep(resetDelay)
	}
	writes := [...]struct {
		reg, val byte
		name     string
	}{
		{regCtrlReg8, d.ctrl8, "CTRL_REG8"},
		{regCtrlReg4, xyzEnabled, "CTRL_REG4"},
		{regCtrlReg5XL, xyzEnabled, "CTRL_REG5_XL"},
		// While the gyroscope is on its ODR sets both; the same ODR_XL keeps
		// the accelerometer at that rate whatever the order of events.
		{regCtrlReg6XL, d.ctrl6XL, "CTRL_REG6_XL"},
		{regCtrlReg1G, byte(d.set.odr)<<odrShift | d.set.gyroFS<<fsShift, "CTRL_REG1_G"},
	}
	for _, w := range writes {
		if err := d.writeReg(w.reg, w.val); err != nil {
			return fmt.Errorf("lsm9ds1: writing %s: %w", w.name, err)
		}
	}
	return nil
}

func (d *Dev) writeReg(reg, val byte) error {
	d.w = [2]byte{reg, val}
	return d.bus.Tx(d.addr, d.w[:], nil)
}

var (
	_ conn.Resource = (*Dev)(nil)
	_ sensor.Sensor = (*Dev)(nil)
)
