package calib

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor"
)

const g0 = 9.80665

func mulVec(r [3][3]float64, v [3]float64) [3]float64 {
	var out [3]float64
	for i := range 3 {
		for j := range 3 {
			out[i] += r[i][j] * v[j]
		}
	}
	return out
}

func transpose(r [3][3]float64) [3][3]float64 {
	var t [3][3]float64
	for i := range 3 {
		for j := range 3 {
			t[i][j] = r[j][i]
		}
	}
	return t
}

func rotZ(deg float64) [3][3]float64 {
	c, s := math.Cos(deg*math.Pi/180), math.Sin(deg*math.Pi/180)
	return [3][3]float64{{c, -s, 0}, {s, c, 0}, {0, 0, 1}}
}

func rotX(deg float64) [3][3]float64 {
	c, s := math.Cos(deg*math.Pi/180), math.Sin(deg*math.Pi/180)
	return [3][3]float64{{1, 0, 0}, {0, c, -s}, {0, s, c}}
}

func mulMat(a, b [3][3]float64) [3][3]float64 {
	var out [3][3]float64
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				out[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return out
}

func TestParseMountingAxes(t *testing.T) {
	for _, tc := range []struct {
		in    string
		r     [3][3]float64
		canon string
	}{
		{"", identity, "x=x,y=y,z=z"},
		{"identity", identity, "x=x,y=y,z=z"},
		{"x=x,y=y,z=z", identity, "x=x,y=y,z=z"},
		// Sensor rotated 90° about z: body x is the sensor's −y.
		{"x=-y,y=x,z=z", [3][3]float64{{0, -1, 0}, {1, 0, 0}, {0, 0, 1}}, "x=-y,y=x,z=z"},
		{" Z = +Z , X=-x, y=-Y ", [3][3]float64{{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}}, "x=-x,y=-y,z=z"},
		// Upside down about x.
		{"x=x,y=-y,z=-z", [3][3]float64{{1, 0, 0}, {0, -1, 0}, {0, 0, -1}}, "x=x,y=-y,z=-z"},
		// Sense HAT style: axes cycled.
		{"x=y,y=z,z=x", [3][3]float64{{0, 1, 0}, {0, 0, 1}, {1, 0, 0}}, "x=y,y=z,z=x"},
	} {
		m, err := ParseMounting(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if m.Matrix() != tc.r {
			t.Errorf("%q: %v, want %v", tc.in, m.Matrix(), tc.r)
		}
		if m.String() != tc.canon {
			t.Errorf("%q: String() = %q, want %q", tc.in, m.String(), tc.canon)
		}
	}
	// What "x=-y" means on a vector: sensor (1, 2, 3) is body (-2, 1, 3).
	m, _ := ParseMounting("x=-y,y=x,z=z")
	if got := mulVec(m.Matrix(), [3]float64{1, 2, 3}); got != [3]float64{-2, 1, 3} {
		t.Errorf("R·(1,2,3) = %v", got)
	}
}

func TestParseMountingInvalid(t *testing.T) {
	for _, tc := range []struct{ in, says string }{
		{"x=y,y=x,z=z", "reflection"},
		{"x=-x,y=y,z=z", "reflection"},
		{"x=x,x=y,z=z", "body axis x assigned twice"},
		{"x=x,y=x,z=z", "sensor axis x used twice"},
		{"x=w,y=y,z=z", "bad assignment"},
		{"x=x,y=y", "three assignments"},
		{"x=x,y=y,z=z,x=x", "three assignments"},
		{"x:-y,y=x,z=z", "bad assignment"},
		{"x=--y,y=x,z=z", "bad assignment"},
		{"[[1,0,0],[0,1,0]]", "calib: mounting matrix"},
		{"[[1,0,0],[0,1,0],[0,0,2]]", "not a rotation"},
	} {
		_, err := ParseMounting(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.says) || !strings.HasPrefix(err.Error(), "calib: ") {
			t.Errorf("%q: %v; want an error saying %q", tc.in, err, tc.says)
		}
	}
}

func TestMountingMatrix(t *testing.T) {
	r := mulMat(rotZ(30), rotX(-12))
	m, err := MountingMatrix(r)
	if err != nil {
		t.Fatal(err)
	}
	if m.Matrix() != r || !strings.HasPrefix(m.String(), "[[") {
		t.Errorf("%v %s", m.Matrix(), m)
	}
	m2, err := ParseMounting(m.String())
	if err != nil || m2.Matrix() != r {
		t.Errorf("matrix string round trip: %v %v", err, m2.Matrix())
	}
	for _, bad := range [][3][3]float64{
		{{1, 0, 0}, {0, 1, 0}, {0, 0, -1}},         // reflection
		{{1, 0, 0}, {0, 1, 0}, {0, 0.1, 1}},        // not orthogonal
		{{2, 0, 0}, {0, 1, 0}, {0, 0, 1}},          // not unit
		{{math.NaN(), 0, 0}, {0, 1, 0}, {0, 0, 1}}, // not finite
		{},
	} {
		if _, err := MountingMatrix(bad); !errors.Is(err, ErrNotRotation) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestMountingJSON(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{`"x=-y,y=x,z=z"`, `"x=-y,y=x,z=z"`},
		{`[[0,-1,0],[1,0,0],[0,0,1]]`, `"x=-y,y=x,z=z"`},
		{`[[1,0,0],[0,0.6,-0.8],[0,0.8,0.6]]`, `[[1,0,0],[0,0.6,-0.8],[0,0.8,0.6]]`},
	} {
		var m Mounting
		if err := json.Unmarshal([]byte(tc.in), &m); err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		b, err := json.Marshal(m)
		if err != nil || string(b) != tc.out {
			t.Errorf("%s: %s %v; want %s", tc.in, b, err, tc.out)
		}
	}
	for _, bad := range []string{`"x=y,y=x,z=z"`, `[[1,0,0],[0,1,0],[0,0,-1]]`, `42`, `{"x":"y"}`} {
		var m Mounting
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	var m Mounting
	if err := m.Set("x=z,y=y,z=-x"); err != nil || m.SensorUp() != [3]float64{-1, 0, 0} {
		t.Errorf("Set: %v, up %v", err, m.SensorUp())
	}
	if err := m.Set("nonsense"); err == nil {
		t.Error("Set accepted nonsense")
	}
}

func TestFileRoundTrip(t *testing.T) {
	m, _ := ParseMounting("x=-y,y=x,z=z")
	c := Calibration{
		Sensor:      "mpu6050@0x68",
		Created:     "2026-01-01T12:00:00Z",
		Samples:     2000,
		Gravity:     g0,
		GyroBias:    [3]float64{0.0123, -0.0051, 0.0007},
		AccelOffset: [3]float64{0, 0, 0.112},
		AccelScale:  [3]float64{1.001, 0.998, 1},
		Mounting:    m,
	}
	path := filepath.Join(t.TempDir(), "calib.json")
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{`"format": "imustream-calibration/1"`, `"mounting": "x=-y,y=x,z=z"`, `"gyro_bias_rad_s": [`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("file lacks %s:\n%s", want, b)
		}
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Format = Format
	if back != c {
		t.Errorf("round trip:\n%+v\nwant\n%+v", back, c)
	}
	// Zero scale and mounting are left out and read back as zero.
	if err := Save(path, Calibration{GyroBias: [3]float64{1e-3, 0, 0}}); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	if strings.Contains(string(b), "accel_scale") || strings.Contains(string(b), "mounting") {
		t.Errorf("zero fields written:\n%s", b)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("saved with mode %v, want 0644 for the daemon user to read", fi.Mode())
	}
	// A file in the way of the directory.
	if err := Save(filepath.Join(path, "calib.json"), c); err == nil || !strings.HasPrefix(err.Error(), "calib: ") {
		t.Errorf("Save under a regular file: %v", err)
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range []struct{ in, says string }{
		{`{"gyro_bias_rad_s":[0,0,0]}`, "format"},
		{`{"format":"imustream-calibration/2"}`, "format"},
		{`{"format":"imustream-calibration/1","accel_scale":[1,0,1]}`, "accel_scale[1]"},
		{`{"format":"imustream-calibration/1","mounting":"x=y,y=x,z=z"}`, "reflection"},
		{`{"format":"imustream-calibration/1","gyro_bias_rad_s":[0,0]}`, "want 3 values"},
		{`{"format":"imustream-calibration/1","accel_offset_m_s2":[0,0,0,1]}`, "want 3 values"},
		{`not json`, "calib: "},
	} {
		_, err := Parse([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v; want %q", tc.in, err, tc.says)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// atRest makes n samples of a still sensor whose frame is turned by
// attitude (v_sensor = attitude · v_world, world z up) with the given
// biases and Gaussian noise.
func atRest(n int, attitude [3][3]float64, gyroBias, accelOffset [3]float64, noise float64, seed uint64) []sensor.Sample {
	rng := rand.New(rand.NewPCG(seed, 1))
	g := mulVec(attitude, [3]float64{0, 0, g0})
	out := make([]sensor.Sample, n)
	for k := range out {
		for i := range 3 {
			out[k].Accel[i] = float32(g[i] + accelOffset[i] + noise*rng.NormFloat64())
			out[k].Gyro[i] = float32(gyroBias[i] + noise/100*rng.NormFloat64())
		}
	}
	return out
}

func TestEstimateAlongGravity(t *testing.T) {
	attitude := mulMat(rotX(7), rotZ(40)) // not level, unknown to the estimator
	up := mulVec(attitude, [3]float64{0, 0, 1})
	gyroBias := [3]float64{0.021, -0.013, 0.0042}
	// An offset along gravity is what one pose can recover exactly.
	var offset [3]float64
	for i := range 3 {
		offset[i] = 0.15 * up[i]
	}
	const noise, n = 0.03, 4000
	c, r, err := Estimate(atRest(n, attitude, gyroBias, offset, noise, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	tol := 5 * noise / math.Sqrt(n) // five standard errors
	for i := range 3 {
		if math.Abs(c.GyroBias[i]-gyroBias[i]) > tol/100+1e-6 {
			t.Errorf("gyro bias[%d] = %g, want %g", i, c.GyroBias[i], gyroBias[i])
		}
		if math.Abs(c.AccelOffset[i]-offset[i]) > tol+1e-5 {
			t.Errorf("accel offset[%d] = %g, want %g", i, c.AccelOffset[i], offset[i])
		}
	}
	if r.N != n || c.Samples != n || math.Abs(r.AccelNorm-(g0+0.15)) > tol+1e-5 || c.Format != Format {
		t.Errorf("report %+v, calibration %+v", r, c)
	}
	if math.Abs(r.AccelStd[0]-noise) > 0.1*noise {
		t.Errorf("accel std %v, want about %g", r.AccelStd, noise)
	}
}

// With the up direction known, an offset across gravity is recovered too.
func TestEstimateWithUp(t *testing.T) {
	m, _ := ParseMounting("x=y,y=-x,z=z")
	attitude := transpose(m.Matrix()) // body level, so v_sensor = Rᵀ · v_world
	up := m.SensorUp()
	if got := mulVec(attitude, [3]float64{0, 0, 1}); got != up {
		t.Fatalf("test set-up: up %v vs %v", got, up)
	}
	offset := [3]float64{0.2, -0.35, 0.1}
	c, _, err := Estimate(atRest(2000, attitude, [3]float64{}, offset, 0.02, 2), &Opts{Up: &up})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if math.Abs(c.AccelOffset[i]-offset[i]) > 0.005 {
			t.Errorf("offset %v, want %v", c.AccelOffset, offset)
			break
		}
	}
	// Without Up only the part along gravity (z here) comes out.
	c, _, err = Estimate(atRest(2000, attitude, [3]float64{}, offset, 0.02, 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.AccelOffset[0]) > 0.01 || math.Abs(c.AccelOffset[1]) > 0.01 {
		t.Errorf("offset across gravity %v; one pose cannot see it", c.AccelOffset)
	}
}

func TestEstimateRefuses(t *testing.T) {
	still := func() []sensor.Sample { return atRest(500, identity, [3]float64{}, [3]float64{}, 0.02, 3) }

	s := still()
	for i := range s {
		s[i].Gyro[1] += float32(0.5 * math.Sin(float64(i)/10)) // turning
	}
	if _, _, err := Estimate(s, nil); !errors.Is(err, ErrMoved) || !strings.Contains(err.Error(), "gyroscope y") {
		t.Errorf("turning: %v", err)
	}
	s = still()
	for i := range s {
		s[i].Accel[0] += float32(3 * math.Sin(float64(i)/5)) // shaking
	}
	if _, _, err := Estimate(s, nil); !errors.Is(err, ErrMoved) || !strings.Contains(err.Error(), "accelerometer x") {
		t.Errorf("shaking: %v", err)
	}
	if _, _, err := Estimate(still()[:50], nil); err == nil || !strings.Contains(err.Error(), "need at least 100") {
		t.Errorf("too few: %v", err)
	}
	s = still()
	for i := range s {
		s[i].Accel[2] /= 2 // as if the range were misconfigured
	}
	if _, _, err := Estimate(s, nil); err == nil || !strings.Contains(err.Error(), "from g") {
		t.Errorf("half g: %v", err)
	}
	up := [3]float64{1, 0, 0}
	if _, _, err := Estimate(still(), &Opts{Up: &up}); err == nil || !strings.Contains(err.Error(), "90°") {
		t.Errorf("wrong up: %v", err)
	}
	zero := [3]float64{}
	if _, _, err := Estimate(still(), &Opts{Up: &zero}); err == nil {
		t.Error("zero up accepted")
	}
}

func TestAccumulatorSkipsFlagged(t *testing.T) {
	var a Accumulator
	s := atRest(300, identity, [3]float64{0.01, 0, 0}, [3]float64{}, 0.01, 4)
	s[10].Status = sensor.StatusSensorError
	s[10].Accel = [3]float32{100, 100, 100}
	s[20].Status = sensor.StatusSaturated | sensor.StatusLate
	s[20].Gyro = [3]float32{34.9, 0, 0}
	s[30].Status = sensor.StatusLate // timing flags do not spoil a sample
	used := 0
	for i := range s {
		if a.Add(&s[i]) {
			used++
		}
	}
	c, r, err := a.Estimate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if used != 298 || a.N() != 298 || r.Skipped != 2 {
		t.Errorf("used %d, N %d, skipped %d", used, a.N(), r.Skipped)
	}
	if math.Abs(c.GyroBias[0]-0.01) > 1e-4 {
		t.Errorf("gyro bias %v", c.GyroBias)
	}
}

// fakeSensor returns fixed raw values, or an error.
type fakeSensor struct {
	accel, gyro [3]float32
	err         error
	halted      bool
}

func (f *fakeSensor) Read(s *sensor.Sample) error {
	if f.err != nil {
		s.Status |= sensor.StatusSensorError
		return f.err
	}
	s.Accel, s.Gyro, s.TempC = f.accel, f.gyro, 25
	return nil
}

func (f *fakeSensor) String() string { return "fake@0x00" }

func (f *fakeSensor) Halt() error { f.halted = true; return nil }

func TestApply(t *testing.T) {
	m, _ := MountingMatrix(mulMat(rotZ(90), rotX(180)))
	c := Calibration{
		GyroBias:    [3]float64{0.01, -0.02, 0.03},
		AccelOffset: [3]float64{0.1, 0.2, -0.3},
		AccelScale:  [3]float64{1.01, 0.99, 1},
		Mounting:    m,
	}
	raw := &fakeSensor{accel: [3]float32{1, -2, 9.5}, gyro: [3]float32{0.5, 0.25, -0.125}}
	s, err := Apply(raw, c)
	if err != nil {
		t.Fatal(err)
	}
	var x sensor.Sample
	x.Status = sensor.StatusLate
	if err := s.Read(&x); err != nil {
		t.Fatal(err)
	}
	var a, g [3]float64
	for i := range 3 {
		a[i] = (float64(raw.accel[i]) - c.AccelOffset[i]) * c.AccelScale[i]
		g[i] = float64(raw.gyro[i]) - c.GyroBias[i]
	}
	wantA, wantG := mulVec(m.Matrix(), a), mulVec(m.Matrix(), g)
	for i := range 3 {
		if math.Abs(float64(x.Accel[i])-wantA[i]) > 1e-5 || math.Abs(float64(x.Gyro[i])-wantG[i]) > 1e-6 {
			t.Fatalf("accel %v gyro %v, want %v %v", x.Accel, x.Gyro, wantA, wantG)
		}
	}
	if x.TempC != 25 || x.Status != sensor.StatusLate {
		t.Errorf("temp %v status %#x changed", x.TempC, x.Status)
	}

	// A failed read leaves the corrected values: no second correction.
	before := x
	raw.err = errors.New("bus down")
	if err := s.Read(&x); !errors.Is(err, raw.err) {
		t.Fatal(err)
	}
	if x.Accel != before.Accel || x.Gyro != before.Gyro || x.Status&sensor.StatusSensorError == 0 {
		t.Errorf("after a failed read: %+v", x)
	}
	if s.String() != "fake@0x00" || s.Halt() != nil || !raw.halted {
		t.Error("String or Halt not passed through")
	}
	if u, ok := s.(interface{ Unwrap() sensor.Sensor }); !ok || u.Unwrap() != raw {
		t.Error("Unwrap")
	}
	if _, err := Apply(raw, Calibration{AccelScale: [3]float64{1, 1, 0}}); err == nil {
		t.Error("invalid calibration applied")
	}
}

// The whole path: a sensor mounted turned and upside down in a level body
// at rest; calibrate in the sensor frame with the body's up, apply, and the
// body sees exactly g up and no rotation.
func TestCalibrateThenApply(t *testing.T) {
	mount, err := ParseMounting("x=y,y=x,z=-z")
	if err != nil {
		t.Fatal(err)
	}
	toSensor := transpose(mount.Matrix()) // world = body (level)
	gyroBias := [3]float64{0.03, 0.01, -0.02}
	offset := [3]float64{0.3, -0.2, 0.15}
	samples := atRest(3000, toSensor, gyroBias, offset, 0.02, 5)
	up := mount.SensorUp()
	c, _, err := Estimate(samples, &Opts{Up: &up})
	if err != nil {
		t.Fatal(err)
	}
	c.Mounting = mount
	raw := &fakeSensor{}
	s, err := Apply(raw, c)
	if err != nil {
		t.Fatal(err)
	}
	var x sensor.Sample
	g := mulVec(toSensor, [3]float64{0, 0, g0})
	for i := range 3 {
		raw.accel[i] = float32(g[i] + offset[i])
		raw.gyro[i] = float32(gyroBias[i])
	}
	if err := s.Read(&x); err != nil {
		t.Fatal(err)
	}
	want := [3]float64{0, 0, g0}
	for i := range 3 {
		if math.Abs(float64(x.Accel[i])-want[i]) > 0.01 || math.Abs(float64(x.Gyro[i])) > 1e-3 {
			t.Fatalf("body accel %v gyro %v; want %v and 0", x.Accel, x.Gyro, want)
		}
	}
}

func TestApplyDoesNotAllocate(t *testing.T) {
	m, _ := ParseMounting("x=-y,y=x,z=z")
	s, _ := Apply(&fakeSensor{accel: [3]float32{0, 0, 9.8}}, Calibration{Mounting: m, GyroBias: [3]float64{0.1, 0, 0}})
	var x sensor.Sample
	if n := testing.AllocsPerRun(1000, func() { _ = s.Read(&x) }); n != 0 {
		t.Errorf("%v allocations per Read", n)
	}
}

func BenchmarkApplyRead(b *testing.B) {
	m, _ := MountingMatrix(rotZ(30))
	s, _ := Apply(&fakeSensor{accel: [3]float32{0, 0, 9.8}}, Calibration{Mounting: m, GyroBias: [3]float64{0.1, 0, 0}})
	var x sensor.Sample
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Read(&x)
	}
}
