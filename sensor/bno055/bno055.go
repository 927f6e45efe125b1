package bno055

import (
	"errors"
	"fmt"
	"math"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/i2c"

	"github.com/imustream/imustream/sensor"
)

// IDError says that the device at Addr is not a BNO055.
type IDError struct {
	Addr uint16
	Got  byte
}

func (e *IDError) Error() string {
	return fmt.Sprintf("bno055: unexpected CHIP_ID 0x%02x at %#02x; expected %s", e.Got, e.Addr, Expected())
}

// Expected describes the CHIP_ID the driver accepts.
func Expected() string { return "0xa0 (BNO055)" }

// IsChipID reports whether v is the BNO055's CHIP_ID.
func IsChipID(v byte) bool { return v == chipID }

// ErrGarbled is wrapped by the error of a read whose quaternion is not a
// unit one: a shifted or corrupted transfer, as the Pi's clock-stretching
// bug produces.
var ErrGarbled = errors.New("bno055: garbled read (quaternion norm not 1; clock stretching? see the package documentation)")

// Opts configures a Dev. Zero fields take the value in DefaultOpts.
type Opts struct {
	// RateHz is the rate Read is called at, 1 to 100 (the fusion's
	// rate). It defaults to 100.
	RateHz int
	// MaxErrors is how many consecutive failed reads make the driver
	// re-initialise the chip. It defaults to 10.
	MaxErrors int
}

// DefaultOpts are the defaults.
var DefaultOpts = Opts{RateHz: 100, MaxErrors: 10}

// ErrInvalidOpts is wrapped by every configuration error.
var ErrInvalidOpts = errors.New("bno055: invalid options")

func (o *Opts) resolved() (Opts, error) {
	r := DefaultOpts
	if o != nil {
		if o.RateHz != 0 {
			r.RateHz = o.RateHz
		}
		if o.MaxErrors != 0 {
			r.MaxErrors = o.MaxErrors
		}
	}
	if r.RateHz < 1 || r.RateHz > 100 {
		return r, fmt.Errorf("%w: rate %d Hz; the NDOF fusion runs at 100 Hz, so valid: 1 to 100 Hz", ErrInvalidOpts, r.RateHz)
	}
	if r.MaxErrors < 0 {
		return r, fmt.Errorf("%w: MaxErrors %d; must be positive (0 means the default %d)", ErrInvalidOpts, r.MaxErrors, DefaultOpts.MaxErrors)
	}
	return r, nil
}

// Validate reports whether o is valid, zero fields taking their defaults.
func (o *Opts) Validate() error {
	_, err := o.resolved()
	return err
}

// Dev is a BNO055 on an I²C bus. Read is for one goroutine; Stats may be
// called from any.
type Dev struct {
	bus   i2c.Bus
	addr  uint16
	opts  Opts
	burst sensor.Burst
	w     [2]byte
	buf   [burstLen]byte
}

// New checks CHIP_ID at addr (0x28 or 0x29), resets the chip and starts
// its NDOF fusion; nil opts means DefaultOpts.
func New(bus i2c.Bus, addr uint16, opts *Opts) (*Dev, error) {
	if addr != AddrLow && addr != AddrHigh {
		return nil, fmt.Errorf("%w: address %#02x; valid: 0x28 (COM3 low), 0x29 (COM3 high)", ErrInvalidOpts, addr)
	}
	o, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	d := &Dev{bus: bus, addr: addr, opts: o}
	d.burst = sensor.Burst{
		Recovery: sensor.Recovery{MaxErrors: o.MaxErrors},
		Name:     "bno055",
		Bus:      bus,
		Addr:     addr,
		Reg:      [1]byte{regAccDataX},
		Reinit:   func() error { return d.init(false) },
	}
	if err := d.init(true); err != nil {
		return nil, err
	}
	return d, nil
}

// String returns e.g. "bno055@0x28".
func (d *Dev) String() string { return fmt.Sprintf("bno055@%#02x", d.addr) }

// HasMag implements sensor.MagSensor: every read has the field.
func (d *Dev) HasMag() bool { return true }

// HasOrientation implements sensor.OrientationSensor: the chip's NDOF
// fusion fills Quat, so the daemon runs no fusion of its own for it.
func (d *Dev) HasOrientation() bool { return true }

// Stats returns the counters; safe to call concurrently with Read.
func (d *Dev) Stats() sensor.Stats { return d.burst.Stats() }

