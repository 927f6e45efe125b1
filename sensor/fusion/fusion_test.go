package fusion

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/imustream/imustream/internal/leaktest"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

const deg = math.Pi / 180

// fake returns fixed values, or an error.
type fake struct {
	s   sensor.Sample
	err error
}

func (f *fake) Read(s *sensor.Sample) error {
	if f.err != nil {
		s.Status |= sensor.StatusSensorError
		return f.err
	}
	s.Accel, s.Gyro, s.Mag = f.s.Accel, f.s.Gyro, f.s.Mag
	s.Status |= f.s.Status
	return nil
}
func (f *fake) String() string { return "fake" }
func (f *fake) Halt() error    { return nil }

// level: flat, x east: up (0,0,g), the field north and down.
func level() *fake {
	return &fake{s: sensor.Sample{Accel: [3]float32{0, 0, 9.8}, Mag: [3]float32{0, 20, -45}, Status: sensor.StatusMag}}
}

func read(t *testing.T, s sensor.Sensor, x *sensor.Sample, ns int64) {
	t.Helper()
	x.MonoNs, x.Status = ns, 0
	if err := s.Read(x); err != nil {
		t.Fatal(err)
	}
}

func TestStartsAtOnce(t *testing.T) {
	// Turned 90° about z (yaw +90°): body x points north, so the field's
	// horizontal part reads along +x (and body y points west).
	f := &fake{s: sensor.Sample{Accel: [3]float32{0, 0, 9.8}, Mag: [3]float32{20, 0, -45}, Status: sensor.StatusMag}}
	st, err := New(f, &Opts{Mode: NineAxis})
	if err != nil {
		t.Fatal(err)
	}
	var x sensor.Sample
	read(t, st, &x, 1)
	if x.Status&sensor.StatusOrientation == 0 {
		t.Fatal("no orientation from the first sample")
	}
	e := Euler([4]float64{float64(x.Quat[0]), float64(x.Quat[1]), float64(x.Quat[2]), float64(x.Quat[3])})
	if math.Abs(e[0]) > 1e-5 || math.Abs(e[1]) > 1e-5 || math.Abs(e[2]-90*deg) > 1e-5 {
		t.Errorf("euler %v°, want 0, 0, 90", [3]float64{e[0] / deg, e[1] / deg, e[2] / deg})
	}
}

func TestNineAxisWaitsForMag(t *testing.T) {
	f := level()
	f.s.Status = 0
	st, _ := New(f, nil)
	var x sensor.Sample
	read(t, st, &x, 1)
	if x.Status&sensor.StatusOrientation != 0 {
		t.Error("9-axis started without a magnetometer reading")
	}
	f.s.Status = sensor.StatusMag | sensor.StatusMagOverflow
	read(t, st, &x, 5e6)
	if x.Status&sensor.StatusOrientation != 0 {
		t.Error("9-axis started on an overflowed field")
	}
	f.s.Status = sensor.StatusMag
	read(t, st, &x, 10e6)
	if x.Status&sensor.StatusOrientation == 0 {
		t.Error("9-axis did not start with a field")
	}
	// A failed read keeps the orientation, flagged.
	f.err = errors.New("bus")
	x.Status = 0
	q := x.Quat
	if err := st.Read(&x); err == nil || x.Status&sensor.StatusOrientation == 0 || x.Quat != q {
		t.Errorf("failed read: %v %#x %v", err, x.Status, x.Quat)
	}
}

// A device shaken sideways: the acceleration is rejected and the tilt
// stays; after RecoveryTime the filter accepts it again.
func TestAccelerationRejection(t *testing.T) {
	f := level()
	st, _ := New(f, &Opts{Mode: SixAxis})
	var x sensor.Sample
	ns := int64(0)
	for range 800 { // 4 s level, past the start's ramp
		ns += 5e6
		read(t, st, &x, ns)
	}
	f.s.Accel = [3]float32{5, 0, 9.8} // 27° off
	for range 200 {
		ns += 5e6
		read(t, st, &x, ns)
	}
	if acc, _ := st.Filter().Rejected(); !acc {
		t.Error("acceleration not rejected")
	}
	if tilt := AngleBetween(st.Filter().Quat(), [4]float64{1, 0, 0, 0}); tilt > 0.5*deg {
		t.Errorf("tilted %.2f° by a rejected acceleration", tilt/deg)
	}
	for range 1400 { // past the 5 s recovery
		ns += 5e6
		read(t, st, &x, ns)
	}
	if acc, _ := st.Filter().Rejected(); acc {
		t.Error("still rejecting after the recovery time")
	}
}

// A field whose strength jumps (iron nearby) is rejected: the heading stays.
func TestMagneticRejection(t *testing.T) {
	f := level()
	st, _ := New(f, &Opts{Mode: NineAxis, StartupTime: 0.01})
	var x sensor.Sample
	ns := int64(0)
	for range 400 {
		ns += 5e6
		read(t, st, &x, ns)
	}
	f.s.Mag = [3]float32{60, 60, -45} // stronger and 45° off
	for range 200 {
		ns += 5e6
		read(t, st, &x, ns)
	}
	if _, mag := st.Filter().Rejected(); !mag {
		t.Error("disturbed field not rejected")
	}
	if e := Euler(st.Filter().Quat()); math.Abs(e[2]) > 0.5*deg {
		t.Errorf("heading moved %.2f° with a rejected field", e[2]/deg)
	}
}

