package lsm6dsox

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
	"github.com/imustream/imustream/sensor/lis3mdl"
)

func TestMain(m *testing.M) {
	doSleep = func(time.Duration) {}
	leaktest.Main(m)
}

const (
	g0  = 9.80665
	deg = math.Pi / 180
)

var (
	// LSM6DSOX datasheet table 2 (linear acceleration sensitivity LA_So)
	// and 9.15 CTRL1_XL FS_XL in bits 3:2.
	accelTable = []struct {
		r     AccelRange
		bits  byte
		mgLSB float64
	}{
		{Accel2G, 0x00, 0.061},
		{Accel4G, 0x08, 0.122},
		{Accel8G, 0x0C, 0.244},
		{Accel16G, 0x04, 0.488},
	}
	// Table 2 (angular rate sensitivity G_So) and 9.16 CTRL2_G FS_G,
	// FS_125; ISM330DHCX datasheet table 2 and CTRL2_G FS_4000.
	gyroTable = []struct {
		r       GyroRange
		bits    byte
		mdpsLSB float64
	}{
		{Gyro125DPS, 0x02, 4.375},
		{Gyro250DPS, 0x00, 8.75},
		{Gyro500DPS, 0x04, 17.50},
		{Gyro1000DPS, 0x08, 35},
		{Gyro2000DPS, 0x0C, 70},
		{Gyro4000DPS, 0x01, 140},
	}
)

// initOps is an init's traffic: WHO_AM_I, software reset (CTRL3_C
// SW_RESET with IF_INC), BDU and IF_INC, CTRL1_XL and CTRL2_G with ODR
// code odr (9.15–9.17).
func initOps(addr uint16, who byte, reset bool, odr, accel, gyro byte) []i2ctest.IO {
	ops := []i2ctest.IO{{Addr: addr, W: []byte{0x0F}, R: []byte{who}}}
	if reset {
		ops = append(ops, i2ctest.IO{Addr: addr, W: []byte{0x12, 0x05}})
	}
	return append(ops,
		i2ctest.IO{Addr: addr, W: []byte{0x12, 0x44}},
		i2ctest.IO{Addr: addr, W: []byte{0x10, odr<<4 | accel}},
		i2ctest.IO{Addr: addr, W: []byte{0x11, odr<<4 | gyro}},
	)
}

// burst encodes the 14 bytes from OUT_TEMP_L: temp, gyro, accel, LE.
func burst(addr uint16, temp int16, gyro, accel [3]int16) i2ctest.IO {
	r := le(nil, temp)
	for _, v := range gyro {
		r = le(r, v)
	}
	for _, v := range accel {
		r = le(r, v)
	}
	return i2ctest.IO{Addr: addr, W: []byte{0x20}, R: r}
}

func le(b []byte, v int16) []byte { return append(b, byte(v), byte(uint16(v)>>8)) }

func near(got float32, want float64) bool {
	return math.Abs(float64(got)-want) <= 1e-6*math.Max(math.Abs(want), 1e-3)
}

func TestEveryWhoAmI(t *testing.T) {
	for _, tc := range []struct {
		who  byte
		chip Chip
		name string
		fifo bool
	}{
		{0x6C, LSM6DSO, "lsm6dso@0x6a", true},
		{0x6A, LSM6DS3TRC, "lsm6ds3trc@0x6a", true},
		{0x6B, ISM330DHCX, "ism330dhcx@0x6a", true},
	} {
		pb := &i2ctest.Playback{DontPanic: true, Ops: initOps(0x6A, tc.who, true, 5, 0x08, 0x04)}
		d, err := New(pb, 0x6A, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := pb.Close(); err != nil {
			t.Fatal(err)
		}
		if d.Chip() != tc.chip || d.String() != tc.name || d.Chip().HasFIFO() != tc.fifo || d.ODRHz() != 208 {
			t.Errorf("WHO_AM_I %#x: %v %q fifo %v ODR %v", tc.who, d.Chip(), d.String(), d.Chip().HasFIFO(), d.ODRHz())
		}
	}
	for _, who := range []byte{0x00, 0x68, 0x69, 0x6D, 0xFF} {
		pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{{Addr: 0x6B, W: []byte{0x0F}, R: []byte{who}}}}
		_, err := New(pb, 0x6B, nil)
		var we *WhoAmIError
		if !errors.As(err, &we) || we.Got != who || !strings.Contains(err.Error(), "0x6c (LSM6DSO/LSM6DSOX)") {
			t.Errorf("WHO_AM_I %#x: %v", who, err)
		}
	}
}

