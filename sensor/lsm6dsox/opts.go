package lsm6dsox

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/imustream/imustream/sensor/lis3mdl"
)

// Chip is a member of the family, told apart by WHO_AM_I.
type Chip uint8

// Supported chips.
const (
	LSM6DSO    Chip = iota + 1 // WHO_AM_I 0x6C: LSM6DSO or LSM6DSOX.
	LSM6DS3TRC                 // WHO_AM_I 0x6A.
	ISM330DHCX                 // WHO_AM_I 0x6B.
)

var chipInfo = [...]struct {
	who   byte
	name  string
	short string
}{
	LSM6DSO:    {whoAmIDSO, "LSM6DSO/LSM6DSOX", "lsm6dso"},
	LSM6DS3TRC: {whoAmIDS3TRC, "LSM6DS3TR-C", "lsm6ds3trc"},
	ISM330DHCX: {whoAmIISM330, "ISM330DHCX", "ism330dhcx"},
}

func (c Chip) valid() bool { return c >= LSM6DSO && c <= ISM330DHCX }

// String returns the datasheet name.
func (c Chip) String() string {
	if !c.valid() {
		return "Chip(" + strconv.Itoa(int(c)) + ")"
	}
	return chipInfo[c].name
}

// WhoAmI returns the chip's WHO_AM_I.
func (c Chip) WhoAmI() byte {
	if !c.valid() {
		return 0
	}
	return chipInfo[c].who
}

// HasFIFO reports whether the driver reads the chip's FIFO: every chip of
// the family (the LSM6DS3TR-C's has the older, pattern-based layout).
func (c Chip) HasFIFO() bool { return c.valid() }

// ChipFromWhoAmI returns the chip that answers v.
func ChipFromWhoAmI(v byte) (Chip, bool) {
	for c := LSM6DSO; c <= ISM330DHCX; c++ {
		if chipInfo[c].who == v {
			return c, true
		}
	}
	return 0, false
}

// Expected lists the WHO_AM_I values the driver accepts.
func Expected() string {
	return "0x6c (LSM6DSO/LSM6DSOX), 0x6a (LSM6DS3TR-C) or 0x6b (ISM330DHCX)"
}

// AccelRange is the accelerometer full scale, ± the value in g.
type AccelRange int

// Accelerometer ranges.
const (
	Accel2G  AccelRange = 2
	Accel4G  AccelRange = 4
	Accel8G  AccelRange = 8
	Accel16G AccelRange = 16
)

// accelRanges: FS_XL (00 ±2, 01 ±16, 10 ±4, 11 ±8) and the datasheet's
// sensitivity (table 2).
var accelRanges = []struct {
	r     AccelRange
	fs    byte
	mgLSB float64
}{
	{Accel2G, 0b00, 0.061},
	{Accel4G, 0b10, 0.122},
	{Accel8G, 0b11, 0.244},
	{Accel16G, 0b01, 0.488},
}

// GyroRange is the gyroscope full scale, ± the value in °/s.
type GyroRange int

// Gyroscope ranges; ±4000 °/s on the ISM330DHCX only.
const (
	Gyro125DPS  GyroRange = 125
	Gyro250DPS  GyroRange = 250
	Gyro500DPS  GyroRange = 500
	Gyro1000DPS GyroRange = 1000
	Gyro2000DPS GyroRange = 2000
	Gyro4000DPS GyroRange = 4000
)

// gyroRanges: CTRL2_G bits 3:0 (FS_G, FS_125, FS_4000) and the
// sensitivity (table 2).
var gyroRanges = []struct {
	r       GyroRange
	bits    byte
	mdpsLSB float64
}{
	{Gyro125DPS, ctrl2FS125, 4.375},
	{Gyro250DPS, 0b00 << 2, 8.75},
	{Gyro500DPS, 0b01 << 2, 17.50},
	{Gyro1000DPS, 0b10 << 2, 35},
	{Gyro2000DPS, 0b11 << 2, 70},
	{Gyro4000DPS, ctrl2FS4000, 140},
}

// odrs are the output data rates in Hz by ODR code 1..10.
var odrs = [...]float64{1: 12.5, 26, 52, 104, 208, 416, 833, 1666, 3333, 6666}