// The offset at rest: a still 6-axis filter learns the z gyroscope's
// offset, which nothing else can observe, so the heading stops drifting.
func TestOffsetAtRest(t *testing.T) {
	f := level()
	f.s.Gyro = [3]float32{0.01, -0.02, 0.015}
	st, _ := New(f, &Opts{Mode: SixAxis})
	var x sensor.Sample
	for i := range 200 * 40 {
		read(t, st, &x, int64(i)*5e6)
	}
	off := st.Filter().Offset()
	for i := range 3 {
		if math.Abs(off[i]-float64(f.s.Gyro[i])) > 1e-4 {
			t.Errorf("offset %v, want %v", off, f.s.Gyro)
		}
	}
}

func TestGapRestarts(t *testing.T) {
	d := sim.New(sim.Opts{Seed: 1, Mag: true, NoBias: true})
	st, _ := New(d, nil)
	var x sensor.Sample
	read(t, st, &x, 0)
	read(t, st, &x, 3e9) // 3 s gap: start afresh from the sample
	truth := sim.EulerQuat(d.Truth())
	if a := AngleBetween([4]float64{float64(x.Quat[0]), float64(x.Quat[1]), float64(x.Quat[2]), float64(x.Quat[3])}, truth); a > 1*deg {
		t.Errorf("after a gap %.2f° off", a/deg)
	}
}

func TestOpts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Mode
	}{{"off", Off}, {"6", SixAxis}, {"9", NineAxis}} {
		if m, err := ParseMode(tc.in); err != nil || m != tc.want || (m != Off && m.String() != tc.in) {
			t.Errorf("%q: %v %v", tc.in, m, err)
		}
	}
	if _, err := ParseMode("3"); !errors.Is(err, ErrInvalidOpts) {
		t.Error(err)
	}
	for _, o := range []Opts{{Mode: 3}, {Mode: 9, Gain: -1}, {Mode: 9, Gain: 100}, {Mode: 6, DeclinationDeg: 200}, {Mode: 6, Gain: math.NaN()}} {
		if _, err := New(level(), &o); !errors.Is(err, ErrInvalidOpts) || !strings.HasPrefix(err.Error(), "fusion: ") {
			t.Errorf("%+v: %v", o, err)
		}
	}
	st, _ := New(level(), &Opts{Mode: SixAxis, IntegralGain: -1})
	if st.Filter().Opts().IntegralGain != 0 || st.String() != "fake" || st.Halt() != nil {
		t.Error("options or pass-through")
	}
	var s sensor.Sensor = st
	if u, ok := s.(interface{ Unwrap() sensor.Sensor }); !ok || u.Unwrap().String() != "fake" {
		t.Error("Unwrap")
	}
}

func TestMatToQuatRoundTrip(t *testing.T) {
	for _, ang := range [][3]float64{{0, 0, 0}, {10, -5, 30}, {170, 20, -100}, {-90, 80, 179}, {0, 0, 180}, {180, 0, 0}, {0, 180, 0}} {
		a := [3]float64{ang[0] * deg, ang[1] * deg, ang[2] * deg}
		want := sim.EulerQuat(a)
		got := matToQuat(sim.EulerMatrix(a))
		if AngleBetween(got, want) > 1e-6 || got[0] < 0 {
			t.Errorf("%v: %v, want %v", ang, got, want)
		}
	}
}

func TestReadDoesNotAllocate(t *testing.T) {
	st, _ := New(sim.New(sim.Opts{Mag: true}), nil)
	var x sensor.Sample
	ns := int64(0)
	if n := testing.AllocsPerRun(1000, func() { ns += 5e6; x.MonoNs = ns; _ = st.Read(&x) }); n != 0 {
		t.Errorf("%v allocations per Read", n)
	}
}

// BenchmarkUpdate is one 9-axis filter update.
func BenchmarkUpdate(b *testing.B) {
	f, _ := NewFilter(nil)
	g, a, m := [3]float64{0.01, -0.02, 0.3}, [3]float64{0.1, 0.2, 9.8}, [3]float64{0, 20, -45}
	f.Update(g, a, &m, 0)
	cpuPerOp(b, func() { f.Update(g, a, &m, 0.005) })
}

// BenchmarkStageRead is a Read through the stage, the simulator included.
func BenchmarkStageRead(b *testing.B) {
	st, _ := New(sim.New(sim.Opts{Mag: true}), nil)
	var x sensor.Sample
	ns := int64(0)
	cpuPerOp(b, func() {
		ns += 5e6
		x.MonoNs, x.Status = ns, 0
		_ = st.Read(&x)
	})
}

// BenchmarkSimRead is the simulator alone, to subtract from StageRead.
func BenchmarkSimRead(b *testing.B) {
	d := sim.New(sim.Opts{Mag: true})
	var x sensor.Sample
	ns := int64(0)
	cpuPerOp(b, func() {
		ns += 5e6
		x.MonoNs, x.Status = ns, 0
		_ = d.Read(&x)
	})
}
