package icm20948

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

func TestMain(m *testing.M) {
	doSleep = func(time.Duration) {}
	leaktest.Main(m)
}

const (
	g0  = 9.80665
	deg = math.Pi / 180
)

var (
	// Datasheet table 2 (accelerometer sensitivity scale factor) and
	// ACCEL_CONFIG ACCEL_FS_SEL (10.12).
	accelTable = []struct {
		r       AccelRange
		fs      byte
		lsbPerG float64
	}{{Accel2G, 0, 16384}, {Accel4G, 1, 8192}, {Accel8G, 2, 4096}, {Accel16G, 3, 2048}}
	// Table 1 (gyroscope sensitivity scale factor) and GYRO_CONFIG_1
	// GYRO_FS_SEL (10.2).
	gyroTable = []struct {
		r         GyroRange
		fs        byte
		lsbPerDPS float64
	}{{Gyro250DPS, 0, 131}, {Gyro500DPS, 1, 65.5}, {Gyro1000DPS, 2, 32.8}, {Gyro2000DPS, 3, 16.4}}
)

type cfg struct {
	div, gyro, accel byte // SMPLRT_DIV, GYRO_CONFIG_1, ACCEL_CONFIG
	mag, fifo        bool
}

// At 200 Hz: SMPLRT_DIV 4 (1125/5 = 225 Hz), gyro DLPFCFG 3 (51.2 Hz),
// accel DLPFCFG 2 (111.4 Hz), ±500 °/s, ±4 g, FCHOICE 1.
var defaultCfg = cfg{div: 4, gyro: 3<<3 | 1<<1 | 1, accel: 2<<3 | 1<<1 | 1, mag: true}

func bw(b, reg, val byte) []i2ctest.IO {
	return []i2ctest.IO{{Addr: 0x69, W: []byte{0x7F, b << 4}}, {Addr: 0x69, W: []byte{reg, val}}}
}

// initOps is an init's traffic (datasheet 8–11): bank 0, WHO_AM_I,
// reset, wake, the sample rate and filters in bank 2, the I²C master and
// the AK09916 in bank 3 (slave 4 checks WIA2 and starts continuous mode
// 4, slave 0 copies ST1..ST2), back to bank 0, then the FIFO.
func initOps(c cfg, reset bool) []i2ctest.IO {
	ops := []i2ctest.IO{{Addr: 0x69, W: []byte{0x7F, 0}}, {Addr: 0x69, W: []byte{0x00}, R: []byte{0xEA}}}
	if reset {
		ops = append(ops, i2ctest.IO{Addr: 0x69, W: []byte{0x06, 0x80}})
	}
	user := byte(0)
	if c.mag {
		user = 0x20
	}
	for _, s := range [][3]byte{{0, 0x06, 0x01}, {0, 0x07, 0}, {0, 0x03, user}, {2, 0x00, c.div}, {2, 0x01, c.gyro},
		{2, 0x10, 0}, {2, 0x11, c.div}, {2, 0x14, c.accel}, {2, 0x09, 1}} {
		ops = append(ops, bw(s[0], s[1], s[2])...)
	}
	if c.mag {
		ops = append(ops, bw(3, 0x01, 0x07)...)
		if reset {
			ops = append(ops, bw(3, 0x13, 0x8C)...)
			ops = append(ops, bw(3, 0x14, 0x01)...)
			ops = append(ops, bw(3, 0x15, 0x80)...)
			ops = append(ops, i2ctest.IO{Addr: 0x69, W: []byte{0x17}, R: []byte{0x09}})
		}
		for _, s := range [][2]byte{{0x13, 0x0C}, {0x14, 0x31}, {0x16, 0x08}, {0x15, 0x80}, {0x03, 0x8C}, {0x04, 0x10}, {0x05, 0x89}} {
			ops = append(ops, bw(3, s[0], s[1])...)
		}
	}
	ops = append(ops, i2ctest.IO{Addr: 0x69, W: []byte{0x7F, 0}})
	if c.fifo {
		ops = append(ops,
			i2ctest.IO{Addr: 0x69, W: []byte{0x67, 0x1F}},
			i2ctest.IO{Addr: 0x69, W: []byte{0x69, 0x01}},
			i2ctest.IO{Addr: 0x69, W: []byte{0x68, 0x1F}},
			i2ctest.IO{Addr: 0x69, W: []byte{0x68, 0x00}},
			i2ctest.IO{Addr: 0x69, W: []byte{0x03, user | 0x40}},
		)
	}
	return ops
}

