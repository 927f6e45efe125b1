package sim

import (
	"math"
	"testing"

	"github.com/imustream/imustream/sensor"
)

func quatMul(a, b [4]float64) [4]float64 {
	return [4]float64{
		a[0]*b[0] - a[1]*b[1] - a[2]*b[2] - a[3]*b[3],
		a[0]*b[1] + a[1]*b[0] + a[2]*b[3] - a[3]*b[2],
		a[0]*b[2] - a[1]*b[3] + a[2]*b[0] + a[3]*b[1],
		a[0]*b[3] + a[1]*b[2] - a[2]*b[1] + a[3]*b[0],
	}
}

// The scripted gyroscope, integrated, follows the scripted truth: the
// rates are the derivatives of the angles, seen in the body frame.
func TestScriptedGyroMatchesTruth(t *testing.T) {
	pose := [3]float64{10 * deg, -5 * deg, 30 * deg}
	d := New(Opts{Scripted: true, Pose: pose, NoiseFree: true, NoBias: true})
	var s sensor.Sample
	const period = int64(1e6) // 1 kHz for a small integration error
	readAt(t, d, &s, 0)
	q := EulerQuat(d.Truth())
	if d.Truth() != pose {
		t.Fatalf("truth at 0: %v, want the pose %v", d.Truth(), pose)
	}
	for i := int64(1); i <= 30000; i++ {
		g := s.Gyro // rate at the previous sample; midpoint with this one
		readAt(t, d, &s, i*period)
		var w [3]float64
		for k := range 3 {
			w[k] = (float64(g[k]) + float64(s.Gyro[k])) / 2
		}
		th := math.Sqrt(w[0]*w[0]+w[1]*w[1]+w[2]*w[2]) * 1e-3 / 2
		if th > 0 {
			k := math.Sin(th) / (th / 1e-3 * 2)
			q = quatMul(q, [4]float64{math.Cos(th), w[0] * k, w[1] * k, w[2] * k})
		}
	}
	truth := EulerQuat(d.Truth())
	dot := math.Abs(q[0]*truth[0] + q[1]*truth[1] + q[2]*truth[2] + q[3]*truth[3])
	if ang := 2 * math.Acos(min(dot, 1)); ang > 0.5*deg {
		t.Errorf("integrated gyro %.3f° off the truth after 30 s", ang/deg)
	}
	if d.Truth() == pose {
		t.Error("scripted motion did not move")
	}
}

// The magnetometer reads the world field turned into the body, then the
// soft and hard iron.
func TestMagnetometer(t *testing.T) {
	pose := [3]float64{10 * deg, -5 * deg, 30 * deg}
	soft := [3][3]float64{{1.1, 0.05, 0}, {0.05, 0.9, 0.02}, {0, 0.02, 1.05}}
	hard := [3]float64{12, -30, 7}
	field := Field{StrengthUT: 48, InclinationDeg: 60, DeclinationDeg: 5}
	d := New(Opts{Still: true, Pose: pose, Mag: true, NoiseFree: true, Field: field, SoftIron: soft, HardIron: hard})
	var s sensor.Sample
	readAt(t, d, &s, 0)
	if s.Status&sensor.StatusMag == 0 || !d.HasMag() {
		t.Fatal("no field")
	}
	r := EulerMatrix(pose)
	w := field.World()
	if n := math.Sqrt(w[0]*w[0] + w[1]*w[1] + w[2]*w[2]); math.Abs(n-48) > 1e-9 || w[2] >= 0 || w[1] <= 0 || w[0] <= 0 {
		t.Fatalf("world field %v: want 48 µT, north-east and down", w)
	}
	var body [3]float64 // Rᵀ·w
	for i := range 3 {
		for j := range 3 {
			body[i] += r[j][i] * w[j]
		}
	}
	for i := range 3 {
		want := soft[i][0]*body[0] + soft[i][1]*body[1] + soft[i][2]*body[2] + hard[i]
		if math.Abs(float64(s.Mag[i])-want) > 1e-4 {
			t.Errorf("mag %v, want %v (axis %d)", s.Mag, want, i)
		}
	}
	// Off by default, and the other sensors' values do not depend on it.
	a, b := New(Opts{Seed: 3}), New(Opts{Seed: 3, Mag: true})
	var sa, sb sensor.Sample
	for i := range int64(100) {
		readAt(t, a, &sa, i*rate200Hz)
		readAt(t, b, &sb, i*rate200Hz)
		if sa.Accel != sb.Accel || sa.Gyro != sb.Gyro || sa.Status&sensor.StatusMag != 0 || sb.Status&sensor.StatusMag == 0 {
			t.Fatalf("read %d: the magnetometer changed the other sensors or its flag is wrong", i)
		}
	}
}

// Accelerometer and truth agree at a held pose.
func TestPoseAccel(t *testing.T) {
	pose := [3]float64{10 * deg, -5 * deg, 30 * deg}
	d := New(Opts{Still: true, Pose: pose, NoiseFree: true, NoBias: true})
	var s sensor.Sample
	readAt(t, d, &s, 0)
	r := EulerMatrix(pose)
	for i := range 3 {
		if want := r[2][i] * g0; math.Abs(float64(s.Accel[i])-want) > 1e-5 {
			t.Errorf("accel %v, want Rᵀ·(0,0,g) axis %d = %v", s.Accel, i, want)
		}
	}
	if d.Truth() != pose {
		t.Errorf("truth %v", d.Truth())
	}
}
