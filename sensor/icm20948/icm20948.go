package icm20948

import (
	"errors"
	"fmt"
	"math"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/i2c"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/fifo"
)

// WhoAmIError says that the device at Addr is not an ICM-20948.
type WhoAmIError struct {
	Addr uint16
	Got  byte
}

func (e *WhoAmIError) Error() string {
	return fmt.Sprintf("icm20948: unexpected WHO_AM_I 0x%02x at %#02x; expected %s", e.Got, e.Addr, Expected())
}

// Expected describes the WHO_AM_I the driver accepts.
func Expected() string { return "0xea (ICM-20948)" }

// IsWhoAmI reports whether v is the ICM-20948's WHO_AM_I.
func IsWhoAmI(v byte) bool { return v == whoAmI }

// ErrNoMag is wrapped when the AK09916 does not answer through the I²C
// master.
var ErrNoMag = errors.New("icm20948: the AK09916 magnetometer does not answer")

// Dev is an ICM-20948 on an I²C bus. Read and ReadBatch are for one
// goroutine; Stats may be called from any.
type Dev struct {
	bus  i2c.Bus
	addr uint16
	set  settings

	accelScale, gyroScale float64

	burst sensor.Burst
	w     [2]byte
	buf   [burstLen]byte

	fifo *fifo.Tracker
	fbuf [maxFrames * frameLen]byte
}

// New checks WHO_AM_I at addr (0x68 or 0x69), resets the chip, configures
// it and starts the magnetometer; nil opts means DefaultOpts.
func New(bus i2c.Bus, addr uint16, opts *Opts) (*Dev, error) {
	if addr != AddrAD0Low && addr != AddrAD0High {
		return nil, fmt.Errorf("%w: address %#02x; valid: 0x68 (AD0 low), 0x69 (AD0 high)", ErrInvalidOpts, addr)
	}
	s, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	d := &Dev{bus: bus, addr: addr, set: s,
		accelScale: sensor.StandardGravity / s.lsbPerG,
		gyroScale:  math.Pi / 180 / s.lsbPerDPS,
	}
	d.burst = sensor.Burst{
		Recovery: sensor.Recovery{MaxErrors: s.opts.MaxErrors},
		Name:     "icm20948",
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

// String returns e.g. "icm20948@0x69".
func (d *Dev) String() string { return fmt.Sprintf("icm20948@%#02x", d.addr) }

// HasMag implements sensor.MagSensor: the AK09916 is read unless
// Opts.NoMag.
func (d *Dev) HasMag() bool { return !d.set.opts.NoMag }

// ODRHz returns the output data rate the chip runs at.
func (d *Dev) ODRHz() float64 { return odrHz(d.set.div) }

// Stats returns the counters; safe to call concurrently with Read.
func (d *Dev) Stats() sensor.Stats {
	st := d.burst.Stats()
	if d.fifo != nil {
		st.FIFOOverflows = d.fifo.Overflows()
	}
	return st
}

// Read implements sensor.Sensor with one burst: the motion registers and,
// unless Opts.NoMag, the magnetometer's copy behind them.
func (d *Dev) Read(s *sensor.Sample) error {
	n := imuLen
	if !d.set.opts.NoMag {
		n = burstLen
	}
	if err := d.burst.Read(s, d.buf[:n]); err != nil {
		return err
	}
	d.decode(s, d.buf[:imuLen])
	if !d.set.opts.NoMag {
		decodeMag(s, d.buf[imuLen:burstLen])
	}
	return nil
}

// decode converts 14 bytes of accel, gyro, temp (big-endian) into s.
func (d *Dev) decode(s *sensor.Sample, b []byte) {
	_ = b[13]
	var acc, gyr [3]int16
	for i := range 3 {
		acc[i] = be16(b[2*i:])
		gyr[i] = be16(b[6+2*i:])
	}
	// Datasheet 8.33: (TEMP_OUT − RoomTemp_Offset)/333.87 + 21, offset 0.
	s.TempC = float32(float64(be16(b[12:]))/333.87 + 21)
	d.burst.GoodCounts(s, acc, gyr, d.accelScale, d.gyroScale)
}

// decodeMag reads ST1, HXL…HZH, TMPS, ST2 (AK09916 9.3–9.4) into s.
func decodeMag(s *sensor.Sample, b []byte) {
	_ = b[8]
	s.Status &^= sensor.StatusMag | sensor.StatusMagOverflow
	if b[0]&akST1DRDY == 0 {
		return
	}
	for i := range 3 {
		s.Mag[i] = float32(float64(int16(uint16(b[1+2*i])|uint16(b[2+2*i])<<8)) * akUTPerLSB)
	}
	s.Status |= sensor.StatusMag
	if b[8]&akST2HOFL != 0 {
		s.Status |= sensor.StatusMagOverflow
	}
}

func be16(b []byte) int16 { return int16(uint16(b[0])<<8 | uint16(b[1])) }

// Halt puts the chip to sleep.
func (d *Dev) Halt() error {
	if err := d.writeReg(regPwrMgmt1, pwrSleep|pwrClkAuto); err != nil {
		return fmt.Errorf("icm20948: sleep: %w", err)
	}
	return nil
}

// resetDelay: the datasheet gives 100 ms start-up after a reset; the
// AK09916 needs a few ms per single I²C-master transaction (slvDelay).
const (
	resetDelay = 100 * time.Millisecond
	slvDelay   = 10 * time.Millisecond
)

var doSleep = time.Sleep

// init checks WHO_AM_I and configures the chip. Every write is a
// register of one bank; the sequence ends in bank 0.
func (d *Dev) init(reset bool) error {
	if err := d.bank(0); err != nil {
		return fmt.Errorf("icm20948: selecting bank 0 at %#02x: %w (%w)", d.addr, err, sensor.ErrNotFound)
	}
	d.w[0] = regWhoAmI
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:1]); err != nil {
		return fmt.Errorf("icm20948: reading WHO_AM_I at %#02x: %w (%w)", d.addr, err, sensor.ErrNotFound)
	}
	if d.buf[0] != whoAmI {
		return &WhoAmIError{Addr: d.addr, Got: d.buf[0]}
	}
	if reset {
		if err := d.writeReg(regPwrMgmt1, pwrDeviceReset); err != nil {
			return fmt.Errorf("icm20948: reset: %w", err)
		}
		doSleep(resetDelay)
	}
	s := &d.set
	user := byte(0)
	if !s.opts.NoMag {
		user |= userI2CMstEn
	}
	steps := []struct {
		bank, reg, val byte
		name           string
	}{
		{0, regPwrMgmt1, pwrClkAuto, "PWR_MGMT_1"},
		{0, regPwrMgmt2, 0x00, "PWR_MGMT_2"},
		{0, regUserCtrl, user, "USER_CTRL"},
		{2, regGyroSmplrtDiv, byte(s.div), "GYRO_SMPLRT_DIV"},
		{2, regGyroConfig1, s.gdlpf<<3 | s.gfs<<1 | 1, "GYRO_CONFIG_1"},
		{2, regAccelSmplrtDiv1, 0, "ACCEL_SMPLRT_DIV_1"},
		{2, regAccelSmplrtDiv2, byte(s.div), "ACCEL_SMPLRT_DIV_2"},
		{2, regAccelConfig, s.adlpf<<3 | s.afs<<1 | 1, "ACCEL_CONFIG"},
		{2, regODRAlignEn, 1, "ODR_ALIGN_EN"},
	}
	for _, st := range steps {
		if err := d.bankWrite(st.bank, st.reg, st.val); err != nil {
			return fmt.Errorf("icm20948: writing %s: %w", st.name, err)
		}
	}
	if !s.opts.NoMag {
		if err := d.initMag(reset); err != nil {
			return err
		}
	}
	if err := d.bank(0); err != nil {
		return fmt.Errorf("icm20948: selecting bank 0: %w", err)
	}
	if d.fifoOn() {
		return d.initFIFO(user)
	}
	return nil
}

