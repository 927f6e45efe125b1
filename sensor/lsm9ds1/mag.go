package lsm9ds1

import (
	"errors"
	"fmt"
	"strconv"

	"periph.io/x/conn/v3/i2c"

	"github.com/imustream/imustream/sensor"
)

// The magnetometer is its own I²C device (datasheet section 6.1: SDO_M
// picks 0x1C or 0x1E; the Sense HAT has 0x1C), with its own registers
// (datasheet section 8, table 22).
const (
	MagAddrLow  uint16 = 0x1C
	MagAddrHigh uint16 = 0x1E

	regWhoAmIM   = 0x0F
	regCtrlReg1M = 0x20 // TEMP_COMP OM[1:0] DO[2:0] FAST_ODR ST
	regCtrlReg2M = 0x21 // FS[1:0] REBOOT SOFT_RST
	regCtrlReg3M = 0x22 // MD[1:0]: 00 continuous
	regCtrlReg4M = 0x23 // OMZ[1:0]
	regCtrlReg5M = 0x24 // BDU
	regStatusM   = 0x27 // first of the 7-byte burst: STATUS_REG_M, OUT_X_L_M..OUT_Z_H_M

	whoAmIM = 0x3D
	// The magnetometer increments the register address in a multi-byte
	// read only with the sub-address's MSB set (datasheet 6.1.1).
	magAutoInc = 0x80

	// 80 Hz, ultra-high performance on x, y (OM 11) and z (OMZ 11), with
	// temperature compensation; continuous; block data update.
	ctrl1M      = 0x80 | 0x60 | 0x1C
	ctrl3M      = 0x00
	ctrl4M      = 0x0C
	ctrl5M      = 0x40
	softRstM    = 0x04
	statusZYXDA = 1 << 3
	magBurstLen = 7
)

// MagRange is the magnetometer's full scale, ± the value in gauss (1 gauss
// = 100 µT).
type MagRange int

// Magnetometer ranges (CTRL_REG2_M FS) and their sensitivity (datasheet
// table 3, magnetic sensitivity M_GN).
const (
	Mag4Gauss  MagRange = 4  // 0.14 mgauss/LSB
	Mag8Gauss  MagRange = 8  // 0.29 mgauss/LSB
	Mag12Gauss MagRange = 12 // 0.43 mgauss/LSB
	Mag16Gauss MagRange = 16 // 0.58 mgauss/LSB
)

var magRanges = []struct {
	r      MagRange
	mgauss float64
}{{Mag4Gauss, 0.14}, {Mag8Gauss, 0.29}, {Mag12Gauss, 0.43}, {Mag16Gauss, 0.58}}

func (r MagRange) String() string { return "±" + strconv.Itoa(int(r)) + " gauss" }

// MagAxes turns the magnetometer's axes into the accelerometer's and
// gyroscope's: its x points the other way (the frames that RTIMULib,
// which the Sense HAT's own library uses, and other LSM9DS1 AHRS codes
// bring together).
var MagAxes = sensor.Axes{-1, 2, 3}

// MagOpts configures a Mag. Zero fields take the defaults.
type MagOpts struct {
	// Range defaults to ±4 gauss (±400 µT, eight times the earth's field).
	Range MagRange
	// MaxErrors is how many failed reads in a row make the next read
	// re-initialise the chip. It defaults to 10.
	MaxErrors int
	// ChipAxes keeps the magnetometer's own axes. It defaults to false.
	ChipAxes bool
}

// Errors of the magnetometer.
var (
	ErrMagWhoAmI = errors.New("lsm9ds1: not an LSM9DS1 magnetometer")
	ErrMagStale  = errors.New("lsm9ds1: magnetometer has no new measurement (chip reset?)")
)

// Mag is the LSM9DS1's magnetometer. ReadMag is for one goroutine.
type Mag struct {
	bus     i2c.Bus
	addr    uint16
	fs      byte
	scale   [3]float64
	axes    sensor.Axes
	rec     sensor.Recovery
	mag     sensor.MagReading
	scratch sensor.Sample

	w   [2]byte
	reg [1]byte
	buf [magBurstLen]byte
}

var _ sensor.Magnetometer = (*Mag)(nil)

