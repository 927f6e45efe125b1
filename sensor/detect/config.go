package detect

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/imustream/imustream/sensor/bno055"
	"github.com/imustream/imustream/sensor/icm20948"
	"github.com/imustream/imustream/sensor/lsm6dsox"
	"github.com/imustream/imustream/sensor/lsm9ds1"
	"github.com/imustream/imustream/sensor/mpu6050"
)

// Addr is a 7-bit I²C address as a flag takes it, in hex (0x68) or
// decimal; 0 is none given.
type Addr uint16

func (a Addr) String() string {
	if a == 0 {
		return ""
	}
	return fmt.Sprintf("%#02x", uint16(a))
}

// Set reads an address; it refuses 0 and anything past 7 bits.
func (a *Addr) Set(s string) error {
	v, err := strconv.ParseUint(s, 0, 16)
	if err != nil || v == 0 || v > 0x7f {
		return errors.New("detect: want a 7-bit I²C address such as 0x68")
	}
	*a = Addr(v)
	return nil
}

// Kind names a driver or, in Found, a chip family.
type Kind string

// Kinds Config accepts.
const (
	Auto     Kind = "auto"
	MPU6050  Kind = "mpu6050" // MPU-6050, 6500, 9250, 9255
	LSM9DS1  Kind = "lsm9ds1"
	ICM20948 Kind = "icm20948"
	LSM6DSOX Kind = "lsm6dsox" // LSM6DSOX, LSM6DSO, LSM6DS3TR-C, ISM330DHCX
	BNO055   Kind = "bno055"
)

// LIS3MDL is the magnetometer read with an LSM6DSOX-family IMU, reported
// by Probe.
const LIS3MDL Kind = "lis3mdl"

// Barometer kinds, reported by Probe only.
const (
	BMP180 Kind = "bmp180"
	BMP280 Kind = "bmp280"
	BME280 Kind = "bme280"
)

// IMU reports whether k has a driver here.
func (k Kind) IMU() bool {
	switch k {
	case MPU6050, LSM9DS1, ICM20948, LSM6DSOX, BNO055:
		return true
	}
	return false
}

// Barometer reports whether k is a barometer package baro reads.
func (k Kind) Barometer() bool { return k == BMP180 || k == BMP280 || k == BME280 }

// FIFOMode says whether a chip with a FIFO is read through it.
type FIFOMode string

// FIFO modes Config accepts.
const (
	// FIFOAuto reads through the FIFO where the chip has one and the rate
	// is above FIFOAutoAboveHz: there a 200 Hz tick collects the samples,
	// timed by the chip's clock, instead of waking at every sample.
	FIFOAuto FIFOMode = "auto"
	FIFOOn   FIFOMode = "on"
	FIFOOff  FIFOMode = "off"
)

// FIFOAutoAboveHz is the rate above which FIFOAuto turns the FIFO on.
const FIFOAutoAboveHz = 200

// DefaultBus is the bus on the Raspberry Pi header (pins 3 and 5).
const DefaultBus = "1"

// Config says which sensor to open and how. The zero value probes bus 1 for
// any supported IMU and uses the drivers' defaults.
type Config struct {
	// Kind is "auto", "mpu6050" or "lsm9ds1". "sim" is not an I²C sensor:
	// the caller handles it before calling Open. It defaults to "auto".
	Kind Kind `json:"sensor,omitempty"`
	// Bus is the I²C bus as periph names it: "1", "I2C1" or "/dev/i2c-1".
	// It defaults to "1"; an explicit default, because periph's own ("")
	// picks the lowest-numbered bus, which is not the header one on every
	// Pi.
	Bus string `json:"bus,omitempty"`
	// Addr is the chip's address. It defaults to 0: probe the known
	// addresses of Kind (0x68, 0x69 for mpu6050; 0x6a, 0x6b for lsm9ds1).
	Addr uint16 `json:"addr,omitempty"`
	// AccelRangeG is the accelerometer full scale in ±g: 2, 4, 8 or 16. It
	// defaults to 4.
	AccelRangeG int `json:"accel_range_g,omitempty"`
	// GyroRangeDPS is the gyroscope full scale in ±°/s: 250, 500, 1000,
	// 2000 (mpu6050) or 245, 500, 2000 (lsm9ds1). It defaults to 500.
	GyroRangeDPS int `json:"gyro_range_dps,omitempty"`
	// DLPFHz is the mpu6050 low-pass filter: 184, 92, 41, 20, 10 or 5, at
	// most RateHz/2. It defaults to the widest allowed. The lsm9ds1 has no
	// such setting (its filters follow its output data rate) and refuses a
	// value.
	DLPFHz int `json:"dlpf_hz,omitempty"`
	// RateHz is the rate the caller reads at; the chip's output data rate is
	// set to match. It defaults to 200.
	RateHz int `json:"rate_hz,omitempty"`
	// MaxErrors is how many consecutive failed reads trigger a
	// re-initialisation. It defaults to 10.
	MaxErrors int `json:"max_errors,omitempty"`
	// Pressure also opens a BMP180/BMP280/BME280 at 0x76 or 0x77 on the same
	// bus, read in the background, and adds its latest pressure to every
	// sample. A barometer that is missing or does not open is no error:
	// Device.BaroErr says why there is none. It defaults to false.
	Pressure bool `json:"pressure,omitempty"`
	// FIFO is "auto", "on" or "off" (FIFOMode). It defaults to "auto".
	FIFO FIFOMode `json:"fifo,omitempty"`
	// Mag also reads the chip's magnetometer, if it has one (the
	// MPU-9250/9255's AK8963 through the bypass, the LSM9DS1's at 0x1C or
	// 0x1E), on every Read. One that is missing or does not open is no
	// error: Device.MagErr says why there is none. It defaults to false.
	Mag bool `json:"mag,omitempty"`
}