// Read implements sensor.Sensor with one burst: accel, gyro, mag (always
// flagged StatusMag: the register holds the latest reading), the fusion's
// quaternion (StatusOrientation once the fusion has one), temperature and
// the calibration bits. A garbled read fails with ErrGarbled.
func (d *Dev) Read(s *sensor.Sample) error {
	if err := d.burst.Read(s, d.buf[:]); err != nil {
		return err
	}
	b := &d.buf
	var q [4]float64
	norm := 0.0
	for i := range 4 {
		q[i] = float64(le16(b[offQua+2*i:])) / quaLSB
		norm += q[i] * q[i]
	}
	// Before the fusion has run the quaternion reads 0; a good one is a
	// unit quaternion to within the 14-bit rounding.
	started := norm != 0
	if started && math.Abs(norm-1) > 0.02 {
		return d.burst.Fail(s, fmt.Errorf("%w: |q|² = %.3f at %#02x", ErrGarbled, norm, d.addr))
	}
	sat, over := false, false
	for i := range 3 {
		a, g, m := le16(b[offAcc+2*i:]), le16(b[offGyr+2*i:]), le16(b[offMag+2*i:])
		sat = sat || math.Abs(float64(a)) >= accFullScaleLSB || math.Abs(float64(g)) >= gyrFullScaleLSB
		over = over || m == math.MaxInt16 || m == math.MinInt16
		s.Accel[i] = float32(float64(a) / accLSBPerMS2)
		s.Gyro[i] = float32(float64(g) / gyrLSBPerDPS * math.Pi / 180)
		s.Mag[i] = float32(float64(m) / magLSBPerUT)
	}
	s.TempC = float32(int8(b[offTemp]))
	d.burst.Good(s, sat)
	s.Status &^= sensor.StatusMag | sensor.StatusMagOverflow | sensor.StatusOrientation | sensor.StatusCalMask
	s.Status |= sensor.StatusMag | calibStatus(b[offCalib])
	if over {
		s.Status |= sensor.StatusMagOverflow
	}
	if started {
		for i := range 4 {
			s.Quat[i] = float32(q[i])
		}
		s.Status |= sensor.StatusOrientation
	}
	return nil
}

// calibStatus maps CALIB_STAT (SYS[7:6] GYR[5:4] ACC[3:2] MAG[1:0]) to the
// sample's calibration bits.
func calibStatus(c byte) sensor.Status {
	sys, gyr, acc, mag := c>>6, (c>>4)&3, (c>>2)&3, c&3
	st := sensor.Status(sys)<<10 | sensor.Status(mag)<<12
	if gyr == 3 {
		st |= sensor.StatusCalGyro
	}
	if acc == 3 {
		st |= sensor.StatusCalAccel
	}
	return st
}

func le16(b []byte) int16 { return int16(uint16(b[0]) | uint16(b[1])<<8) }

// Halt puts the chip in CONFIG mode and suspend.
func (d *Dev) Halt() error {
	if err := d.writeReg(regOprMode, modeConfig); err != nil {
		return fmt.Errorf("bno055: config mode: %w", err)
	}
	if err := d.writeReg(regPwrMode, 0x02); err != nil {
		return fmt.Errorf("bno055: suspend: %w", err)
	}
	return nil
}

// Delays from table 3-6 and 3.2: 650 ms from reset to a responding chip,
// 7 ms from CONFIG to a fusion mode, 19 ms the other way.
const (
	resetDelay  = 650 * time.Millisecond
	toFusion    = 7 * time.Millisecond
	toConfigDel = 19 * time.Millisecond
)

var doSleep = time.Sleep

// init checks CHIP_ID and starts NDOF, after a reset if reset is set. On
// the hot path (reset false) it does not wait for the mode switches; the
// reads during them fail and are counted.
func (d *Dev) init(reset bool) error {
	d.w[0] = regChipID
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:1]); err != nil {
		return fmt.Errorf("bno055: reading CHIP_ID at %#02x: %w (%w)", d.addr, err, sensor.ErrNotFound)
	}
	if d.buf[0] != chipID {
		return &IDError{Addr: d.addr, Got: d.buf[0]}
	}
	if err := d.writeReg(regOprMode, modeConfig); err != nil {
		return fmt.Errorf("bno055: writing OPR_MODE (config): %w", err)
	}
	if reset {
		doSleep(toConfigDel)
		if err := d.writeReg(regSysTrigger, triggerReset); err != nil {
			return fmt.Errorf("bno055: reset: %w", err)
		}
		doSleep(resetDelay)
	}
	for _, w := range [...]struct {
		reg, val byte
		name     string
	}{
		{regPageID, 0, "PAGE_ID"},
		{regPwrMode, pwrNormal, "PWR_MODE"},
		{regUnitSel, unitSel, "UNIT_SEL"},
		{regSysTrigger, 0, "SYS_TRIGGER"},
		{regOprMode, modeNDOF, "OPR_MODE (NDOF)"},
	} {
		if err := d.writeReg(w.reg, w.val); err != nil {
			return fmt.Errorf("bno055: writing %s: %w", w.name, err)
		}
	}
	if reset {
		doSleep(toFusion)
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