// NewMag checks WHO_AM_I_M at addr (0x1C or 0x1E), resets the
// magnetometer and starts it; nil opts means the defaults.
func NewMag(bus i2c.Bus, addr uint16, opts *MagOpts) (*Mag, error) {
	if addr != MagAddrLow && addr != MagAddrHigh {
		return nil, fmt.Errorf("%w: magnetometer address %#02x; valid: 0x1c (SDO_M low, Sense HAT), 0x1e", ErrInvalidOpts, addr)
	}
	var o MagOpts
	if opts != nil {
		o = *opts
	}
	if o.Range == 0 {
		o.Range = Mag4Gauss
	}
	if o.MaxErrors == 0 {
		o.MaxErrors = 10
	}
	if o.MaxErrors < 0 {
		return nil, fmt.Errorf("%w: MaxErrors %d", ErrInvalidOpts, o.MaxErrors)
	}
	m := &Mag{bus: bus, addr: addr, axes: MagAxes}
	if o.ChipAxes {
		m.axes = sensor.Axes{}
	}
	found := false
	for i, r := range magRanges {
		if r.r == o.Range {
			m.fs, found = byte(i)<<5, true
			for k := range 3 {
				m.scale[k] = r.mgauss * 0.1 // mgauss → µT
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: magnetometer range %d gauss; valid: 4, 8, 12, 16", ErrInvalidOpts, int(o.Range))
	}
	m.rec.MaxErrors = o.MaxErrors
	if err := m.init(true); err != nil {
		return nil, err
	}
	return m, nil
}

// String returns e.g. "lsm9ds1-mag@0x1c".
func (m *Mag) String() string { return fmt.Sprintf("lsm9ds1-mag@%#02x", m.addr) }

// Stats returns the read counters.
func (m *Mag) Stats() sensor.Stats { return m.rec.Stats() }

func (m *Mag) init(reset bool) error {
	m.reg[0] = regWhoAmIM
	if err := m.bus.Tx(m.addr, m.reg[:], m.buf[:1]); err != nil {
		return fmt.Errorf("lsm9ds1: reading WHO_AM_I_M at %#02x: %w (%w)", m.addr, err, sensor.ErrNotFound)
	}
	if m.buf[0] != whoAmIM {
		return fmt.Errorf("%w: WHO_AM_I_M 0x%02x at %#02x, expected 0x%02x", ErrMagWhoAmI, m.buf[0], m.addr, whoAmIM)
	}
	if reset {
		if err := m.write(regCtrlReg2M, softRstM); err != nil {
			return fmt.Errorf("lsm9ds1: magnetometer reset: %w", err)
		}
		doSleep(resetDelay)
	}
	for _, w := range [...]struct {
		reg, val byte
		name     string
	}{
		{regCtrlReg2M, m.fs, "CTRL_REG2_M"},
		{regCtrlReg1M, ctrl1M, "CTRL_REG1_M"},
		{regCtrlReg4M, ctrl4M, "CTRL_REG4_M"},
		{regCtrlReg5M, ctrl5M, "CTRL_REG5_M"},
		{regCtrlReg3M, ctrl3M, "CTRL_REG3_M"},
	} {
		if err := m.write(w.reg, w.val); err != nil {
			return fmt.Errorf("lsm9ds1: writing %s: %w", w.name, err)
		}
	}
	return nil
}

func (m *Mag) write(reg, val byte) error {
	m.w = [2]byte{reg, val}
	return m.bus.Tx(m.addr, m.w[:], nil)
}

// ReadMag implements sensor.Magnetometer with one 7-byte burst from
// STATUS_REG_M. Without new data (ZYXDA clear) it repeats the latest
// reading; an axis at the ends of its 16-bit range (beyond the full
// scale) flags sensor.StatusMagOverflow.
func (m *Mag) ReadMag(s *sensor.Sample) error {
	if m.rec.Due() {
		if err := m.init(false); err != nil {
			return m.fail(s, fmt.Errorf("%w (while re-initialising)", err))
		}
		m.rec.Reinitialised()
	}
	m.reg[0] = regStatusM | magAutoInc
	if err := m.bus.Tx(m.addr, m.reg[:], m.buf[:]); err != nil {
		return m.fail(s, fmt.Errorf("lsm9ds1: magnetometer read at %#02x: %w", m.addr, err))
	}
	m.rec.Good(&m.scratch, false)
	b := &m.buf
	if b[0]&statusZYXDA == 0 {
		if m.mag.NoData(s) {
			m.rec.Force()
			return m.fail(s, ErrMagStale)
		}
		return nil
	}
	var c [3]int16
	for i := range 3 {
		c[i] = le16(b[1+2*i:])
	}
	m.mag.SetCounts(s, c, m.scale, m.axes, false)
	return nil
}

func (m *Mag) fail(s *sensor.Sample, err error) error {
	m.rec.Fail(&m.scratch, err)
	s.Status &^= sensor.StatusMag | sensor.StatusMagOverflow
	return err
}

// Halt powers the magnetometer down (CTRL_REG3_M MD = 11).
func (m *Mag) Halt() error {
	if err := m.write(regCtrlReg3M, 0x03); err != nil {
		return fmt.Errorf("lsm9ds1: magnetometer power down: %w", err)
	}
	return nil
}
