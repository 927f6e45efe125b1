package lsm9ds1

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// AccelRange is the accelerometer full scale, ± the value in g.
type AccelRange int

// Accelerometer ranges.
const (
	Accel2G  AccelRange = 2  // 0.061 mg/LSB
	Accel4G  AccelRange = 4  // 0.122 mg/LSB
	Accel8G  AccelRange = 8  // 0.244 mg/LSB
	Accel16G AccelRange = 16 // 0.732 mg/LSB
)

var accelRanges = []struct {
	r     AccelRange
	fs    byte    // FS_XL: note ±16 g is 01, out of order.
	mgLSB float64 // datasheet: linear acceleration sensitivity
}{
	{Accel2G, 0b00, 0.061},
	{Accel4G, 0b10, 0.122},
	{Accel8G, 0b11, 0.244},
	{Accel16G, 0b01, 0.732},
}

func (r AccelRange) String() string { return "±" + strconv.Itoa(int(r)) + " g" }

// GyroRange is the gyroscope full scale, ± the value in °/s.
type GyroRange int

// Gyroscope ranges. There is no ±1000 °/s (FS_G 10 is not available).
const (
	Gyro245DPS  GyroRange = 245  // 8.75 m°/s/LSB
	Gyro500DPS  GyroRange = 500  // 17.50 m°/s/LSB
	Gyro2000DPS GyroRange = 2000 // 70 m°/s/LSB
)

var gyroRanges = []struct {
	r       GyroRange
	fs      byte
	mdpsLSB float64 // datasheet: angular rate sensitivity
}{
	{Gyro245DPS, 0b00, 8.75},
	{Gyro500DPS, 0b01, 17.50},
	{Gyro2000DPS, 0b11, 70},
}

func (r GyroRange) String() string { return "±" + strconv.Itoa(int(r)) + " °/s" }

// ODR is an output data rate of the gyroscope (and of the accelerometer,
// which follows it while both are on): the ODR_G code 1..6.
type ODR uint8

// Output data rates.
const (
	ODR14_9Hz ODR = iota + 1
	ODR59_5Hz
	ODR119Hz
	ODR238Hz
	ODR476Hz
	ODR952Hz
)

var odrHz = [...]float64{ODR14_9Hz: 14.9, ODR59_5Hz: 59.5, ODR119Hz: 119, ODR238Hz: 238, ODR476Hz: 476, ODR952Hz: 952}

// Hz returns the rate in Hz.
func (o ODR) Hz() float64 {
	if o < ODR14_9Hz || o > ODR952Hz {
		return 0
	}
	return odrHz[o]
}

func (o ODR) String() string { return strconv.FormatFloat(o.Hz(), 'f', -1, 64) + " Hz" }

// Opts configures a Dev. Zero fields take the value in DefaultOpts.
type Opts struct {
	// AccelRange is the accelerometer full scale. It defaults to ±4 g.
	AccelRange AccelRange
	// GyroRange is the gyroscope full scale. It defaults to ±500 °/s.
	GyroRange GyroRange
	// RateHz is the rate Read is called at. The chip runs at the lowest
	// output data rate at or above it, so at most 952 Hz. It defaults to 200
	// (238 Hz inside the chip).
	RateHz int
	// MaxErrors is how many consecutive failed reads make the driver
	// re-initialise the chip before the next one. It defaults to 10.
	MaxErrors int
}

// DefaultOpts are the defaults.
var DefaultOpts = Opts{
	AccelRange: Accel4G,
	GyroRange:  Gyro500DPS,
	RateHz:     200,
	MaxErrors:  10,
}

// ErrInvalidOpts is wrapped by every configuration error.
var ErrInvalidOpts = errors.New("lsm9ds1: invalid options")

// settings are resolved options as register fields and scales.
type settings struct {
	opts              Opts
	odr               ODR
	accelFS, gyroFS   byte
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
			s.gyroFS, s.gyroMDPS = g.fs, g.mdpsLSB
		}
	}
	if s.gyroMDPS == 0 {
		return s, fmt.Errorf("%w: gyroscope range %d °/s; valid: %s °/s", ErrInvalidOpts, int(r.GyroRange), strings.Join(names, ", "))
	}
	for o := ODR14_9Hz; o <= ODR952Hz && r.RateHz > 0; o++ {
		if o.Hz() >= float64(r.RateHz) {
			s.odr = o
			break
		}
	}
	if s.odr == 0 {
		return s, fmt.Errorf("%w: rate %d Hz; the chip's output data rates are 14.9, 59.5, 119, 238, 476 and 952 Hz, so valid rates are 1 to 952 Hz", ErrInvalidOpts, r.RateHz)
	}
	if r.MaxErrors < 0 {
		return s, fmt.Errorf("%w: MaxErrors %d; must be positive (0 means the default %d)", ErrInvalidOpts, r.MaxErrors, DefaultOpts.MaxErrors)
	}
	return s, nil
}

// Validate reports whether o is a valid configuration, with zero fields
// taking their defaults. The error lists the valid values.
func (o *Opts) Validate() error {
	_, err := o.resolved()
	return err
}
