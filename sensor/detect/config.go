package detect

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

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
	Auto    Kind = "auto"
	MPU6050 Kind = "mpu6050" // MPU-6050, 6500, 9250, 9255
	LSM9DS1 Kind = "lsm9ds1"
)

// Barometer kinds, reported by Probe only.
const (
	BMP180 Kind = "bmp180"
	BMP280 Kind = "bmp280"
	BME280 Kind = "bme280"
)

// IMU reports whether k has a driver here.
func (k Kind) IMU() bool { return k == MPU6050 || k == LSM9DS1 }

// Barometer reports whether k is a barometer package baro reads.
func (k Kind) Barometer() bool { return k == BMP180 || k == BMP280 || k == BME280 }

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
	// Mag also reads the chip's magnetometer, if it has one (the
	// MPU-9250/9255's AK8963 through the bypass, the LSM9DS1's at 0x1C or
	// 0x1E), on every Read. One that is missing or does not open is no
	// error: Device.MagErr says why there is none. It defaults to false.
	Mag bool `json:"mag,omitempty"`
}

var kinds = []Kind{Auto, MPU6050, LSM9DS1}

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
	case MPU6050:
		return []uint16{mpu6050.AddrAD0Low, mpu6050.AddrAD0High}
	case LSM9DS1:
		return []uint16{lsm9ds1.AddrLow, lsm9ds1.AddrHigh}
	}
	return append(addrs(MPU6050), addrs(LSM9DS1)...)
}

// kindAt returns the family that lives at addr.
func kindAt(addr uint16) Kind {
	for _, k := range []Kind{MPU6050, LSM9DS1} {
		for _, a := range addrs(k) {
			if a == addr {
				return k
			}
		}
	}
	return ""
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
	if c.Addr != 0 {
		at := kindAt(c.Addr)
		if at == "" || (k != Auto && at != k) {
			what := "a supported IMU"
			if k != Auto {
				what = "an " + string(k)
			}
			return fmt.Errorf("detect: address %#02x is not %s address; valid: %s", c.Addr, what, hexAddrs(addrs(k)))
		}
		k = at
	}
	var errs []error
	if k == Auto || k == MPU6050 {
		errs = append(errs, c.mpuOpts().Validate())
	}
	if k == Auto || k == LSM9DS1 {
		o, err := c.lsmOpts()
		if err == nil {
			err = o.Validate()
		}
		errs = append(errs, err)
	}
	for _, err := range errs {
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("detect: %w", errors.Join(errs...))
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