func be(b []byte, v int16) []byte { return append(b, byte(uint16(v)>>8), byte(v)) }

// imu encodes accel, gyro, temp as ACCEL_XOUT_H onwards.
func imu(accel, gyro [3]int16, temp int16) []byte {
	var b []byte
	for _, v := range accel {
		b = be(b, v)
	}
	for _, v := range gyro {
		b = be(b, v)
	}
	return be(b, temp)
}

// mag encodes ST1, HX..HZ (LE), TMPS, ST2.
func mag(st1 byte, v [3]int16, st2 byte) []byte {
	b := []byte{st1}
	for _, x := range v {
		b = append(b, byte(x), byte(uint16(x)>>8))
	}
	return append(b, 0, st2)
}

func read(data []byte) i2ctest.IO { return i2ctest.IO{Addr: 0x69, W: []byte{0x2D}, R: data} }

func near(got float32, want float64) bool {
	return math.Abs(float64(got)-want) <= 1e-6*math.Max(math.Abs(want), 1e-3)
}

func TestNewAndWhoAmI(t *testing.T) {
	pb := &i2ctest.Playback{DontPanic: true, Ops: initOps(defaultCfg, true)}
	d, err := New(pb, 0x69, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
	if d.String() != "icm20948@0x69" || d.ODRHz() != 225 {
		t.Errorf("%v at %v Hz", d, d.ODRHz())
	}
	for _, who := range []byte{0x00, 0x71, 0xE0, 0xFF} {
		pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{{Addr: 0x69, W: []byte{0x7F, 0}}, {Addr: 0x69, W: []byte{0x00}, R: []byte{who}}}}
		_, err := New(pb, 0x69, nil)
		var we *WhoAmIError
		if !errors.As(err, &we) || we.Got != who || !strings.Contains(err.Error(), "0xea (ICM-20948)") {
			t.Errorf("WHO_AM_I %#x: %v", who, err)
		}
	}
	if _, err := New(&i2ctest.Playback{DontPanic: true}, 0x68, nil); !errors.Is(err, sensor.ErrNotFound) {
		t.Errorf("nothing there: %v", err)
	}
}

func TestMagMissing(t *testing.T) {
	ops := initOps(defaultCfg, true)
	for i := range ops {
		if len(ops[i].W) == 1 && ops[i].W[0] == 0x17 {
			ops[i].R = []byte{0x00}
			ops = ops[:i+1]
			break
		}
	}
	_, err := New(&i2ctest.Playback{DontPanic: true, Ops: ops}, 0x69, nil)
	if !errors.Is(err, ErrNoMag) || !strings.Contains(err.Error(), "NoMag") {
		t.Errorf("error %v, want ErrNoMag naming NoMag", err)
	}
}

