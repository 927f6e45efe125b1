package bno055

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"github.com/imustream/imustream/internal/leaktest"
	"github.com/imustream/imustream/sensor"
)

var sleeps []time.Duration

func TestMain(m *testing.M) {
	doSleep = func(d time.Duration) { sleeps = append(sleeps, d) }
	leaktest.Main(m)
}

// initOps (datasheet 3.3, 4.3): CHIP_ID, CONFIG mode, [reset], page 0,
// normal power, UNIT_SEL m/s² °/s °C, internal clock, NDOF.
func initOps(addr uint16, reset bool) []i2ctest.IO {
	ops := []i2ctest.IO{{Addr: addr, W: []byte{0x00}, R: []byte{0xA0}}, {Addr: addr, W: []byte{0x3D, 0x00}}}
	if reset {
		ops = append(ops, i2ctest.IO{Addr: addr, W: []byte{0x3F, 0x20}})
	}
	for _, w := range [][2]byte{{0x07, 0}, {0x3E, 0}, {0x3B, 0}, {0x3F, 0}, {0x3D, 0x0C}} {
		ops = append(ops, i2ctest.IO{Addr: addr, W: w[:]})
	}
	return ops
}

type regs struct {
	acc, mag, gyr [3]int16
	quat          [4]int16
	temp          int8
	calib         byte
}

func le(b []byte, v int16) []byte { return append(b, byte(v), byte(uint16(v)>>8)) }

// burst encodes 0x08..0x35 (table 4-2); Euler, linear acceleration and
// gravity are filled with a pattern the driver must skip.
func burst(addr uint16, r regs) i2ctest.IO {
	var b []byte
	for _, v := range r.acc {
		b = le(b, v)
	}
	for _, v := range r.mag {
		b = le(b, v)
	}
	for _, v := range r.gyr {
		b = le(b, v)
	}
	for range 6 {
		b = append(b, 0x5A)
	}
	for _, v := range r.quat {
		b = le(b, v)
	}
	for range 12 {
		b = append(b, 0xA5)
	}
	b = append(b, byte(r.temp), r.calib)
	return i2ctest.IO{Addr: addr, W: []byte{0x08}, R: b}
}

func near(got float32, want float64) bool {
	return math.Abs(float64(got)-want) <= 1e-6*math.Max(math.Abs(want), 1e-3)
}

