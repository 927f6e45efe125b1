package lsm9ds1

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"github.com/imustream/imustream/internal/leaktest"
	"github.com/imustream/imustream/sensor"
)

// Datasheet figures, written out here rather than taken from the code.
const (
	g0  = 9.80665
	deg = math.Pi / 180
)

var (
	// Datasheet sensor characteristics (linear acceleration sensitivity) and CTRL_REG6_XL FS_XL.
	accelTable = []struct {
		r      AccelRange
		fsBits byte // FS_XL in place (bits 4:3)
		mgLSB  float64
	}{
		{Accel2G, 0x00, 0.061},
		{Accel4G, 0x10, 0.122},
		{Accel8G, 0x18, 0.244},
		{Accel16G, 0x08, 0.732},
	}
	// Datasheet sensor characteristics (angular rate sensitivity) and CTRL_REG1_G FS_G.
	gyroTable = []struct {
		r       GyroRange
		fsBits  byte
		mdpsLSB float64
	}{
		{Gyro245DPS, 0x00, 8.75},
		{Gyro500DPS, 0x08, 17.50},
		{Gyro2000DPS, 0x18, 70},
	}
)

var (
	sleepMu sync.Mutex
	sleeps  []time.Duration
)

func TestMain(m *testing.M) {
	doSleep = func(d time.Duration) {
		sleepMu.Lock()
		sleeps = append(sleeps, d)
		sleepMu.Unlock()
	}
	leaktest.Main(m)
}

func takeSleeps() []time.Duration {
	sleepMu.Lock()
	defer sleepMu.Unlock()
	s := sleeps
	sleeps = nil
	return s
}

// regs: CTRL_REG6_XL and CTRL_REG1_G as an init writes them.
type regs struct{ ctrl6XL, ctrl1G byte }

// defaultRegs: ODR 238 Hz (code 4) for 200 Hz, ±4 g, ±500 °/s.
var defaultRegs = regs{ctrl6XL: 0x80 | 0x10, ctrl1G: 0x80 | 0x08}

func initOps(addr uint16, reset bool, r regs) []i2ctest.IO {
	ops := []i2ctest.IO{{Addr: addr, W: []byte{0x0F}, R: []byte{0x68}}}
	if reset {
		ops = append(ops, i2ctest.IO{Addr: addr, W: []byte{0x22, 0x05}}) // SW_RESET | IF_ADD_INC
	}
	return append(ops,
		i2ctest.IO{Addr: addr, W: []byte{0x22, 0x44}}, // BDU | IF_ADD_INC
		i2ctest.IO{Addr: addr, W: []byte{0x1E, 0x38}},
		i2ctest.IO{Addr: addr, W: []byte{0x1F, 0x38}},
		i2ctest.IO{Addr: addr, W: []byte{0x20, r.ctrl6XL}},
		i2ctest.IO{Addr: addr, W: []byte{0x10, r.ctrl1G}},
	)
}

// burst encodes the 25 bytes from OUT_TEMP_L (0x15) to OUT_Z_H_XL (0x2D),
// little-endian, with the control registers in between as configured.
func burst(addr uint16, r regs, temp int16, gyro, accel [3]int16) i2ctest.IO {
	b := make([]byte, 25)
	le := func(off int, v int16) { b[off], b[off+1] = byte(v), byte(uint16(v)>>8) }
	le(0, temp)
	b[0x17-0x15] = 0x07 // STATUS_REG: new data
	for i := range 3 {
		le(0x18-0x15+2*i, gyro[i])
		le(0x28-0x15+2*i, accel[i])
	}
	b[0x1E-0x15] = 0x38
	b[0x1F-0x15] = 0x38
	b[0x20-0x15] = r.ctrl6XL
	b[0x22-0x15] = 0x44
	b[0x27-0x15] = 0x07
	return i2ctest.IO{Addr: addr, W: []byte{0x15}, R: b}
}

