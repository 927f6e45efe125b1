// Package sensor defines the IMU sample and the interface every sensor
// driver (a real chip or the simulator) implements.
//
// Units are SI throughout: acceleration in m/s² (specific force, so a device
// at rest reads +9.80665 m/s² along the axis pointing up), angular rate in
// rad/s, temperature in °C.
package sensor

import (
	"errors"
	"fmt"
)

// StandardGravity is g₀ in m/s².
const StandardGravity = 9.80665

// Status is a set of per-sample flags. The bit values are the ones carried
// on the wire (docs/protocol.md), so they must never be renumbered.
type Status uint16

const (
	// StatusSensorError: the sensor read failed; the values are the last
	// good ones (or zero if there were none).
	StatusSensorError Status = 1 << 0
	// StatusLate: the tick fired more than a quarter period after its
	// deadline.
	StatusLate Status = 1 << 1
	// StatusSkipped: one or more ticks before this one were skipped because
	// the schedule fell a whole period or more behind.
	StatusSkipped Status = 1 << 2
	// StatusSaturated: an accelerometer or gyroscope axis is at full scale.
	StatusSaturated Status = 1 << 3
	// StatusReinit: the driver re-initialised the chip before this read.
	StatusReinit Status = 1 << 4
	// StatusPressure: PressurePa holds a fresh barometer reading.
	StatusPressure Status = 1 << 5
	// StatusMag: Mag holds a fresh magnetometer reading.
	StatusMag Status = 1 << 6
	// StatusOrientation: Quat holds an orientation (a fusion stage's or an
	// on-chip fusion's).
	StatusOrientation Status = 1 << 7
	// StatusMagOverflow: a magnetometer axis overflowed; Mag is not valid.
	StatusMagOverflow Status = 1 << 8
	// StatusFIFOOverflow: the sensor's FIFO overflowed before this sample;
	// samples were lost between it and the one before.
	StatusFIFOOverflow Status = 1 << 9
	// Bits 10..15 are an on-chip fusion's calibration status, as in the
	// flags table of docs/protocol.md.
	//
	// StatusCalSys0, StatusCalSys1: an on-chip fusion's (BNO055) system
	// calibration level 0..3 in bits 10..11 (CalSysLevel reads it).
	StatusCalSys0 Status = 1 << 10
	StatusCalSys1 Status = 1 << 11
	// StatusCalMag0, StatusCalMag1: its magnetometer calibration level
	// 0..3 in bits 12..13 (CalMagLevel).
	StatusCalMag0 Status = 1 << 12
	StatusCalMag1 Status = 1 << 13
	// StatusCalGyro: its gyroscope is fully calibrated (level 3).
	StatusCalGyro Status = 1 << 14
	// StatusCalAccel: its accelerometer is fully calibrated (level 3).
	StatusCalAccel Status = 1 << 15
	// StatusCalMask is every calibration bit.
	StatusCalMask = StatusCalSys0 | StatusCalSys1 | StatusCalMag0 | StatusCalMag1 | StatusCalGyro | StatusCalAccel
)

// CalSysLevel is the system calibration level 0..3 in s.
func (s Status) CalSysLevel() int { return int(s>>10) & 3 }

// CalMagLevel is the magnetometer calibration level 0..3 in s.
func (s Status) CalMagLevel() int { return int(s>>12) & 3 }

// Sample is one reading. It is plain data, reused by the caller from tick
// to tick.
type Sample struct {
	// MonoNs is the CLOCK_MONOTONIC time of the read in ns. The caller sets
	// it before Read; drivers may use it (the simulator does).
	MonoNs int64
	// WallNs is the CLOCK_REALTIME time of the read in ns since the Unix
	// epoch, set by the caller.
	WallNs int64
	// LateNs is how long after its deadline the tick fired, set by the
	// caller.
	LateNs int64

	Accel [3]float32 // m/s², sensor or body frame x, y, z
	Gyro  [3]float32 // rad/s
	TempC float32    // °C
	// PressurePa is the barometric pressure in Pa, meaningful only with
	// StatusPressure set. The IMU's tick does not read the barometer: it
	// copies the latest value a slower goroutine read.
	PressurePa float32
	// Mag is the magnetic field in µT, meaningful only with StatusMag.
	Mag [3]float32
	// Quat is the orientation as a unit quaternion w, x, y, z, meaningful
	// only with StatusOrientation (the frames are in docs/protocol.md).
	Quat [4]float32
	// Status is set by the driver (sensor bits) and the caller (timing bits).
	Status Status
}

// Sensor reads an IMU into a caller-owned sample.
//
// Read must not allocate: it runs on every tick of the hot path. On error it
// leaves the previous values in place; the caller flags the sample. Read is
// called from one goroutine at a time.
type Sensor interface {
	Read(s *Sample) error
	// String names the sensor for logs and status replies, e.g. "mpu6050@0x68".
	String() string
	// Halt stops the sensor and releases what it holds.
	Halt() error
}

// ErrNotFound is returned (wrapped) when no sensor answers where one was
// expected.
var ErrNotFound = errors.New("sensor: not found")

// Sample rates a sensor is read at, in Hz: the daemon's --rate, the
// calibration and the bench all take this range.
const (
	MinRateHz = 1
	MaxRateHz = 10000
)

// CheckRate says why hz is not a rate a sensor is read at, or nil.
func CheckRate(hz int) error {
	if hz < MinRateHz || hz > MaxRateHz {
		return fmt.Errorf("sensor: rate %d Hz out of range %d..%d", hz, MinRateHz, MaxRateHz)
	}
	return nil
}

// Counted is a sensor that keeps read counters (see Recovery); the
// daemon's status shows them.
type Counted interface {
	Stats() Stats
}

// MagSensor is a sensor whose samples carry a magnetometer's field (Mag
// with StatusMag): a chip with one, or a wrapper around such a chip.
type MagSensor interface {
	HasMag() bool
}

// HasMag reports whether sens, or a sensor it wraps (through
// Unwrap() Sensor), reads a magnetometer.
func HasMag(sens Sensor) bool {
	for sens != nil {
		if m, ok := sens.(MagSensor); ok && m.HasMag() {
			return true
		}
		w, ok := sens.(interface{ Unwrap() Sensor })
		if !ok {
			return false
		}
		sens = w.Unwrap()
	}
	return false
}