func TestScalingEveryRange(t *testing.T) {
	raw := [3]int16{12345, -20000, 1}
	for _, a := range accelTable {
		for _, g := range gyroTable {
			ops := append(initOps(0x6B, 0x6B, true, 5, a.bits, g.bits), burst(0x6B, 0, raw, raw))
			pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
			d, err := New(pb, 0x6B, &Opts{AccelRange: a.r, GyroRange: g.r})
			if err != nil {
				t.Fatal(err)
			}
			var s sensor.Sample
			if err := d.Read(&s); err != nil {
				t.Fatal(err)
			}
			for i, v := range raw {
				if want := float64(v) * a.mgLSB * 1e-3 * g0; !near(s.Accel[i], want) {
					t.Errorf("±%d g accel[%d] = %v, want %v", a.r, i, s.Accel[i], want)
				}
				if want := float64(v) * g.mdpsLSB * 1e-3 * deg; !near(s.Gyro[i], want) {
					t.Errorf("±%d °/s gyro[%d] = %v, want %v", g.r, i, s.Gyro[i], want)
				}
			}
			if err := pb.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// ±4000 °/s is the ISM330DHCX's only.
	pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{{Addr: 0x6A, W: []byte{0x0F}, R: []byte{0x6C}}}}
	if _, err := New(pb, 0x6A, &Opts{GyroRange: Gyro4000DPS}); !errors.Is(err, ErrInvalidOpts) || !strings.Contains(err.Error(), "2000 °/s") {
		t.Errorf("4000 °/s on an LSM6DSO: %v", err)
	}
}

// Temperature: 256 LSB/°C, 0 LSB at 25 °C (table 3); saturation at the
// int16 limits.
func TestTemperatureAndSaturation(t *testing.T) {
	for _, tc := range []struct {
		temp  int16
		want  float64
		accel [3]int16
		sat   bool
	}{
		{0, 25, [3]int16{}, false},
		{1280, 30, [3]int16{32766, -32767, 0}, false},
		{-2560, 15, [3]int16{0, 0, 32767}, true},
		{256, 26, [3]int16{-32768, 0, 0}, true},
	} {
		ops := append(initOps(0x6A, 0x6C, true, 5, 0x08, 0x04), burst(0x6A, tc.temp, [3]int16{}, tc.accel))
		pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
		d, err := New(pb, 0x6A, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := sensor.Sample{Status: sensor.StatusLate}
		if err := d.Read(&s); err != nil {
			t.Fatal(err)
		}
		if !near(s.TempC, tc.want) || (s.Status&sensor.StatusSaturated != 0) != tc.sat || s.Status&sensor.StatusLate == 0 {
			t.Errorf("temp raw %d accel %v: %v °C, status %#x; want %v °C, saturated %v", tc.temp, tc.accel, s.TempC, s.Status, tc.want, tc.sat)
		}
	}
}

func TestRatesAndOpts(t *testing.T) {
	for _, tc := range []struct {
		rate int
		odr  byte
	}{{1, 1}, {12, 1}, {13, 2}, {100, 4}, {200, 5}, {833, 7}, {1000, 8}, {6666, 10}} {
		pb := &i2ctest.Playback{DontPanic: true, Ops: initOps(0x6A, 0x6C, true, tc.odr, 0x08, 0x04)}
		if _, err := New(pb, 0x6A, &Opts{RateHz: tc.rate}); err != nil {
			t.Errorf("rate %d: %v", tc.rate, err)
		}
		if err := pb.Close(); err != nil {
			t.Errorf("rate %d: %v", tc.rate, err)
		}
	}
	for _, tc := range []struct {
		o    Opts
		want string
	}{
		{Opts{AccelRange: 3}, "2, 4, 8, 16 g"},
		{Opts{GyroRange: 245}, "125, 250, 500, 1000, 2000, 4000"},
		{Opts{RateHz: 7000}, "1 to 6666 Hz"},
		{Opts{RateHz: 1000, FIFO: true}, "26, 52, 104, 208, 416, 833, 1666, 3333, 6666"},
		{Opts{MaxErrors: -1}, "MaxErrors"},
	} {
		if err := tc.o.Validate(); !errors.Is(err, ErrInvalidOpts) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want the valid values %q", tc.o, err, tc.want)
		}
	}
	if _, err := New(&i2ctest.Playback{DontPanic: true}, 0x6A, nil); !errors.Is(err, sensor.ErrNotFound) {
		t.Errorf("nothing at 0x6a: %v", err)
	}
}

// faultBus fails its next transactions, then passes them to a Playback.
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
	inner := &i2ctest.Playback{DontPanic: true, Ops: initOps(0x6A, 0x6C, true, 5, 0x08, 0x04)}
	inner.Ops = append(inner.Ops, initOps(0x6A, 0x6C, false, 5, 0x08, 0x04)...)
	inner.Ops = append(inner.Ops, burst(0x6A, 0, [3]int16{1, 2, 3}, [3]int16{4, 5, 6}))
	bus := &faultBus{inner: inner}
	d, err := New(bus, 0x6A, &Opts{MaxErrors: 3})
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	bus.fails = 3
	for range 3 {
		if err := d.Read(&s); !errors.Is(err, errNACK) || s.Status&sensor.StatusSensorError == 0 {
			t.Fatalf("failing read: %v, status %#x", err, s.Status)
		}
	}
	if err := d.Read(&s); err != nil || s.Status != sensor.StatusReinit || !near(s.Accel[0], 4*0.122e-3*g0) {
		t.Fatalf("after re-init: %v, status %#x, accel %v", err, s.Status, s.Accel)
	}
	if st := d.Stats(); st.Errors != 3 || st.Reinits != 1 || st.Reads != 1 {
		t.Errorf("stats %+v", st)
	}
	if err := inner.Close(); err != nil {
		t.Fatal(err)
	}
}