func closeOK(t *testing.T, pb *i2ctest.Playback) {
	t.Helper()
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func near(got float32, want, relTol float64) bool {
	return math.Abs(float64(got)-want) <= relTol*math.Max(math.Abs(want), 1e-3)
}

func TestNew(t *testing.T) {
	for _, addr := range []uint16{0x6A, 0x6B} {
		takeSleeps()
		pb := &i2ctest.Playback{DontPanic: true, Ops: initOps(addr, true, defaultRegs)}
		d, err := New(pb, addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		closeOK(t, pb)
		if want := "lsm9ds1@0x" + map[uint16]string{0x6A: "6a", 0x6B: "6b"}[addr]; d.String() != want {
			t.Errorf("String() = %q, want %q", d, want)
		}
		if d.ODR() != ODR238Hz || d.ODR().String() != "238 Hz" {
			t.Errorf("ODR %v, want 238 Hz", d.ODR())
		}
		if s := takeSleeps(); len(s) != 1 || s[0] < 10*time.Millisecond {
			t.Errorf("sleeps after reset %v", s)
		}
	}
}

func TestODRForRate(t *testing.T) {
	for _, tc := range []struct {
		rate int
		code byte // ODR_G / ODR_XL
		odr  ODR
	}{
		{1, 1, ODR14_9Hz},
		{14, 1, ODR14_9Hz},
		{15, 2, ODR59_5Hz},
		{59, 2, ODR59_5Hz},
		{100, 3, ODR119Hz},
		{119, 3, ODR119Hz},
		{120, 4, ODR238Hz},
		{200, 4, ODR238Hz},
		{400, 5, ODR476Hz},
		{500, 6, ODR952Hz},
		{952, 6, ODR952Hz},
	} {
		r := regs{ctrl6XL: tc.code<<5 | 0x10, ctrl1G: tc.code<<5 | 0x08}
		pb := &i2ctest.Playback{DontPanic: true, Ops: initOps(0x6A, true, r)}
		d, err := New(pb, 0x6A, &Opts{RateHz: tc.rate})
		if err != nil {
			t.Fatalf("%d Hz: %v", tc.rate, err)
		}
		closeOK(t, pb)
		if d.ODR() != tc.odr || d.ODR().Hz() < float64(tc.rate) {
			t.Errorf("%d Hz: ODR %v, want %v", tc.rate, d.ODR(), tc.odr)
		}
	}
}

func TestScalingEveryRange(t *testing.T) {
	raw := [3]int16{12345, -20000, 1}
	for _, a := range accelTable {
		for _, g := range gyroTable {
			r := regs{ctrl6XL: 0x80 | a.fsBits, ctrl1G: 0x80 | g.fsBits}
			ops := append(initOps(0x6A, true, r), burst(0x6A, r, 0, raw, raw))
			pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
			d, err := New(pb, 0x6A, &Opts{AccelRange: a.r, GyroRange: g.r})
			if err != nil {
				t.Fatal(err)
			}
			var s sensor.Sample
			if err := d.Read(&s); err != nil {
				t.Fatal(err)
			}
			closeOK(t, pb)
			for i, v := range raw {
				if want := float64(v) * a.mgLSB / 1000 * g0; !near(s.Accel[i], want, 1e-6) {
					t.Errorf("%v accel[%d] raw %d = %g m/s², want %g", a.r, i, v, s.Accel[i], want)
				}
				if want := float64(v) * g.mdpsLSB / 1000 * deg; !near(s.Gyro[i], want, 1e-6) {
					t.Errorf("%v gyro[%d] raw %d = %g rad/s, want %g", g.r, i, v, s.Gyro[i], want)
				}
			}
		}
	}
}

func TestTemperature(t *testing.T) {
	for _, tc := range []struct {
		raw  int16
		want float64
	}{
		{0, 25},            // 0 LSB at 25 °C
		{160, 35},          // 16 LSB/°C
		{-400, 0},          // below the reference
		{-41, 25 - 2.5625}, // fractions
	} {
		ops := append(initOps(0x6B, true, defaultRegs), burst(0x6B, defaultRegs, tc.raw, [3]int16{}, [3]int16{}))
		pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
		d, err := New(pb, 0x6B, nil)
		if err != nil {
			t.Fatal(err)
		}
		var s sensor.Sample
		if err := d.Read(&s); err != nil {
			t.Fatal(err)
		}
		if !near(s.TempC, tc.want, 1e-6) {
			t.Errorf("raw %d: %g °C, want %g", tc.raw, s.TempC, tc.want)
		}
	}
}

func TestSaturation(t *testing.T) {
	for _, tc := range []struct {
		gyro, accel [3]int16
		sat         bool
	}{
		{[3]int16{32766, -32767, 0}, [3]int16{32766, -32767, 0}, false},
		{[3]int16{32767, 0, 0}, [3]int16{}, true},
		{[3]int16{}, [3]int16{0, -32768, 0}, true},
	} {
		ops := append(initOps(0x6A, true, defaultRegs), burst(0x6A, defaultRegs, 0, tc.gyro, tc.accel))
		pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
		d, err := New(pb, 0x6A, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := sensor.Sample{Status: sensor.StatusSkipped}
		if err := d.Read(&s); err != nil {
			t.Fatal(err)
		}
		if got := s.Status&sensor.StatusSaturated != 0; got != tc.sat {
			t.Errorf("gyro %v accel %v: saturated %v, want %v", tc.gyro, tc.accel, got, tc.sat)
		}
		if s.Status&sensor.StatusSkipped == 0 {
			t.Error("Read cleared the caller's StatusSkipped")
		}
	}
}

func TestUnknownWhoAmI(t *testing.T) {
	for _, who := range []byte{0x00, 0x69, 0x6C, 0xFF} { // LSM6DS3, LSM6DSO answer here too
		pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{{Addr: 0x6B, W: []byte{0x0F}, R: []byte{who}}}}
		_, err := New(pb, 0x6B, nil)
		var we *WhoAmIError
		if !errors.As(err, &we) || we.Got != who || we.Addr != 0x6B {
			t.Fatalf("WHO_AM_I %#x: %v", who, err)
		}
		for _, want := range []string{"lsm9ds1: ", "0x6b", "expected 0x68"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q lacks %q", err, want)
			}
		}
		closeOK(t, pb)
	}
}

var errNACK = errors.New("remote I/O error")

func TestNothingAtAddress(t *testing.T) {
	bus := &faultBus{inner: &i2ctest.Playback{DontPanic: true}, fails: 1}
	_, err := New(bus, 0x6A, nil)
	if !errors.Is(err, sensor.ErrNotFound) || !errors.Is(err, errNACK) || !strings.Contains(err.Error(), "0x6a") {
		t.Fatalf("error %v", err)
	}
}

func TestInvalidOpts(t *testing.T) {
	for _, tc := range []struct {
		opts  Opts
		lists string
	}{
		{Opts{AccelRange: 6}, "2, 4, 8, 16"},
		{Opts{GyroRange: 250}, "245, 500, 2000"},
		{Opts{GyroRange: 1000}, "245, 500, 2000"},
		{Opts{RateHz: 1000}, "14.9, 59.5, 119, 238, 476 and 952 Hz"},
		{Opts{RateHz: -1}, "1 to 952"},
		{Opts{MaxErrors: -3}, "MaxErrors"},
	} {
		err := tc.opts.Validate()
		if !errors.Is(err, ErrInvalidOpts) || !strings.Contains(err.Error(), tc.lists) {
			t.Errorf("%+v: %v, want ErrInvalidOpts listing %q", tc.opts, err, tc.lists)
		}
		if _, err := New(&i2ctest.Playback{DontPanic: true}, 0x6A, &tc.opts); !errors.Is(err, ErrInvalidOpts) {
			t.Errorf("New(%+v) = %v", tc.opts, err)
		}
	}
	if _, err := New(&i2ctest.Playback{DontPanic: true}, 0x68, nil); !errors.Is(err, ErrInvalidOpts) || !strings.Contains(err.Error(), "0x6a") {
		t.Errorf("address 0x68: %v", err)
	}
	if err := DefaultOpts.Validate(); err != nil {
		t.Error(err)
	}
}

type faultBus struct {
	inner *i2ctest.Playback
	fails int
	txs   int
}

func (f *faultBus) String() string { return "fault" }

func (f *faultBus) Tx(addr uint16, w, r []byte) error {
	f.txs++
	if f.fails > 0 {
		f.fails--
		return errNACK
	}
	return f.inner.Tx(addr, w, r)
}

func (f *faultBus) SetSpeed(physic.Frequency) error { return nil }

func TestFaultsReinitAndRecovery(t *testing.T) {
	const k = 4
	good := burst(0x6A, defaultRegs, 0, [3]int16{}, [3]int16{0, 0, 8197})
	ops := append(initOps(0x6A, true, defaultRegs), good)
	ops = append(ops, initOps(0x6A, false, defaultRegs)...)
	ops = append(ops, good, good)
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	bus := &faultBus{inner: pb}
	d, err := New(bus, 0x6A, &Opts{MaxErrors: k})
	if err != nil {
		t.Fatal(err)
	}
	takeSleeps()
	var s sensor.Sample
	if err := d.Read(&s); err != nil || s.Status != 0 {
		t.Fatal(err, s.Status)
	}
	last := s.Accel
	bus.fails = k + 2
	for i := range k + 2 {
		txs := bus.txs
		err := d.Read(&s)
		if !errors.Is(err, errNACK) || s.Status != sensor.StatusSensorError || s.Accel != last || bus.txs-txs != 1 {
			t.Fatalf("failed read %d: %v status %#x accel %v, %d transactions", i, err, s.Status, s.Accel, bus.txs-txs)
		}
		if reinit := strings.Contains(err.Error(), "re-initialising"); reinit != (i >= k) {
			t.Errorf("read %d: re-initialising %v: %v", i, reinit, err)
		}
	}
	if err := d.Read(&s); err != nil || s.Status != sensor.StatusReinit {
		t.Fatalf("recovery: %v status %#x", err, s.Status)
	}
	if err := d.Read(&s); err != nil || s.Status != 0 {
		t.Fatalf("after recovery: %v status %#x", err, s.Status)
	}
	closeOK(t, pb)
	if st := d.Stats(); st != (Stats{Reads: 3, Errors: k + 2, Reinits: 1}) {
		t.Errorf("stats %+v", st)
	}
	if s := takeSleeps(); len(s) != 0 {
		t.Errorf("re-initialisation slept %v", s)
	}
}

// A power glitch leaves the chip answering with default registers: the
// read is refused and the next one re-initialises at once.
func TestConfigLost(t *testing.T) {
	lost := burst(0x6A, regs{}, 0, [3]int16{}, [3]int16{})
	lost.R[0x22-0x15] = 0x04 // CTRL_REG8 reset value
	good := burst(0x6A, defaultRegs, 0, [3]int16{}, [3]int16{100, 0, 0})
	ops := append(initOps(0x6A, true, defaultRegs), lost)
	ops = append(ops, initOps(0x6A, false, defaultRegs)...)
	ops = append(ops, good)
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	d, err := New(pb, 0x6A, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := sensor.Sample{Accel: [3]float32{1, 2, 3}}
	err = d.Read(&s)
	if !errors.Is(err, ErrConfigLost) || s.Status != sensor.StatusSensorError || s.Accel != [3]float32{1, 2, 3} {
		t.Fatalf("%v status %#x accel %v", err, s.Status, s.Accel)
	}
	if err := d.Read(&s); err != nil || s.Status != sensor.StatusReinit || s.Accel[0] == 1 {
		t.Fatalf("%v status %#x accel %v", err, s.Status, s.Accel)
	}
	closeOK(t, pb)
}

func TestHalt(t *testing.T) {
	ops := append(initOps(0x6A, true, defaultRegs),
		i2ctest.IO{Addr: 0x6A, W: []byte{0x10, 0x00}},
		i2ctest.IO{Addr: 0x6A, W: []byte{0x20, 0x00}})
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	d, err := New(pb, 0x6A, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	closeOK(t, pb)
}

// constBus answers WHO_AM_I and returns a fixed burst; it counts
// transactions.
type constBus struct {
	data [25]byte
	txs  int
}

func newConstBus() *constBus {
	c := &constBus{}
	copy(c.data[:], burst(0x6A, defaultRegs, 80, [3]int16{1, -2, 3}, [3]int16{0, 0, 8197}).R)
	return c
}

func (c *constBus) String() string { return "const" }

func (c *constBus) Tx(addr uint16, w, r []byte) error {
	c.txs++
	if len(w) == 1 && w[0] == 0x0F {
		r[0] = 0x68
		return nil
	}
	copy(r, c.data[:])
	return nil
}

func (c *constBus) SetSpeed(physic.Frequency) error { return nil }

func TestOneTransactionPerRead(t *testing.T) {
	bus := newConstBus()
	d, err := New(bus, 0x6A, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	for i := range 100 {
		before := bus.txs
		if err := d.Read(&s); err != nil {
			t.Fatal(err)
		}
		if n := bus.txs - before; n != 1 {
			t.Fatalf("read %d: %d transactions", i, n)
		}
	}
	if !near(s.Accel[2], 8197*0.122e-3*g0, 1e-6) {
		t.Errorf("accel %v", s.Accel)
	}
}

func TestReadDoesNotAllocate(t *testing.T) {
	d, err := New(newConstBus(), 0x6A, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	if n := testing.AllocsPerRun(1000, func() { _ = d.Read(&s) }); n != 0 {
		t.Errorf("Read allocates %v times per call", n)
	}
}

func BenchmarkRead(b *testing.B) {
	d, err := New(newConstBus(), 0x6A, nil)
	if err != nil {
		b.Fatal(err)
	}
	var s sensor.Sample
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Read(&s); err != nil {
			b.Fatal(err)
		}
	}
}