// initMag checks the AK09916 through slave 4 (on the first init: the
// check waits for the master, which the hot path's re-initialisation
// must not), starts it at 100 Hz and has slave 0 copy its 9 bytes at
// every sample (datasheet 11.2–11.23).
func (d *Dev) initMag(check bool) error {
	if err := d.bankWrite(3, regI2CMstCtrl, mstClk345kHz); err != nil {
		return fmt.Errorf("icm20948: writing I2C_MST_CTRL: %w", err)
	}
	if check {
		if err := d.checkMag(); err != nil {
			return err
		}
	}
	steps := []struct {
		reg, val byte
		name     string
	}{
		{regSlv4Addr, akAddr, "I2C_SLV4_ADDR"},
		{regSlv4Reg, akCNTL2, "I2C_SLV4_REG"},
		{regSlv4DO, akCont100, "I2C_SLV4_DO"},
		{regSlv4Ctrl, slvEn, "I2C_SLV4_CTRL"},
		{regSlv0Addr, slvRead | akAddr, "I2C_SLV0_ADDR"},
		{regSlv0Reg, akST1, "I2C_SLV0_REG"},
		{regSlv0Ctrl, slvEn | akReadLen, "I2C_SLV0_CTRL"},
	}
	for _, st := range steps {
		if err := d.bankWrite(3, st.reg, st.val); err != nil {
			return fmt.Errorf("icm20948: writing %s: %w", st.name, err)
		}
	}
	return nil
}

// checkMag reads the AK09916's WIA2 through slave 4.
func (d *Dev) checkMag() error {
	steps := []struct {
		reg, val byte
		name     string
	}{
		{regSlv4Addr, slvRead | akAddr, "I2C_SLV4_ADDR"},
		{regSlv4Reg, akWIA2, "I2C_SLV4_REG"},
		{regSlv4Ctrl, slvEn, "I2C_SLV4_CTRL"},
	}
	for _, st := range steps {
		if err := d.bankWrite(3, st.reg, st.val); err != nil {
			return fmt.Errorf("icm20948: writing %s: %w", st.name, err)
		}
	}
	doSleep(slvDelay)
	d.w[0] = regSlv4DI
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:1]); err != nil {
		return fmt.Errorf("icm20948: reading I2C_SLV4_DI: %w", err)
	}
	if d.buf[0] != akWhoAmI {
		return fmt.Errorf("%w (WIA2 0x%02x, expected 0x09); set NoMag to go without it", ErrNoMag, d.buf[0])
	}
	return nil
}

// bank selects a register bank; bankWrite writes reg in bank b. The
// selection is not cached: a chip that browned out is back in bank 0,
// and every write says where it goes.
func (d *Dev) bank(b byte) error { return d.writeReg(regBankSel, b<<4) }

func (d *Dev) bankWrite(b, reg, val byte) error {
	if err := d.bank(b); err != nil {
		return err
	}
	return d.writeReg(reg, val)
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