// fifo reports whether a chip that has a FIFO is to be read through it.
func (c *Config) fifo() bool {
	switch c.FIFO {
	case FIFOOn:
		return true
	case FIFOOff:
		return false
	}
	return c.RateHz > FIFOAutoAboveHz
}

var kinds = []Kind{Auto, MPU6050, ICM20948, LSM9DS1, LSM6DSOX, BNO055}

func (c *Config) kind() Kind {
	if c.Kind == "" {
		return Auto
	}
	return c.Kind
}

func (c *Config) bus() string {
	if c.Bus == "" {
		return DefaultBus
	}
	return c.Bus
}

func (c *Config) mpuOpts() *mpu6050.Opts {
	return &mpu6050.Opts{
		AccelRange: mpu6050.AccelRange(c.AccelRangeG),
		GyroRange:  mpu6050.GyroRange(c.GyroRangeDPS),
		DLPF:       mpu6050.DLPF(c.DLPFHz),
		RateHz:     c.RateHz,
		MaxErrors:  c.MaxErrors,
		FIFO:       c.fifo(),
	}
}

func (c *Config) lsmOpts() (*lsm9ds1.Opts, error) {
	if c.DLPFHz != 0 {
		return nil, fmt.Errorf("%w: low-pass filter %d Hz; the LSM9DS1's filters follow its output data rate, so leave it unset (0)", lsm9ds1.ErrInvalidOpts, c.DLPFHz)
	}
	return &lsm9ds1.Opts{
		AccelRange: lsm9ds1.AccelRange(c.AccelRangeG),
		GyroRange:  lsm9ds1.GyroRange(c.GyroRangeDPS),
		RateHz:     c.RateHz,
		MaxErrors:  c.MaxErrors,
	}, nil
}

// addrs returns the addresses to probe for kind.
func addrs(k Kind) []uint16 {
	switch k {
	case MPU6050, ICM20948:
		return []uint16{mpu6050.AddrAD0Low, mpu6050.AddrAD0High}
	case LSM9DS1, LSM6DSOX:
		return []uint16{lsm9ds1.AddrLow, lsm9ds1.AddrHigh}
	case BNO055:
		return []uint16{bno055.AddrLow, bno055.AddrHigh}
	}
	return append(append(addrs(MPU6050), addrs(LSM9DS1)...), addrs(BNO055)...)
}

// kindsAt returns the families that live at addr, the one whose driver
// explains an unknown device there first.
func kindsAt(addr uint16) []Kind {
	var out []Kind
	for _, k := range kinds[1:] {
		for _, a := range addrs(k) {
			if a == addr {
				out = append(out, k)
			}
		}
	}
	return out
}

// kindAt returns the first family that lives at addr, or "".
func kindAt(addr uint16) Kind {
	if k := kindsAt(addr); len(k) > 0 {
		return k[0]
	}
	return ""
}

// noDLPF refuses a low-pass filter setting for a chip that has none to set.
func (c *Config) noDLPF(chip string, errInvalid error) error {
	if c.DLPFHz != 0 {
		return fmt.Errorf("%w: low-pass filter %d Hz; the %s's filters follow its output data rate, so leave it unset (0)", errInvalid, c.DLPFHz, chip)
	}
	return nil
}

// fifoFor says whether to read a chip through its FIFO, given whether its
// driver takes the rate with the FIFO (auto turns it on only then).
func (c *Config) fifoFor(rateOK bool) bool {
	if c.FIFO == FIFOOn {
		return true
	}
	return c.fifo() && rateOK
}

