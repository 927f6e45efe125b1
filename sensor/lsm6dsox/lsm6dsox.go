package lsm6dsox

import (
	"fmt"
	"math"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/i2c"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/fifo"
)

// WhoAmIError says that the device at Addr is not a chip of the family.
type WhoAmIError struct {
	Addr uint16
	Got  byte
}

func (e *WhoAmIError) Error() string {
	return fmt.Sprintf("lsm6dsox: unexpected WHO_AM_I 0x%02x at %#02x; expected %s", e.Got, e.Addr, Expected())
}

// Dev is a chip of the LSM6DSOX family on an I²C bus.
//
// Read and ReadBatch are for one goroutine; Stats may be called from any.
type Dev struct {
	bus  i2c.Bus
	addr uint16
	chip Chip
	set  settings

	accelScale, gyroScale float64 // SI unit per LSB

	burst sensor.Burst
	w     [2]byte
	buf   [burstLen]byte

	fifo  *fifo.Tracker
	fbuf  [fifoBufLen]byte
	slot  slot    // a sample whose words a burst split
	tempC float32 // the latest batched temperature

	pat patState // the LSM6DS3TR-C's FIFO
}

// slot gathers the gyroscope and accelerometer words of one sample.
type slot struct {
	cnt        byte
	g, a       [3]int16
	haveG, hvA bool
}

// New identifies the chip at addr (0x6A or 0x6B), resets and configures
// it; nil opts means DefaultOpts. Nothing answering wraps
// sensor.ErrNotFound; another chip is a *WhoAmIError; bad opts wrap
// ErrInvalidOpts.
func New(bus i2c.Bus, addr uint16, opts *Opts) (*Dev, error) {
	if addr != AddrLow && addr != AddrHigh {
		return nil, fmt.Errorf("%w: address %#02x; valid: 0x6a (SDO low), 0x6b (SDO high)", ErrInvalidOpts, addr)
	}
	s, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	d := &Dev{bus: bus, addr: addr, set: s,
		accelScale: s.accelMG * 1e-3 * sensor.StandardGravity,
		gyroScale:  s.gyroMDPS * 1e-3 * math.Pi / 180,
	}
	d.burst = sensor.Burst{
		Recovery: sensor.Recovery{MaxErrors: s.opts.MaxErrors},
		Name:     "lsm6dsox",
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

// String returns e.g. "ism330dhcx@0x6a".
func (d *Dev) String() string { return fmt.Sprintf("%s@%#02x", chipInfo[d.chip].short, d.addr) }

// HasMag implements sensor.MagSensor: with Opts.Mag, its field is read
// with every sample.
func (d *Dev) HasMag() bool { return d.set.opts.Mag != nil }

// Chip returns the chip identified by WHO_AM_I.
func (d *Dev) Chip() Chip { return d.chip }

// ODRHz returns the output data rate the chip runs at.
func (d *Dev) ODRHz() float64 { return odrs[d.set.odr] }

// Stats returns the counters; safe to call concurrently with Read.
func (d *Dev) Stats() sensor.Stats {
	st := d.burst.Stats()
	if d.fifo != nil {
		st.FIFOOverflows = d.fifo.Overflows()
	}
	return st
}

// Read implements sensor.Sensor with one burst (and one more for the
// magnetometer). Flags and faults are handled as in package mpu6050.
func (d *Dev) Read(s *sensor.Sample) error {
	if err := d.burst.Read(s, d.buf[:]); err != nil {
		return err
	}
	b := &d.buf
	var acc, gyr [3]int16
	for i := range 3 {
		gyr[i] = le16(b[2+2*i:])
		acc[i] = le16(b[8+2*i:])
	}
	s.TempC = tempC(le16(b[0:]))
	d.burst.GoodCounts(s, acc, gyr, d.accelScale, d.gyroScale)
	d.readMag(s)
	return nil
}

// readMag adds the magnetometer's field; a failed read leaves the sample
// without one rather than failing the IMU's.
func (d *Dev) readMag(s *sensor.Sample) {
	if d.set.opts.Mag == nil {
		return
	}
	if err := d.set.opts.Mag.ReadMag(s); err != nil {
		s.Status &^= sensor.StatusMag | sensor.StatusMagOverflow
	}
}

// tempC converts OUT_TEMP: 256 LSB/°C, 0 at 25 °C (datasheet table 3).
func tempC(raw int16) float32 { return float32(25 + float64(raw)/256) }

func le16(b []byte) int16 { return int16(uint16(b[0]) | uint16(b[1])<<8) }

// Halt powers the accelerometer and gyroscope down (ODR 0).
func (d *Dev) Halt() error {
	if err := d.writeReg(regCtrl1XL, 0); err != nil {
		return fmt.Errorf("lsm6dsox: power down accelerometer: %w", err)
	}
	if err := d.writeReg(regCtrl2G, 0); err != nil {
		return fmt.Errorf("lsm6dsox: power down gyroscope: %w", err)
	}
	return nil
}

const resetDelay = 10 * time.Millisecond

var doSleep = time.Sleep

func (d *Dev) init(reset bool) error {
	d.w[0] = regWhoAmI
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:1]); err != nil {
		return fmt.Errorf("lsm6dsox: reading WHO_AM_I at %#02x: %w (%w)", d.addr, err, sensor.ErrNotFound)
	}
	chip, ok := ChipFromWhoAmI(d.buf[0])
	if !ok {
		return &WhoAmIError{Addr: d.addr, Got: d.buf[0]}
	}
	if d.set.opts.GyroRange == Gyro4000DPS && chip != ISM330DHCX {
		return fmt.Errorf("%w: gyroscope range 4000 °/s on the %s; valid: 125, 250, 500, 1000, 2000 °/s", ErrInvalidOpts, chip)
	}
	d.chip = chip
	if reset {
		if err := d.writeReg(regCtrl3C, ctrl3SWReset|ctrl3IfInc); err != nil {
			return fmt.Errorf("lsm6dsox: reset: %w", err)
		}
		doSleep(resetDelay)
	}
	writes := [...]struct {
		reg, val byte
		name     string
	}{
		{regCtrl3C, ctrl3BDU | ctrl3IfInc, "CTRL3_C"},
		{regCtrl1XL, d.set.odr<<4 | d.set.accelFS<<2, "CTRL1_XL"},
		{regCtrl2G, d.set.odr<<4 | d.set.gyroBits, "CTRL2_G"},
	}
	for _, w := range writes {
		if err := d.writeReg(w.reg, w.val); err != nil {
			return fmt.Errorf("lsm6dsox: writing %s: %w", w.name, err)
		}
	}
	if m := d.set.opts.Mag; m != nil {
		if err := m.Init(reset); err != nil {
			return fmt.Errorf("lsm6dsox: magnetometer: %w", err)
		}
	}
	if d.fifoOn() {
		return d.initFIFO()
	}
	return nil
}

func (d *Dev) writeReg(reg, val byte) error {
	d.w = [2]byte{reg, val}
	return d.bus.Tx(d.addr, d.w[:], nil)
}

var (
	_ conn.Resource  = (*Dev)(nil)
	_ sensor.Sensor  = (*Dev)(nil)
	_ sensor.Batcher = (*Dev)(nil)
)
