package mpu6050

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
	// Accelerometer sensitivity in LSB/g per AFS_SEL (register map 4.5 /
	// product specification 6.2).
	accelTable = []struct {
		r       AccelRange
		afsBits byte
		lsbPerG float64
	}{
		{Accel2G, 0x00, 16384},
		{Accel4G, 0x08, 8192},
		{Accel8G, 0x10, 4096},
		{Accel16G, 0x18, 2048},
	}
	// Gyroscope sensitivity in LSB/(°/s) per FS_SEL (product specification
	// 6.1).
	gyroTable = []struct {
		r         GyroRange
		fsBits    byte
		lsbPerDPS float64
	}{
		{Gyro250DPS, 0x00, 131},
		{Gyro500DPS, 0x08, 65.5},
		{Gyro1000DPS, 0x10, 32.8},
		{Gyro2000DPS, 0x18, 16.4},
	}
)

// sleeps records doSleep calls instead of sleeping.
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

// regs are the configuration register values an init writes.
type regs struct {
	div, config, gyro, accel byte
}

// defaultRegs: 200 Hz (SMPLRT_DIV 4), DLPF_CFG 2 (92 Hz ≤ 100 Hz), ±500 °/s,
// ±4 g.
var defaultRegs = regs{div: 4, config: 2, gyro: 0x08, accel: 0x08}

// initOps is the transaction list of New (reset) or of a re-initialisation.
func initOps(addr uint16, who byte, reset bool, r regs) []i2ctest.IO {
	ops := []i2ctest.IO{{Addr: addr, W: []byte{0x75}, R: []byte{who}}}
	if reset {
		ops = append(ops, i2ctest.IO{Addr: addr, W: []byte{0x6B, 0x80}})
	}
	ops = append(ops,
		i2ctest.IO{Addr: addr, W: []byte{0x6B, 0x01}},
		i2ctest.IO{Addr: addr, W: []byte{0x6C, 0x00}},
		i2ctest.IO{Addr: addr, W: []byte{0x19, r.div}},
		i2ctest.IO{Addr: addr, W: []byte{0x1A, r.config}},
		i2ctest.IO{Addr: addr, W: []byte{0x1B, r.gyro}},
		i2ctest.IO{Addr: addr, W: []byte{0x1C, r.accel}},
	)
	if who != 0x68 {
		ops = append(ops, i2ctest.IO{Addr: addr, W: []byte{0x1D, r.config}})
	}
	return ops
}