// With an LIS3MDL: its init follows the IMU's, and each Read adds the
// field.
func TestWithMagnetometer(t *testing.T) {
	magInit := []i2ctest.IO{
		{Addr: 0x1C, W: []byte{0x0F}, R: []byte{0x3D}},
		{Addr: 0x1C, W: []byte{0x21, 0x04}},
		{Addr: 0x1C, W: []byte{0x21, 0x00}},
		{Addr: 0x1C, W: []byte{0x20, 0x62}},
		{Addr: 0x1C, W: []byte{0x23, 0x0C}},
		{Addr: 0x1C, W: []byte{0x24, 0x40}},
		{Addr: 0x1C, W: []byte{0x22, 0x00}},
	}
	pb := &i2ctest.Playback{DontPanic: true, Ops: magInit}
	m, err := lis3mdl.New(pb, 0x1C, nil)
	if err != nil {
		t.Fatal(err)
	}
	pb.Ops = append(pb.Ops, initOps(0x6A, 0x6C, true, 5, 0x08, 0x04)...)
	pb.Ops = append(pb.Ops, magInit[0:2]...)
	pb.Ops = append(pb.Ops, magInit[2:]...)
	pb.Ops = append(pb.Ops, burst(0x6A, 0, [3]int16{}, [3]int16{}),
		i2ctest.IO{Addr: 0x1C, W: []byte{0xA7}, R: []byte{0x08, 0x58, 0x05, 0, 0, 0, 0}})
	d, err := New(pb, 0x6A, &Opts{Mag: m})
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil {
		t.Fatal(err)
	}
	if s.Status != sensor.StatusMag || !near(s.Mag[0], 1368/6842.0*100) {
		t.Errorf("status %#x mag %v", s.Status, s.Mag)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}
