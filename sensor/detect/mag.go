package detect

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3/i2c"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/ak8963"
	"github.com/imustream/imustream/sensor/lsm9ds1"
	"github.com/imustream/imustream/sensor/mpu6050"
)

// openMag opens the magnetometer of the chip found, if it has one and its
// driver does not read it itself.
func (d *Device) openMag(bus i2c.Bus) {
	if d.Mag != nil || sensor.HasMag(d.Sensor) {
		return
	}
	switch m := d.Sensor.(type) {
	case *mpu6050.Dev:
		if c := m.Chip(); c != mpu6050.MPU9250 && c != mpu6050.MPU9255 {
			d.MagErr = fmt.Errorf("detect: the %s has no magnetometer", c)
			return
		}
		mag, err := ak8963.New(bus, &ak8963.Opts{Bypass: d.Found.Addr})
		if err != nil {
			d.MagErr = fmt.Errorf("detect: %w", err)
			return
		}
		d.Mag = mag
	case *lsm9ds1.Dev:
		var errs []error
		for _, addr := range []uint16{lsm9ds1.MagAddrLow, lsm9ds1.MagAddrHigh} {
			mag, err := lsm9ds1.NewMag(bus, addr, nil)
			if err == nil {
				d.Mag = mag
				return
			}
			errs = append(errs, err)
		}
		d.MagErr = fmt.Errorf("detect: %w", errors.Join(errs...))
	default:
		d.MagErr = errors.New("detect: no magnetometer on this chip")
	}
}

// HasMag implements sensor.MagSensor: a magnetometer Read adds, or one
// the IMU's driver reads.
func (d *Device) HasMag() bool { return d.Mag != nil || sensor.HasMag(d.Sensor) }

// HasOrientation implements sensor.OrientationSensor: the IMU fuses on
// board (the BNO055).
func (d *Device) HasOrientation() bool { return sensor.HasOrientation(d.Sensor) }

// MagStats returns the magnetometer's counters (zero without one).
func (d *Device) MagStats() sensor.Stats {
	if c, ok := d.Mag.(sensor.Counted); ok {
		return c.Stats()
	}
	return sensor.Stats{}
}