func (c *Config) icmOpts() (*icm20948.Opts, error) {
	if err := c.noDLPF("ICM-20948", icm20948.ErrInvalidOpts); err != nil {
		return nil, err
	}
	o := &icm20948.Opts{AccelRange: icm20948.AccelRange(c.AccelRangeG), GyroRange: icm20948.GyroRange(c.GyroRangeDPS), RateHz: c.RateHz, MaxErrors: c.MaxErrors}
	o.FIFO = true
	o.FIFO = c.fifoFor(o.Validate() == nil)
	return o, nil
}

func (c *Config) lsm6Opts() (*lsm6dsox.Opts, error) {
	if err := c.noDLPF("LSM6DSOX family", lsm6dsox.ErrInvalidOpts); err != nil {
		return nil, err
	}
	o := &lsm6dsox.Opts{AccelRange: lsm6dsox.AccelRange(c.AccelRangeG), GyroRange: lsm6dsox.GyroRange(c.GyroRangeDPS), RateHz: c.RateHz, MaxErrors: c.MaxErrors}
	o.FIFO = true
	o.FIFO = c.fifoFor(o.Validate() == nil)
	return o, nil
}

func (c *Config) bnoOpts() (*bno055.Opts, error) {
	if err := c.noDLPF("BNO055", bno055.ErrInvalidOpts); err != nil {
		return nil, err
	}
	if c.AccelRangeG != 0 || c.GyroRangeDPS != 0 {
		return nil, fmt.Errorf("%w: ranges ±%d g, ±%d °/s; the BNO055's fusion sets its own (±4 g, ±2000 °/s), so leave them unset", bno055.ErrInvalidOpts, c.AccelRangeG, c.GyroRangeDPS)
	}
	if c.FIFO == FIFOOn {
		return nil, fmt.Errorf("%w: --fifo on; the BNO055 has no FIFO (use auto or off)", bno055.ErrInvalidOpts)
	}
	return &bno055.Opts{RateHz: c.RateHz, MaxErrors: c.MaxErrors}, nil
}

// Validate checks c without touching the hardware. With Kind "auto" the
// options must suit at least one family; Open checks them again against the
// chip it finds.
func (c *Config) Validate() error {
	k := c.kind()
	valid := false
	for _, v := range kinds {
		valid = valid || k == v
	}
	if !valid {
		return fmt.Errorf("detect: unknown sensor %q; valid: %s (and sim, which is not on I²C)", string(c.Kind), joinKinds(kinds))
	}
	switch c.FIFO {
	case "", FIFOAuto, FIFOOn, FIFOOff:
	default:
		return fmt.Errorf("detect: FIFO mode %q; valid: auto, on, off", string(c.FIFO))
	}
	var at []Kind
	if c.Addr != 0 {
		at = kindsAt(c.Addr)
		if len(at) == 0 || (k != Auto && !slices.Contains(at, k)) {
			what := "a supported IMU"
			if k != Auto {
				what = "an " + string(k)
			}
			return fmt.Errorf("detect: address %#02x is not %s address; valid: %s", c.Addr, what, hexAddrs(addrs(k)))
		}
	}
	// The families the options must suit one of.
	fams := at
	if k != Auto {
		fams = []Kind{k}
	} else if fams == nil {
		fams = kinds[1:]
	}
	var errs []error
	for _, f := range fams {
		errs = append(errs, c.validateFor(f))
	}
	for _, err := range errs {
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("detect: %w", errors.Join(errs...))
}

// validateFor checks c's options against family k's driver.
func (c *Config) validateFor(k Kind) error {
	switch k {
	case MPU6050:
		return c.mpuOpts().Validate()
	case LSM9DS1:
		o, err := c.lsmOpts()
		if err == nil {
			err = o.Validate()
		}
		return err
	case ICM20948:
		o, err := c.icmOpts()
		if err == nil {
			err = o.Validate()
		}
		return err
	case LSM6DSOX:
		o, err := c.lsm6Opts()
		if err == nil {
			err = o.Validate()
		}
		return err
	case BNO055:
		o, err := c.bnoOpts()
		if err == nil {
			err = o.Validate()
		}
		return err
	}
	return nil
}

func joinKinds(k []Kind) string {
	s := make([]string, len(k))
	for i, v := range k {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

func hexAddrs(a []uint16) string {
	s := make([]string, len(a))
	for i, v := range a {
		s[i] = "0x" + strconv.FormatUint(uint64(v), 16)
	}
	return strings.Join(s, ", ")
}

// InvalidOpts reports whether err is a driver refusing its settings (a
// driver's ErrInvalidOpts): the caller's configuration, not the bus or
// the chip.
func InvalidOpts(err error) bool {
	return errors.Is(err, mpu6050.ErrInvalidOpts) || errors.Is(err, lsm9ds1.ErrInvalidOpts) || errors.Is(err, icm20948.ErrInvalidOpts) ||
		errors.Is(err, lsm6dsox.ErrInvalidOpts) || errors.Is(err, bno055.ErrInvalidOpts)
}