func TestScalingEveryRange(t *testing.T) {
	raw := [3]int16{12345, -20000, 1}
	for _, a := range accelTable {
		for _, g := range gyroTable {
			c := defaultCfg
			c.mag = false
			c.gyro, c.accel = 3<<3|g.fs<<1|1, 2<<3|a.fs<<1|1
			pb := &i2ctest.Playback{DontPanic: true, Ops: append(initOps(c, true), read(imu(raw, raw, 0)))}
			d, err := New(pb, 0x69, &Opts{AccelRange: a.r, GyroRange: g.r, NoMag: true})
			if err != nil {
				t.Fatal(err)
			}
			var s sensor.Sample
			if err := d.Read(&s); err != nil {
				t.Fatal(err)
			}
			for i, v := range raw {
				if want := float64(v) / a.lsbPerG * g0; !near(s.Accel[i], want) {
					t.Errorf("%d g accel[%d] %v, want %v", a.r, i, s.Accel[i], want)
				}
				if want := float64(v) / g.lsbPerDPS * deg; !near(s.Gyro[i], want) {
					t.Errorf("%d °/s gyro[%d] %v, want %v", g.r, i, s.Gyro[i], want)
				}
			}
			if err := pb.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Temperature (8.33: /333.87 + 21), saturation, and the magnetometer:
// 0.15 µT/LSB, DRDY in ST1, HOFL in ST2 (AK09916 9.3, 9.4).
func TestTempSaturationMag(t *testing.T) {
	ops := initOps(defaultCfg, true)
	ops = append(ops,
		read(append(imu([3]int16{0, 0, 8192}, [3]int16{}, 3339), mag(0x01, [3]int16{100, -200, 300}, 0)...)),
		read(append(imu([3]int16{32767, 0, 0}, [3]int16{}, 0), mag(0x00, [3]int16{9, 9, 9}, 0)...)),
		read(append(imu([3]int16{}, [3]int16{0, -32768, 0}, -3339), mag(0x01, [3]int16{1, 2, 3}, 0x08)...)),
	)
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	d, err := New(pb, 0x69, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	_ = d.Read(&s)
	if !near(s.TempC, 3339/333.87+21) || !near(s.Accel[2], g0) || s.Status != sensor.StatusMag ||
		!near(s.Mag[0], 15) || !near(s.Mag[1], -30) || !near(s.Mag[2], 45) {
		t.Errorf("first: temp %v accel %v mag %v status %#x", s.TempC, s.Accel, s.Mag, s.Status)
	}
	_ = d.Read(&s)
	if s.Status != sensor.StatusSaturated || !near(s.Mag[0], 15) {
		t.Errorf("second: status %#x mag %v; want saturated, no new field", s.Status, s.Mag)
	}
	_ = d.Read(&s)
	if s.Status != sensor.StatusSaturated|sensor.StatusMag|sensor.StatusMagOverflow || !near(s.TempC, -3339/333.87+21) {
		t.Errorf("third: status %#x temp %v", s.Status, s.TempC)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpts(t *testing.T) {
	for _, tc := range []struct {
		o    Opts
		want string
	}{
		{Opts{AccelRange: 3}, "2, 4, 8, 16 g"},
		{Opts{GyroRange: 245}, "250, 500, 1000, 2000 °/s"},
		{Opts{RateHz: 2000}, "1 to 1125 Hz"},
		{Opts{RateHz: 1000, FIFO: true}, "1125, 375, 225, 125, 75, 45, 25, 15, 9, 5"},
		{Opts{MaxErrors: -1}, "MaxErrors"},
	} {
		if err := tc.o.Validate(); !errors.Is(err, ErrInvalidOpts) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
	// 1 kHz runs the chip at 1125 Hz with the widest filters.
	c := cfg{div: 0, gyro: 0<<3 | 1<<1 | 1, accel: 0<<3 | 1<<1 | 1}
	pb := &i2ctest.Playback{DontPanic: true, Ops: initOps(c, true)}
	if _, err := New(pb, 0x69, &Opts{RateHz: 1000, NoMag: true}); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
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

// After MaxErrors failures the chip is configured again (without the
// reset and the magnetometer's check, which wait) and the next sample is
// flagged.
func TestFaultReinitRecovery(t *testing.T) {
	inner := &i2ctest.Playback{DontPanic: true, Ops: initOps(defaultCfg, true)}
	inner.Ops = append(inner.Ops, initOps(defaultCfg, false)...)
	inner.Ops = append(inner.Ops, read(append(imu([3]int16{1, 2, 3}, [3]int16{}, 0), mag(1, [3]int16{}, 0)...)))
	bus := &faultBus{inner: inner}
	d, err := New(bus, 0x69, &Opts{MaxErrors: 2})
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
	if err := d.Read(&s); err != nil || s.Status != sensor.StatusReinit|sensor.StatusMag {
		t.Fatalf("after re-init: %v, status %#x", err, s.Status)
	}
	if st := d.Stats(); st.Errors != 2 || st.Reinits != 1 || st.Reads != 1 {
		t.Errorf("stats %+v", st)
	}
	if err := inner.Close(); err != nil {
		t.Fatal(err)
	}
}