// burst encodes a 14-byte ACCEL_XOUT_H read.
func burst(addr uint16, accel [3]int16, temp int16, gyro [3]int16) i2ctest.IO {
	r := make([]byte, 0, 14)
	be := func(v int16) { r = append(r, byte(uint16(v)>>8), byte(v)) }
	for _, v := range accel {
		be(v)
	}
	be(temp)
	for _, v := range gyro {
		be(v)
	}
	return i2ctest.IO{Addr: addr, W: []byte{0x3B}, R: r}
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

func TestNewEachChip(t *testing.T) {
	for _, tc := range []struct {
		who  byte
		addr uint16
		chip Chip
		name string
	}{
		{0x68, 0x68, MPU6050, "mpu6050@0x68"},
		{0x68, 0x69, MPU6050, "mpu6050@0x69"},
		{0x70, 0x68, MPU6500, "mpu6500@0x68"},
		{0x71, 0x68, MPU9250, "mpu9250@0x68"},
		{0x73, 0x69, MPU9255, "mpu9255@0x69"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			takeSleeps()
			pb := &i2ctest.Playback{Ops: initOps(tc.addr, tc.who, true, defaultRegs), DontPanic: true}
			d, err := New(pb, tc.addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			closeOK(t, pb)
			if d.Chip() != tc.chip || d.Chip().WhoAmI() != tc.who {
				t.Errorf("chip %v (WHO_AM_I %#x), want %v", d.Chip(), d.Chip().WhoAmI(), tc.chip)
			}
			if d.String() != tc.name {
				t.Errorf("String() = %q, want %q", d.String(), tc.name)
			}
			if s := takeSleeps(); len(s) != 1 || s[0] < 100*time.Millisecond {
				t.Errorf("sleeps after reset = %v, want one of at least 100 ms", s)
			}
		})
	}
}

func TestInitRegistersPerRange(t *testing.T) {
	for _, a := range accelTable {
		for _, g := range gyroTable {
			pb := &i2ctest.Playback{DontPanic: true, Ops: initOps(0x68, 0x71, true, regs{div: 4, config: 2, gyro: g.fsBits, accel: a.afsBits})}
			if _, err := New(pb, 0x68, &Opts{AccelRange: a.r, GyroRange: g.r}); err != nil {
				t.Fatalf("%v %v: %v", a.r, g.r, err)
			}
			closeOK(t, pb)
		}
	}
}

func TestInitRateAndFilter(t *testing.T) {
	for _, tc := range []struct {
		rate      int
		dlpf      DLPF
		div, cfg  byte
		wantDLPF  DLPF
		chipWhoAm byte
	}{
		{1000, 0, 0, 1, DLPF184Hz, 0x68},
		{500, 0, 1, 1, DLPF184Hz, 0x71},
		{250, 0, 3, 2, DLPF92Hz, 0x68},
		{200, 0, 4, 2, DLPF92Hz, 0x70},
		{200, DLPF41Hz, 4, 3, DLPF41Hz, 0x68},
		{125, 0, 7, 3, DLPF41Hz, 0x68},
		{100, DLPF5Hz, 9, 6, DLPF5Hz, 0x71},
		{50, 0, 19, 4, DLPF20Hz, 0x68},
		{20, 0, 49, 5, DLPF10Hz, 0x73},
		{10, 0, 99, 6, DLPF5Hz, 0x68},
	} {
		pb := &i2ctest.Playback{DontPanic: true, Ops: initOps(0x68, tc.chipWhoAm, true, regs{div: tc.div, config: tc.cfg, gyro: 0x08, accel: 0x08})}
		d, err := New(pb, 0x68, &Opts{RateHz: tc.rate, DLPF: tc.dlpf})
		if err != nil {
			t.Fatalf("%d Hz %v: %v", tc.rate, tc.dlpf, err)
		}
		closeOK(t, pb)
		if got := d.Opts().DLPF; got != tc.wantDLPF {
			t.Errorf("%d Hz: DLPF %v, want %v", tc.rate, got, tc.wantDLPF)
		}
	}
}

func TestScalingEveryRange(t *testing.T) {
	raw := [3]int16{12345, -20000, 1}
	for _, a := range accelTable {
		for _, g := range gyroTable {
			ops := initOps(0x68, 0x68, true, regs{div: 4, config: 2, gyro: g.fsBits, accel: a.afsBits})
			ops = append(ops, burst(0x68, raw, 0, raw))
			pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
			d, err := New(pb, 0x68, &Opts{AccelRange: a.r, GyroRange: g.r})
			if err != nil {
				t.Fatal(err)
			}
			var s sensor.Sample
			if err := d.Read(&s); err != nil {
				t.Fatal(err)
			}
			closeOK(t, pb)
			for i, v := range raw {
				if want := float64(v) / a.lsbPerG * g0; !near(s.Accel[i], want, 1e-6) {
					t.Errorf("%v accel[%d] raw %d = %g m/s², want %g", a.r, i, v, s.Accel[i], want)
				}
				if want := float64(v) / g.lsbPerDPS * deg; !near(s.Gyro[i], want, 1e-6) {
					t.Errorf("%v gyro[%d] raw %d = %g rad/s, want %g", g.r, i, v, s.Gyro[i], want)
				}
			}
		}
	}
}

// One g on Z at ±2 g reads 16384 LSB: the whole chain gives g₀.
func TestOneGAtRest(t *testing.T) {
	ops := append(initOps(0x68, 0x68, true, regs{div: 4, config: 2, gyro: 0x00, accel: 0x00}),
		burst(0x68, [3]int16{0, 0, 16384}, 0, [3]int16{131, 0, -131}))
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	d, err := New(pb, 0x68, &Opts{AccelRange: Accel2G, GyroRange: Gyro250DPS})
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil {
		t.Fatal(err)
	}
	if !near(s.Accel[2], sensor.StandardGravity, 1e-6) || s.Accel[0] != 0 {
		t.Errorf("accel %v, want [0 0 9.80665]", s.Accel)
	}
	if !near(s.Gyro[0], deg, 1e-6) || !near(s.Gyro[2], -deg, 1e-6) {
		t.Errorf("gyro %v, want ±1 °/s in rad/s", s.Gyro)
	}
}

func TestTemperaturePerChip(t *testing.T) {
	for _, tc := range []struct {
		who  byte
		raw  int16
		want float64
	}{
		// MPU-6050 register map 4.18: T = TEMP_OUT/340 + 36.53.
		{0x68, -521, -521.0/340 + 36.53},
		{0x68, 0, 36.53},
		// MPU-6500/9250 register maps: T = TEMP_OUT/333.87 + 21.
		{0x70, 1000, 1000/333.87 + 21},
		{0x71, -3339, -3339/333.87 + 21},
		{0x73, 0, 21},
	} {
		ops := append(initOps(0x68, tc.who, true, defaultRegs), burst(0x68, [3]int16{}, tc.raw, [3]int16{}))
		pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
		d, err := New(pb, 0x68, nil)
		if err != nil {
			t.Fatal(err)
		}
		var s sensor.Sample
		if err := d.Read(&s); err != nil {
			t.Fatal(err)
		}
		if !near(s.TempC, tc.want, 1e-6) {
			t.Errorf("WHO_AM_I %#x raw %d: %g °C, want %g", tc.who, tc.raw, s.TempC, tc.want)
		}
	}
}

func TestSaturation(t *testing.T) {
	for _, tc := range []struct {
		accel, gyro [3]int16
		sat         bool
	}{
		{[3]int16{32766, -32767, 0}, [3]int16{32766, -32767, 0}, false},
		{[3]int16{32767, 0, 0}, [3]int16{}, true},
		{[3]int16{0, 0, -32768}, [3]int16{}, true},
		{[3]int16{}, [3]int16{0, 32767, 0}, true},
		{[3]int16{}, [3]int16{0, 0, -32768}, true},
	} {
		ops := append(initOps(0x68, 0x68, true, defaultRegs), burst(0x68, tc.accel, 0, tc.gyro))
		pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
		d, err := New(pb, 0x68, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := sensor.Sample{Status: sensor.StatusSaturated | sensor.StatusLate}
		if err := d.Read(&s); err != nil {
			t.Fatal(err)
		}
		if got := s.Status&sensor.StatusSaturated != 0; got != tc.sat {
			t.Errorf("accel %v gyro %v: saturated %v, want %v", tc.accel, tc.gyro, got, tc.sat)
		}
		if s.Status&sensor.StatusLate == 0 {
			t.Error("Read cleared the caller's StatusLate")
		}
	}
}

func TestUnknownWhoAmI(t *testing.T) {
	for _, who := range []byte{0x00, 0x72, 0x98, 0xFF} {
		pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{{Addr: 0x69, W: []byte{0x75}, R: []byte{who}}}}
		_, err := New(pb, 0x69, nil)
		var we *WhoAmIError
		if !errors.As(err, &we) || we.Got != who || we.Addr != 0x69 {
			t.Fatalf("WHO_AM_I %#x: error %v, want *WhoAmIError", who, err)
		}
		msg := err.Error()
		for _, want := range []string{"mpu6050: ", "0x69", "0x68 (MPU-6050)", "0x70", "0x71", "0x73"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
		}
		if !strings.Contains(msg, "WHO_AM_I 0x"+hex2(who)) {
			t.Errorf("message %q does not say what was read", msg)
		}
		closeOK(t, pb)
	}
}

func hex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

var errNACK = errors.New("remote I/O error")

func TestNothingAtAddress(t *testing.T) {
	bus := &faultBus{inner: &i2ctest.Playback{DontPanic: true}}
	bus.failNext(1)
	_, err := New(bus, 0x68, nil)
	if !errors.Is(err, sensor.ErrNotFound) || !errors.Is(err, errNACK) {
		t.Fatalf("error %v, want sensor.ErrNotFound wrapping the bus error", err)
	}
	if !strings.HasPrefix(err.Error(), "mpu6050: ") || !strings.Contains(err.Error(), "0x68") {
		t.Errorf("message %q", err)
	}
}

func TestInvalidOpts(t *testing.T) {
	for _, tc := range []struct {
		opts  Opts
		lists string
	}{
		{Opts{AccelRange: 3}, "2, 4, 8, 16"},
		{Opts{AccelRange: 260}, "2, 4, 8, 16"},
		{Opts{GyroRange: 245}, "250, 500, 1000, 2000"},
		{Opts{RateHz: 300}, "1000, 500, 250, 200, 125, 100, 50, 40, 25, 20, 10"},
		{Opts{RateHz: 2000}, "1000, 500"},
		{Opts{RateHz: 8}, ", 10 Hz"},
		{Opts{RateHz: -200}, "200"},
		{Opts{DLPF: 98}, "184, 92, 41, 20, 10, 5"},
		{Opts{DLPF: DLPF184Hz}, "valid at 200 Hz: 92, 41, 20, 10, 5"},
		{Opts{RateHz: 50, DLPF: DLPF41Hz}, "valid at 50 Hz: 20, 10, 5"},
		{Opts{MaxErrors: -1}, "MaxErrors"},
	} {
		err := tc.opts.Validate()
		if !errors.Is(err, ErrInvalidOpts) {
			t.Errorf("%+v: %v, want ErrInvalidOpts", tc.opts, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.lists) {
			t.Errorf("%+v: %q does not list %q", tc.opts, err, tc.lists)
		}
		if _, err := New(&i2ctest.Playback{DontPanic: true}, 0x68, &tc.opts); !errors.Is(err, ErrInvalidOpts) {
			t.Errorf("New(%+v) = %v, want ErrInvalidOpts before any bus traffic", tc.opts, err)
		}
	}
	if _, err := New(&i2ctest.Playback{DontPanic: true}, 0x6A, nil); !errors.Is(err, ErrInvalidOpts) || !strings.Contains(err.Error(), "0x68 (AD0 low), 0x69 (AD0 high)") {
		t.Errorf("address 0x6a: %v", err)
	}
	if err := (*Opts)(nil).Validate(); err != nil {
		t.Errorf("nil opts: %v", err)
	}
	if err := DefaultOpts.Validate(); err != nil {
		t.Errorf("DefaultOpts: %v", err)
	}
}

func TestValidRates(t *testing.T) {
	// Whole divisors of the 1 kHz internal rate, and ≥ 10 Hz so that the
	// 5 Hz filter is below Nyquist.
	var want []int
	for r := 1000; r >= 1; r-- {
		if 1000%r == 0 && r >= 10 {
			want = append(want, r)
		}
	}
	got := ValidRates()
	if len(got) != len(want) {
		t.Fatalf("ValidRates() = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("ValidRates() = %v, want %v", got, want)
		}
		if err := (&Opts{RateHz: got[i]}).Validate(); err != nil {
			t.Errorf("rate %d: %v", got[i], err)
		}
	}
}

// faultBus passes transactions to a Playback until told to fail: failed
// transactions consume nothing, like a chip that does not answer.
type faultBus struct {
	inner *i2ctest.Playback
	fails int // transactions left to fail
	txs   int
}

func (f *faultBus) failNext(n int) { f.fails = n }

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
	const k = 3
	good := burst(0x68, [3]int16{0, 0, 8192}, 0, [3]int16{})
	ops := initOps(0x68, 0x71, true, defaultRegs)
	ops = append(ops, good)                                       // read 1: good
	ops = append(ops, initOps(0x68, 0x71, false, defaultRegs)...) // read 2+k+1: re-init, no reset
	ops = append(ops, good, good)                                 // ... then reads go on
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	bus := &faultBus{inner: pb}
	d, err := New(bus, 0x68, &Opts{MaxErrors: k})
	if err != nil {
		t.Fatal(err)
	}
	takeSleeps()
	var s sensor.Sample
	if err := d.Read(&s); err != nil || s.Status != 0 || !near(s.Accel[2], g0, 1e-6) {
		t.Fatalf("first read: %v status %#x accel %v", err, s.Status, s.Accel)
	}
	last := s.Accel

	// k failed bursts, then k more failures while re-initialising: the
	// sensor is gone. Each sets the flag, is counted, keeps the values.
	bus.failNext(2 * k)
	for i := range 2 * k {
		txs := bus.txs
		s.Status |= sensor.StatusLate
		err := d.Read(&s)
		if !errors.Is(err, errNACK) || !strings.HasPrefix(err.Error(), "mpu6050: ") {
			t.Fatalf("failed read %d: %v", i, err)
		}
		if s.Status != sensor.StatusSensorError|sensor.StatusLate || s.Accel != last {
			t.Fatalf("failed read %d: status %#x accel %v", i, s.Status, s.Accel)
		}
		if n := bus.txs - txs; n != 1 {
			t.Fatalf("failed read %d: %d transactions, want 1", i, n)
		}
		if i >= k && !strings.Contains(err.Error(), "re-initialising") {
			t.Errorf("read %d after %d failures did not re-initialise: %v", i, k, err)
		}
		s.Status &^= sensor.StatusLate
	}
	if st := d.Stats(); st.Errors != 2*k || st.Reads != 1 || st.Reinits != 0 {
		t.Errorf("stats %+v", st)
	}

	// The sensor is back: re-init, then the burst, flagged StatusReinit once.
	if err := d.Read(&s); err != nil {
		t.Fatal(err)
	}
	if s.Status != sensor.StatusReinit {
		t.Errorf("status after recovery %#x, want StatusReinit", s.Status)
	}
	if err := d.Read(&s); err != nil || s.Status != 0 {
		t.Errorf("next read: %v status %#x", err, s.Status)
	}
	closeOK(t, pb)
	if st := d.Stats(); st.Errors != 2*k || st.Reads != 3 || st.Reinits != 1 {
		t.Errorf("stats %+v", st)
	}
	if s := takeSleeps(); len(s) != 0 {
		t.Errorf("re-initialisation slept %v on the hot path", s)
	}
}

// Fewer than MaxErrors failures in a row: no re-initialisation.
func TestFaultsBelowThreshold(t *testing.T) {
	good := burst(0x68, [3]int16{1, 2, 3}, 0, [3]int16{})
	ops := append(initOps(0x68, 0x68, true, defaultRegs), good, good)
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	bus := &faultBus{inner: pb}
	d, err := New(bus, 0x68, nil) // MaxErrors 10
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	for range 2 {
		bus.failNext(9)
		for range 9 {
			if err := d.Read(&s); err == nil {
				t.Fatal("read did not fail")
			}
		}
		if err := d.Read(&s); err != nil || s.Status != 0 {
			t.Fatalf("read: %v status %#x", err, s.Status)
		}
	}
	closeOK(t, pb)
	if st := d.Stats(); st.Errors != 18 || st.Reinits != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestReinitWrongChip(t *testing.T) {
	ops := append(initOps(0x68, 0x68, true, defaultRegs), i2ctest.IO{Addr: 0x68, W: []byte{0x75}, R: []byte{0x00}})
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	bus := &faultBus{inner: pb}
	d, err := New(bus, 0x68, &Opts{MaxErrors: 1})
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	bus.failNext(1)
	_ = d.Read(&s)
	err = d.Read(&s)
	var we *WhoAmIError
	if !errors.As(err, &we) || we.Got != 0 || s.Status&sensor.StatusSensorError == 0 {
		t.Fatalf("got %v status %#x, want a WhoAmIError and the error flag", err, s.Status)
	}
	closeOK(t, pb)
}

func TestHalt(t *testing.T) {
	ops := append(initOps(0x69, 0x70, true, defaultRegs), i2ctest.IO{Addr: 0x69, W: []byte{0x6B, 0x41}})
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	d, err := New(pb, 0x69, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	closeOK(t, pb)
}

// countBus answers every burst with the same bytes and counts transactions.
type countBus struct {
	data [14]byte
	txs  int
}

func (c *countBus) String() string { return "count" }

func (c *countBus) Tx(addr uint16, w, r []byte) error {
	c.txs++
	if len(w) == 1 && w[0] == 0x75 {
		r[0] = 0x68
		return nil
	}
	copy(r, c.data[:])
	return nil
}

func (c *countBus) SetSpeed(physic.Frequency) error { return nil }

func TestOneTransactionPerRead(t *testing.T) {
	bus := &countBus{}
	d, err := New(bus, 0x68, nil)
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
			t.Fatalf("read %d: %d transactions, want 1", i, n)
		}
	}
}

func TestReadDoesNotAllocate(t *testing.T) {
	d, err := New(&countBus{}, 0x68, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	if n := testing.AllocsPerRun(1000, func() { _ = d.Read(&s) }); n != 0 {
		t.Errorf("Read allocates %v times per call", n)
	}
}

func BenchmarkRead(b *testing.B) {
	bus := &countBus{data: [14]byte{0x01, 0x02, 0xF0, 0x00, 0x20, 0x00, 0xFF, 0x00, 0x00, 0x10, 0xFF, 0xF0, 0x00, 0x01}}
	d, err := New(bus, 0x68, nil)
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