func TestNewAndChipID(t *testing.T) {
	sleeps = nil
	pb := &i2ctest.Playback{DontPanic: true, Ops: initOps(0x28, true)}
	d, err := New(pb, 0x28, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
	if d.String() != "bno055@0x28" {
		t.Error(d)
	}
	// 19 ms to CONFIG, 650 ms after the reset, 7 ms to NDOF (table 3-6).
	if len(sleeps) != 3 || sleeps[0] < 19*time.Millisecond || sleeps[1] < 650*time.Millisecond || sleeps[2] < 7*time.Millisecond {
		t.Errorf("sleeps %v", sleeps)
	}
	for _, id := range []byte{0x00, 0xA1, 0xFB, 0xFF} {
		pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{{Addr: 0x29, W: []byte{0x00}, R: []byte{id}}}}
		_, err := New(pb, 0x29, nil)
		var ie *IDError
		if !errors.As(err, &ie) || ie.Got != id || !strings.Contains(err.Error(), "0xa0 (BNO055)") {
			t.Errorf("CHIP_ID %#x: %v", id, err)
		}
	}
	if _, err := New(&i2ctest.Playback{DontPanic: true}, 0x28, nil); !errors.Is(err, sensor.ErrNotFound) {
		t.Errorf("nothing there: %v", err)
	}
	for _, o := range []Opts{{RateHz: 200}, {RateHz: -1}, {MaxErrors: -2}} {
		if _, err := New(&i2ctest.Playback{DontPanic: true}, 0x28, &o); !errors.Is(err, ErrInvalidOpts) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if err := (&Opts{RateHz: 200}).Validate(); err == nil || !strings.Contains(err.Error(), "1 to 100 Hz") {
		t.Errorf("rate 200: %v", err)
	}
}

// The NDOF ranges are fixed (3.5.2); UNIT_SEL 0 gives 1 m/s² = 100 LSB,
// 1 µT = 16 LSB, 1 °/s = 16 LSB, quaternion 1 = 2¹⁴ LSB, 1 °C = 1 LSB
// (3.6.4, tables 3-17 to 3-21).
func TestScaling(t *testing.T) {
	// A 90° turn about Z: w = z = √½.
	h := int16(math.Round(math.Sqrt(0.5) * (1 << 14)))
	r := regs{acc: [3]int16{981, -12, 3}, mag: [3]int16{400, -160, 8}, gyr: [3]int16{16, -32, 1600},
		quat: [4]int16{h, 0, 0, h}, temp: -5, calib: 0xFF}
	pb := &i2ctest.Playback{DontPanic: true, Ops: append(initOps(0x28, true), burst(0x28, r))}
	d, err := New(pb, 0x28, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if !near(s.Accel[i], float64(r.acc[i])/100) || !near(s.Mag[i], float64(r.mag[i])/16) || !near(s.Gyro[i], float64(r.gyr[i])/16*math.Pi/180) {
			t.Errorf("axis %d: accel %v mag %v gyro %v", i, s.Accel[i], s.Mag[i], s.Gyro[i])
		}
	}
	if !near(s.Quat[0], float64(h)/16384) || s.Quat[1] != 0 || !near(s.Quat[3], float64(h)/16384) || s.TempC != -5 {
		t.Errorf("quat %v temp %v", s.Quat, s.TempC)
	}
	want := sensor.StatusMag | sensor.StatusOrientation | sensor.StatusCalMask
	if s.Status != want || s.Status.CalSysLevel() != 3 || s.Status.CalMagLevel() != 3 {
		t.Errorf("status %#x, want %#x", s.Status, want)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

// Every CALIB_STAT value maps to the flags: system and magnetometer levels
// as they are, gyroscope and accelerometer as "fully calibrated" (4.3.54).
func TestCalibrationBits(t *testing.T) {
	for c := range 256 {
		st := calibStatus(byte(c))
		if st&^sensor.StatusCalMask != 0 {
			t.Fatalf("CALIB_STAT %#x sets bits outside the calibration mask: %#x", c, st)
		}
		sys, gyr, acc, mag := c>>6, (c>>4)&3, (c>>2)&3, c&3
		if st.CalSysLevel() != sys || st.CalMagLevel() != mag ||
			(st&sensor.StatusCalGyro != 0) != (gyr == 3) || (st&sensor.StatusCalAccel != 0) != (acc == 3) {
			t.Fatalf("CALIB_STAT %#x → %#x", c, st)
		}
	}
}

// Saturation at the NDOF full scales, a quaternion not yet computed (no
// StatusOrientation), and a garbled one (ErrGarbled, counted).
func TestSaturationStartAndGarbled(t *testing.T) {
	unit := [4]int16{1 << 14, 0, 0, 0}
	ops := append(initOps(0x28, true),
		burst(0x28, regs{acc: [3]int16{3923, 0, 0}, quat: unit}),
		burst(0x28, regs{gyr: [3]int16{0, 0, -32000}, quat: unit}),
		burst(0x28, regs{acc: [3]int16{3900, 0, 0}}),
		burst(0x28, regs{acc: [3]int16{1, 2, 3}, quat: [4]int16{-1, -1, -1, -1}}),
		burst(0x28, regs{mag: [3]int16{32767, 0, 0}, quat: unit}),
	)
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	d, err := New(pb, 0x28, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	for i, want := range []sensor.Status{
		sensor.StatusSaturated | sensor.StatusMag | sensor.StatusOrientation,
		sensor.StatusSaturated | sensor.StatusMag | sensor.StatusOrientation,
		sensor.StatusMag,
	} {
		if err := d.Read(&s); err != nil || s.Status != want {
			t.Errorf("read %d: %v, status %#x, want %#x", i, err, s.Status, want)
		}
	}
	before := s.Accel
	if err := d.Read(&s); !errors.Is(err, ErrGarbled) || s.Status&sensor.StatusSensorError == 0 || s.Accel != before {
		t.Errorf("garbled: %v, status %#x, accel %v (was %v)", err, s.Status, s.Accel, before)
	}
	if err := d.Read(&s); err != nil || s.Status&sensor.StatusMagOverflow == 0 {
		t.Errorf("mag at the limit: %v, status %#x", err, s.Status)
	}
	if st := d.Stats(); st.Errors != 1 || st.Reads != 4 {
		t.Errorf("stats %+v", st)
	}
}

type faultBus struct {
	inner *i2ctest.Playback
	fails int
}

var errNACK = errors.New("remote I/O error")

func (f *faultBus) String() string                  { return "fault" }
func (f *faultBus) SetSpeed(physic.Frequency) error { return nil }
func (f *faultBus) Tx(addr uint16, w, r []byte) error {
	if f.fails > 0 {
		f.fails--
		return errNACK
	}
	return f.inner.Tx(addr, w, r)
}

func TestFaultReinitRecovery(t *testing.T) {
	inner := &i2ctest.Playback{DontPanic: true, Ops: initOps(0x29, true)}
	inner.Ops = append(inner.Ops, initOps(0x29, false)...)
	inner.Ops = append(inner.Ops, burst(0x29, regs{quat: [4]int16{1 << 14}}))
	bus := &faultBus{inner: inner}
	d, err := New(bus, 0x29, &Opts{MaxErrors: 2})
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	bus.fails = 2
	for range 2 {
		if err := d.Read(&s); !errors.Is(err, errNACK) {
			t.Fatal(err)
		}
	}
	sleeps = nil
	if err := d.Read(&s); err != nil || s.Status&sensor.StatusReinit == 0 {
		t.Fatalf("after re-init: %v, status %#x", err, s.Status)
	}
	if len(sleeps) != 0 {
		t.Errorf("the hot path's re-init slept %v", sleeps)
	}
	if err := inner.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadAllocs(t *testing.T) {
	ops := initOps(0x28, true)
	for range 101 {
		ops = append(ops, burst(0x28, regs{quat: [4]int16{1 << 14}}))
	}
	d, err := New(&i2ctest.Playback{DontPanic: true, Ops: ops}, 0x28, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	if a := testing.AllocsPerRun(100, func() { _ = d.Read(&s) }); a != 0 {
		t.Errorf("Read allocates %v times", a)
	}
}
