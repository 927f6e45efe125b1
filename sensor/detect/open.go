package detect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"periph.io/x/conn/v3/i2c"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/bno055"
	"github.com/imustream/imustream/sensor/icm20948"
	"github.com/imustream/imustream/sensor/lis3mdl"
	"github.com/imustream/imustream/sensor/lsm6dsox"
	"github.com/imustream/imustream/sensor/lsm9ds1"
	"github.com/imustream/imustream/sensor/mpu6050"
)

// found returns what the probe found at addr.
func (d *Device) found(addr uint16) Found {
	for _, f := range d.Probed {
		if f.Addr == addr {
			return f
		}
	}
	return Found{Addr: addr}
}

// open opens family k's driver at addr into d.
func (d *Device) open(bus i2c.Bus, k Kind, addr uint16, cfg *Config) error {
	switch k {
	case MPU6050:
		m, err := mpu6050.New(bus, addr, cfg.mpuOpts())
		if err != nil {
			return err
		}
		d.Sensor = m
		d.Found = Found{Addr: addr, Kind: MPU6050, Chip: m.Chip().String(), IDReg: regMPUWhoAmI, ID: m.Chip().WhoAmI()}
	case LSM9DS1:
		o, err := cfg.lsmOpts()
		if err != nil {
			return err
		}
		l, err := lsm9ds1.New(bus, addr, o)
		if err != nil {
			return err
		}
		d.Sensor = l
		d.Found = Found{Addr: addr, Kind: LSM9DS1, Chip: "LSM9DS1", IDReg: regLSMWhoAmI, ID: 0x68}
	case ICM20948:
		o, err := cfg.icmOpts()
		if err != nil {
			return err
		}
		c, err := icm20948.New(bus, addr, o)
		if err != nil {
			return err
		}
		d.Sensor = c
		d.Found = Found{Addr: addr, Kind: ICM20948, Chip: "ICM-20948", IDReg: regICMWhoAmI, ID: 0xEA}
	case LSM6DSOX:
		o, err := cfg.lsm6Opts()
		if err != nil {
			return err
		}
		if m := d.openLIS3MDL(bus); m != nil {
			o.Mag, d.Mag, d.ownMag = m, m, true
		}
		l, err := lsm6dsox.New(bus, addr, o)
		if err != nil {
			return err
		}
		d.Sensor = l
		d.Found = Found{Addr: addr, Kind: LSM6DSOX, Chip: l.Chip().String(), IDReg: regLSMWhoAmI, ID: l.Chip().WhoAmI()}
	case BNO055:
		o, err := cfg.bnoOpts()
		if err != nil {
			return err
		}
		b, err := bno055.New(bus, addr, o)
		if err != nil {
			return err
		}
		d.Sensor = b
		d.Found = Found{Addr: addr, Kind: BNO055, Chip: "BNO055", IDReg: regBNOChipID, ID: 0xA0}
		d.Warning = stretchWarning(cfg.bus())
	default:
		return fmt.Errorf("detect: no driver for %q at %#02x", k, addr)
	}
	if _, ok := sensor.AsBatcher(d.Sensor); cfg.FIFO == FIFOOn && !ok {
		err := fmt.Errorf("detect: --fifo on: the %s at %#02x is read one sample at a time (this driver reads no FIFO of it); use --fifo auto or off", d.Found.Chip, addr)
		return errors.Join(err, d.Sensor.Halt())
	}
	return nil
}

// openLIS3MDL opens the LIS3MDL the probe found, or that answers now when
// the IMU's address was given; nil when there is none.
func (d *Device) openLIS3MDL(bus i2c.Bus) *lis3mdl.Dev {
	for _, a := range []uint16{lis3mdl.AddrLow, lis3mdl.AddrHigh} {
		f := d.found(a)
		if d.Probed == nil {
			var ok bool
			if f, ok = probeOne(bus, a); !ok {
				continue
			}
		}
		if f.Kind != LIS3MDL || f.Chip != "LIS3MDL" {
			continue
		}
		m, err := lis3mdl.New(bus, a, nil)
		if err != nil {
			d.MagErr = fmt.Errorf("detect: %w", err)
			return nil
		}
		return m
	}
	return nil
}

// sysI2C is where sysfs lists the I²C adapters; tests replace it.
var sysI2C = "/sys/bus/i2c/devices"

// stretchWarning says what to do about the BNO055's clock stretching when
// bus is a BCM2835-family controller (Pi Zero to 4) running faster than
// 10 kHz, from the device tree in sysfs; "" when it is not, or unknown.
func stretchWarning(bus string) string {
	n, ok := busNumber(bus)
	if !ok {
		return ""
	}
	node := filepath.Join(sysI2C, "i2c-"+n, "of_node")
	compat, err := os.ReadFile(filepath.Join(node, "compatible"))
	if err != nil || !strings.Contains(string(compat), "brcm,bcm2835-i2c") {
		return ""
	}
	hz := uint32(100000) // the driver's default when the node says nothing
	if b, err := os.ReadFile(filepath.Join(node, "clock-frequency")); err == nil && len(b) == 4 {
		hz = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	}
	if hz <= 10000 {
		return ""
	}
	return fmt.Sprintf("the BNO055 stretches the I²C clock, which this Pi's controller (BCM2835 family, I²C bus %s at %d Hz) does not always honour: expect garbled reads (counted as sensor errors); set dtparam=i2c_arm_baudrate=10000 in config.txt, or use the i2c-gpio overlay", n, hz)
}
