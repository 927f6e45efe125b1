package mpu6050

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
	Got  byte // the WHO_AM_I value read
}

func (e *WhoAmIError) Error() string {
	return fmt.Sprintf("mpu6050: unexpected WHO_AM_I 0x%02x at %#02x; expected %s", e.Got, e.Addr, Expected())
}

// Expected lists the WHO_AM_I values the driver accepts, for messages.
func Expected() string {
	return "0x68 (MPU-6050), 0x70 (MPU-6500), 0x71 (MPU-9250) or 0x73 (MPU-9255)"
}

// Stats counts what happened on the hot path.
type Stats = sensor.Stats

// Dev is an MPU-6050 family chip on an I²C bus.
//
// Read is meant for one goroutine; Stats may be called from any. Halt must
// not run concurrently with Read.
type Dev struct {
	bus  i2c.Bus
	addr uint16
	chip Chip
	opts Opts

	accelScale, gyroScale float64 // SI unit per LSB
	tempSens, tempOffset  float64

	burst sensor.Burst

	// Fixed buffers so that Read passes no new slice to the bus: a slice
	// handed to an interface method escapes and would be allocated.
	w   [2]byte
	buf [burstLen]byte

	fifo *fifo.Tracker  // with Opts.FIFO on a chip that has one
	fbuf [fifoSize]byte // one FIFO burst
}

// New identifies the chip at addr (0x68 or 0x69), resets it and configures
// it as opts says; nil opts means DefaultOpts.
//
// If nothing answers, the error wraps sensor.ErrNotFound and the bus error;
// if something else answers, it is a *WhoAmIError; invalid opts wrap
// ErrInvalidOpts.
func New(bus i2c.Bus, addr uint16, opts *Opts) (*Dev, error) {
	if addr != AddrAD0Low && addr != AddrAD0High {
		return nil, fmt.Errorf("%w: address %#02x; valid: 0x68 (AD0 low), 0x69 (AD0 high)", ErrInvalidOpts, addr)
	}
	o, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	d := &Dev{bus: bus, addr: addr, opts: o}
	d.burst = sensor.Burst{
		Recovery: sensor.Recovery{MaxErrors: o.MaxErrors},
		Name:     "mpu6050",
		Bus:      bus,
		Addr:     addr,
		Reg:      [1]byte{regAccelXOutH},
		Reinit:   func() error { return d.init(false) },
	}
	if err := d.init(true); err != nil {
		return nil, err
	}
	return d, nil
}

// String returns the chip and address, e.g. "mpu6050@0x68".
func (d *Dev) String() string {
	return fmt.Sprintf("%s@%#02x", chipInfo[d.chip].short, d.addr)
}

// Chip returns the chip identified by WHO_AM_I.
func (d *Dev) Chip() Chip { return d.chip }

// Opts returns the configuration in use, defaults filled in.
func (d *Dev) Opts() Opts { return d.opts }

// Stats returns the counters. It is safe to call concurrently with Read.
func (d *Dev) Stats() Stats {
	st := d.burst.Stats()
	if d.fifo != nil {
		st.FIFOOverflows = d.fifo.Overflows()
	}
	return st
}

// Read implements sensor.Sensor with one burst transaction.
//
// On a good read it fills Accel, Gyro and TempC, clears StatusSensorError,
// sets StatusSaturated if an axis reads full scale and StatusReinit if the
// chip was re-initialised just before. On a failed read it sets
// StatusSensorError, clears StatusReinit and leaves the values alone. After
// Opts.MaxErrors consecutive failures every Read first re-initialises the
// chip (without the 100 ms reset) until that works. The caller's timing bits
// are never touched.
func (d *Dev) Read(s *sensor.Sample) error {
	if err := d.burst.Read(s, d.buf[:]); err != nil {
		return err
	}
	d.decode(s, d.buf[:])
	return nil
}

// Halt puts the chip to sleep (a few µA). A sleeping chip still answers
// with stale data, so make a new Dev with New to use it again.
func (d *Dev) Halt() error {
	if err := d.writeReg(regPwrMgmt1, pwrSleep|pwrClkSel1); err != nil {
		return fmt.Errorf("mpu6050: sleep: %w", err)
	}
	return nil
}

// resetDelay is how long the chip needs after DEVICE_RESET (the datasheets
// give 100 ms).
const resetDelay = 100 * time.Millisecond

// doSleep is replaced in tests.
var doSleep = time.Sleep

// init identifies the chip and configures it. With reset it first resets
// every register; the re-initialisation on the hot path skips that to avoid
// stalling the caller for 100 ms: wake-up and the configuration writes
// restore a chip that lost power as well.
func (d *Dev) init(reset bool) error {
	d.w[0] = regWhoAmI
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:1]); err != nil {
		return fmt.Errorf("mpu6050: reading WHO_AM_I at %#02x: %w (%w)", d.addr, err, sensor.ErrNotFound)
	}
	chip, ok := ChipFromWhoAmI(d.buf[0])
	if !ok {
		return &WhoAmIError{Addr: d.addr, Got: d.buf[0]}
	}
	d.setChip(chip)

	if reset {
		if err := d.writeReg(regPwrMgmt1, pwrDeviceReset); err != nil {
			return fmt.Errorf("mpu6050: reset: %w", err)
		}
		doSleep(resetDelay)
	}
	accelSel, _, _ := d.opts.AccelRange.afsSel()
	gyroSel, _, _ := d.opts.GyroRange.fsSel()
	dlpf, _ := d.opts.DLPF.cfg()
	writes := [...]struct {
		reg, val byte
		name     string
	}{
		{regPwrMgmt1, pwrClkSel1, "PWR_MGMT_1"}, // awake, PLL clock
		{regPwrMgmt2, pwrAllAxesOn, "PWR_MGMT_2"},
		{regSmplrtDiv, byte(internalRateHz/d.opts.RateHz - 1), "SMPLRT_DIV"},
		{regConfig, dlpf | configFIFOModeIf(d.fifoOn()), "CONFIG"},
		{regGyroConfig, gyroSel << fsShift, "GYRO_CONFIG"},
		{regAccelConfig, accelSel << fsShift, "ACCEL_CONFIG"},
		{regAccelConfig2, dlpf, "ACCEL_CONFIG2"},
	}
	n := len(writes)
	if !chip.hasAccelConfig2() {
		n-- // Register 0x1D is reserved (FF_THR on some revisions) on the MPU-6050.
	}
	for _, w := range writes[:n] {
		if err := d.writeReg(w.reg, w.val); err != nil {
			return fmt.Errorf("mpu6050: writing %s: %w", w.name, err)
		}
	}
	if d.fifoOn() {
		return d.initFIFO()
	}
	return nil
}

func configFIFOModeIf(on bool) byte {
	if on {
		return configFIFOMode
	}
	return 0
}

func (d *Dev) setChip(c Chip) {
	d.chip = c
	_, lsbPerG, _ := d.opts.AccelRange.afsSel()
	_, lsbPerDPS, _ := d.opts.GyroRange.fsSel()
	d.accelScale = sensor.StandardGravity / lsbPerG
	d.gyroScale = math.Pi / 180 / lsbPerDPS
	d.tempSens = chipInfo[c].tempSens
	d.tempOffset = chipInfo[c].tempOffset
}

func (d *Dev) writeReg(reg, val byte) error {
	d.w = [2]byte{reg, val}
	return d.bus.Tx(d.addr, d.w[:], nil)
}

var (
	_ conn.Resource = (*Dev)(nil)
	_ sensor.Sensor = (*Dev)(nil)
)