// Opts configures a Dev. Zero fields take the value in DefaultOpts.
type Opts struct {
	// AccelRange defaults to ±4 g.
	AccelRange AccelRange
	// GyroRange defaults to ±500 °/s.
	GyroRange GyroRange
	// RateHz is the rate Read is called at; the chip runs at the lowest
	// ODR at or above it. With FIFO it is the ODR itself: 26, 52, 104,
	// 208, 416, 833, 1666, 3333 or 6666. It defaults to 200 (208 Hz).
	RateHz int
	// MaxErrors is how many consecutive failed reads make the driver
	// re-initialise the chip. It defaults to 10.
	MaxErrors int
	// FIFO reads the chip through its FIFO (ReadBatch). It defaults to
	// false.
	FIFO bool
	// Mag, when set, is read with every Read and ReadBatch (see the
	// package documentation). It defaults to nil: no magnetometer.
	Mag *lis3mdl.Dev
}

// DefaultOpts are the defaults.
var DefaultOpts = Opts{AccelRange: Accel4G, GyroRange: Gyro500DPS, RateHz: 200, MaxErrors: 10}

// ErrInvalidOpts is wrapped by every configuration error.
var ErrInvalidOpts = errors.New("lsm6dsox: invalid options")

type settings struct {
	opts              Opts
	odr               byte
	accelFS, gyroBits byte
	accelMG, gyroMDPS float64
}

func (o *Opts) resolved() (settings, error) {
	r := DefaultOpts
	if o != nil {
		if o.AccelRange != 0 {
			r.AccelRange = o.AccelRange
		}
		if o.GyroRange != 0 {
			r.GyroRange = o.GyroRange
		}
		if o.RateHz != 0 {
			r.RateHz = o.RateHz
		}
		if o.MaxErrors != 0 {
			r.MaxErrors = o.MaxErrors
		}
		r.FIFO, r.Mag = o.FIFO, o.Mag
	}
	s := settings{opts: r}
	var names []string
	for _, a := range accelRanges {
		names = append(names, strconv.Itoa(int(a.r)))
		if a.r == r.AccelRange {
			s.accelFS, s.accelMG = a.fs, a.mgLSB
		}
	}
	if s.accelMG == 0 {
		return s, fmt.Errorf("%w: accelerometer range %d g; valid: %s g", ErrInvalidOpts, int(r.AccelRange), strings.Join(names, ", "))
	}
	names = names[:0]
	for _, g := range gyroRanges {
		names = append(names, strconv.Itoa(int(g.r)))
		if g.r == r.GyroRange {
			s.gyroBits, s.gyroMDPS = g.bits, g.mdpsLSB
		}
	}
	if s.gyroMDPS == 0 {
		return s, fmt.Errorf("%w: gyroscope range %d °/s; valid: %s °/s (4000 on the ISM330DHCX only)", ErrInvalidOpts, int(r.GyroRange), strings.Join(names, ", "))
	}
	for code := 1; code < len(odrs) && r.RateHz > 0; code++ {
		if odrs[code] >= float64(r.RateHz) {
			s.odr = byte(code)
			break
		}
	}
	if s.odr == 0 {
		return s, fmt.Errorf("%w: rate %d Hz; the chips' output data rates go up to 6666 Hz, so valid rates are 1 to 6666 Hz", ErrInvalidOpts, r.RateHz)
	}
	if r.FIFO && odrs[s.odr] != float64(r.RateHz) {
		return s, fmt.Errorf("%w: rate %d Hz with the FIFO, which runs at an output data rate; valid: %s Hz", ErrInvalidOpts, r.RateHz, FIFORates())
	}
	if r.MaxErrors < 0 {
		return s, fmt.Errorf("%w: MaxErrors %d; must be positive (0 means the default %d)", ErrInvalidOpts, r.MaxErrors, DefaultOpts.MaxErrors)
	}
	return s, nil
}

// FIFORates lists the rates valid with Opts.FIFO.
func FIFORates() string {
	var s []string
	for _, v := range odrs[2:] {
		s = append(s, strconv.Itoa(int(v)))
	}
	return strings.Join(s, ", ")
}

// Validate reports whether o is valid, zero fields taking their defaults.
func (o *Opts) Validate() error {
	_, err := o.resolved()
	return err
}
