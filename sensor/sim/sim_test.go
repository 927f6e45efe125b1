package sim

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/imustream/imustream/sensor"
)

const (
	rate200Hz = int64(5e6) // ns
	nStats    = 20000      // 100 s at 200 Hz
)

// readAt reads d once at monoNs into s and fails the test on error.
func readAt(t testing.TB, d *Sim, s *sensor.Sample, monoNs int64) {
	t.Helper()
	s.MonoNs = monoNs
	if err := d.Read(s); err != nil {
		t.Fatalf("Read at %d ns: %v", monoNs, err)
	}
}

// record reads n samples from d, period ns apart from start.
func record(t testing.TB, d *Sim, n int, start, period int64) []sensor.Sample {
	t.Helper()
	out := make([]sensor.Sample, n)
	var s sensor.Sample
	for i := range out {
		readAt(t, d, &s, start+int64(i)*period)
		out[i] = s
	}
	return out
}

func norm(v [3]float32) float64 {
	x, y, z := float64(v[0]), float64(v[1]), float64(v[2])
	return math.Sqrt(x*x + y*y + z*z)
}

// meanStd returns the mean and sample standard deviation of xs.
func meanStd(xs []float64) (mean, std float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)-1))
}

func TestDeterministic(t *testing.T) {
	// Irregular timestamps, as a real scheduler produces.
	jitter := rand.New(rand.NewPCG(7, 7))
	times := make([]int64, 2000)
	for i := range times {
		times[i] = int64(i)*rate200Hz + jitter.Int64N(rate200Hz/2)
	}
	run := func(seed uint64, offset int64) []sensor.Sample {
		d := New(Opts{Seed: seed})
		out := make([]sensor.Sample, len(times))
		var s sensor.Sample
		for i, ts := range times {
			readAt(t, d, &s, offset+ts)
			s.MonoNs -= offset
			out[i] = s
		}
		return out
	}

	a, b := run(42, 0), run(42, 0)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, read %d: %+v != %+v", i, a[i], b[i])
		}
	}
	// Only the time since the first read counts, not the clock's origin.
	c := run(42, 987654321012345)
	for i := range a {
		if a[i] != c[i] {
			t.Fatalf("shifted clock, read %d: %+v != %+v", i, a[i], c[i])
		}
	}
	other := run(43, 0)
	same := 0
	for i := range a {
		if a[i].Accel == other[i].Accel || a[i].Gyro == other[i].Gyro {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds 42 and 43 agree on %d of %d reads", same, len(a))
	}
}

// The seed picks the motion too, not only the noise: demos on several
// simulated devices should not move in step.
func TestSeedSetsMotion(t *testing.T) {
	ideal := Opts{NoiseFree: true, NoBias: true}
	ideal.Seed = 1
	a := record(t, New(ideal), 200, 0, rate200Hz)
	ideal.Seed = 2
	b := record(t, New(ideal), 200, 0, rate200Hz)
	for i := range a {
		if a[i].Accel == b[i].Accel || a[i].Gyro == b[i].Gyro || a[i].TempC == b[i].TempC {
			t.Fatalf("read %d: seeds 1 and 2 give %+v and %+v", i+1, a[i], b[i])
		}
	}
}

// Failed reads draw the same noise as good ones, so the reads that succeed
// are those of a sim without faults.
func TestFaultsKeepStream(t *testing.T) {
	const every, winFrom, winLen = 7, 101, 20 // reads count from 1
	clean := record(t, New(Opts{Seed: 5}), 300, 0, rate200Hz)

	d := New(Opts{Seed: 5, FailEvery: every})
	var s sensor.Sample
	for i, want := range clean {
		n := i + 1
		if n == winFrom {
			d.FailFor(winLen)
		}
		s.MonoNs = int64(i) * rate200Hz
		err := d.Read(&s)
		wantFail := n%every == 0 || n >= winFrom && n < winFrom+winLen
		if (err != nil) != wantFail {
			t.Fatalf("read %d: error %v, want failure %v", n, err, wantFail)
		}
		if err == nil && s != want {
			t.Fatalf("read %d: %+v, want %+v", n, s, want)
		}
	}
}

func TestGravityMagnitude(t *testing.T) {
	tests := []struct {
		name string
		opts Opts
		tol  float64 // on the mean of |accel|, m/s²
	}{
		// A bias b moves |f| by at most |b|.
		{"default", Opts{Seed: 1}, math.Sqrt(3)*DefaultOpts.AccelBias + 0.01},
		// Noise alone adds about σ²/g, well under a mm/s².
		{"no bias", Opts{Seed: 2, NoBias: true}, 0.005},
		{"ideal", Opts{Seed: 3, NoBias: true, NoiseFree: true}, 1e-5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New(tt.opts)
			mags := make([]float64, 0, nStats)
			for _, s := range record(t, d, nStats, 0, rate200Hz) {
				mags = append(mags, norm(s.Accel))
			}
			mean, _ := meanStd(mags)
			if math.Abs(mean-sensor.StandardGravity) > tt.tol {
				t.Errorf("mean |accel| = %.5f m/s², want %.5f ± %.5f", mean, sensor.StandardGravity, tt.tol)
			}
		})
	}
}

func TestLevelAtRest(t *testing.T) {
	d := New(Opts{Still: true, NoiseFree: true, NoBias: true})
	for _, s := range record(t, d, 100, 0, rate200Hz) {
		if want := [3]float32{0, 0, sensor.StandardGravity}; s.Accel != want {
			t.Fatalf("accel %v, want %v", s.Accel, want)
		}
		if s.Gyro != [3]float32{} {
			t.Fatalf("gyro %v, want 0", s.Gyro)
		}
	}
}

func TestNoiseSigma(t *testing.T) {
	tests := []struct {
		name     string
		opts     Opts
		acc, gyr float64 // expected σ
	}{
		{"default", Opts{}, 400e-6 * sensor.StandardGravity * 10, 0.005 * deg * 10},
		{"25 Hz", Opts{BandwidthHz: 25}, 400e-6 * sensor.StandardGravity * 5, 0.005 * deg * 5},
		{"densities", Opts{AccelNoiseDensity: 0.01, GyroNoiseDensity: 0.001}, 0.01 * 10, 0.001 * 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Seed = 11
			tt.opts.Still = true
			samples := record(t, New(tt.opts), nStats, 0, rate200Hz)
			xs := make([]float64, len(samples))
			for axis := range 3 {
				for i, s := range samples {
					xs[i] = float64(s.Accel[axis])
				}
				if _, std := meanStd(xs); math.Abs(std/tt.acc-1) > 0.1 {
					t.Errorf("accel axis %d: σ = %.6g, want %.6g ± 10%%", axis, std, tt.acc)
				}
				for i, s := range samples {
					xs[i] = float64(s.Gyro[axis])
				}
				if _, std := meanStd(xs); math.Abs(std/tt.gyr-1) > 0.1 {
					t.Errorf("gyro axis %d: σ = %.6g, want %.6g ± 10%%", axis, std, tt.gyr)
				}
			}
		})
	}
}

func TestBias(t *testing.T) {
	opts := Opts{Still: true, NoiseFree: true, GyroBias: 20 * deg}
	var maxAcc, maxGyr float64
	for seed := range uint64(200) {
		opts.Seed = seed
		var s sensor.Sample
		readAt(t, New(opts), &s, 0)
		level := [3]float64{0, 0, sensor.StandardGravity}
		for i := range 3 {
			ba := math.Abs(float64(s.Accel[i]) - level[i])
			bg := math.Abs(float64(s.Gyro[i]))
			// The slack covers float32 rounding of g + bias.
			if ba > DefaultOpts.AccelBias+1e-6 {
				t.Errorf("seed %d accel axis %d: bias %.4g m/s² beyond ±%.4g", seed, i, ba, DefaultOpts.AccelBias)
			}
			if bg > opts.GyroBias+1e-6 {
				t.Errorf("seed %d gyro axis %d: bias %.4g rad/s beyond ±%.4g", seed, i, bg, opts.GyroBias)
			}
			maxAcc, maxGyr = max(maxAcc, ba), max(maxGyr, bg)
		}
	}
	// 600 uniform draws per sensor: the largest is all but sure to pass 90 %
	// of the bound, so the bound is really used (and not, say, halved).
	if maxAcc < 0.9*DefaultOpts.AccelBias {
		t.Errorf("largest accel bias %.4g, want close to %.4g", maxAcc, DefaultOpts.AccelBias)
	}
	if maxGyr < 0.9*opts.GyroBias {
		t.Errorf("largest gyro bias %.4g, want close to %.4g", maxGyr, opts.GyroBias)
	}
}

// Bias reports the biases the samples carry: a still, noise-free read
// minus the level reading is exactly the bias (to float32 rounding).
func TestBiasAccessor(t *testing.T) {
	for seed := range uint64(20) {
		d := New(Opts{Seed: seed, Still: true, NoiseFree: true})
		var s sensor.Sample
		readAt(t, d, &s, 0)
		acc, gyr := d.Bias()
		level := [3]float64{0, 0, sensor.StandardGravity}
		for i := range 3 {
			if got := float64(s.Accel[i]) - level[i]; math.Abs(got-acc[i]) > 1e-5 {
				t.Errorf("seed %d accel axis %d: read bias %.6g, Bias() %.6g", seed, i, got, acc[i])
			}
			if got := float64(s.Gyro[i]); math.Abs(got-gyr[i]) > 1e-7 {
				t.Errorf("seed %d gyro axis %d: read bias %.6g, Bias() %.6g", seed, i, got, gyr[i])
			}
		}
		if acc == ([3]float64{}) || gyr == ([3]float64{}) {
			t.Errorf("seed %d: Bias() is zero", seed)
		}
	}
	if acc, gyr := New(Opts{NoBias: true}).Bias(); acc != ([3]float64{}) || gyr != ([3]float64{}) {
		t.Errorf("NoBias: Bias() = %v, %v", acc, gyr)
	}
}

func TestTemperature(t *testing.T) {
	// One read a second for one drift period.
	samples := record(t, New(Opts{Seed: 9}), tempPeriod, 0, 1e9)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range samples {
		lo, hi = min(lo, float64(s.TempC)), max(hi, float64(s.TempC))
	}
	limit := tempSwing + 6*tempNoise
	if lo < tempMean-limit || hi > tempMean+limit {
		t.Errorf("temperature in [%.3f, %.3f] °C, want within %.1f ± %.2f", lo, hi, tempMean, limit)
	}
	if hi-lo < 1.9*tempSwing {
		t.Errorf("temperature swings %.3f °C over a period, want about %.1f", hi-lo, 2*tempSwing)
	}
}

// The body-frame gravity vector turns against the body rates: df/dt = −ω×f.
// This ties the gyroscope to the accelerometer without looking inside.
func TestGyroAgreesWithAccel(t *testing.T) {
	const h = 10e-3 // s
	d := New(Opts{Seed: 21, NoiseFree: true, NoBias: true})
	samples := record(t, d, 6000, 0, int64(h*1e9))

	var worst, biggest float64
	for i := 1; i < len(samples)-1; i++ {
		f, w := samples[i].Accel, samples[i].Gyro
		for k := range 3 {
			k1, k2 := (k+1)%3, (k+2)%3
			cross := float64(w[k1])*float64(f[k2]) - float64(w[k2])*float64(f[k1])
			deriv := (float64(samples[i+1].Accel[k]) - float64(samples[i-1].Accel[k])) / (2 * h)
			worst = max(worst, math.Abs(deriv+cross))
			biggest = max(biggest, math.Abs(cross))
		}
	}
	// Truncation (h²·f‴/6) and float32 rounding are each under 1e-3 m/s³.
	if worst > 0.01 {
		t.Errorf("df/dt differs from −ω×f by up to %.4g m/s³", worst)
	}
	if biggest < 0.5 {
		t.Errorf("|ω×f| peaks at %.3g m/s³: the device hardly moves, the check says little", biggest)
	}
}

// dcm is the body-to-level rotation of ZYX Euler angles.
func dcm(a [3]float64) [3][3]float64 {
	sr, cr := math.Sincos(a[0])
	sp, cp := math.Sincos(a[1])
	sy, cy := math.Sincos(a[2])
	return [3][3]float64{
		{cy * cp, cy*sp*sr - sy*cr, cy*sp*cr + sy*sr},
		{sy * cp, sy*sp*sr + cy*cr, sy*sp*cr - cy*sr},
		{-sp, cp * sr, cp * cr},
	}
}

// The gyroscope reads the body rates of the simulated attitude, all three
// axes including the turn about gravity that TestGyroAgreesWithAccel cannot
// see: [ω]× = Rᵀ·dR/dt, with dR/dt by finite differences of the rotation.
func TestGyroMatchesAttitude(t *testing.T) {
	const (
		h     = 5e-3 // s between reads
		delta = 1e-5 // s, finite-difference step
	)
	d := New(Opts{Seed: 33, NoiseFree: true, NoBias: true})
	var s sensor.Sample
	var worst, biggest float64
	for i := range 4000 {
		tt := float64(i) * h
		readAt(t, d, &s, int64(i)*int64(h*1e9))

		a, _ := d.attitude(tt)
		r := dcm(a)
		ap, _ := d.attitude(tt + delta)
		am, _ := d.attitude(tt - delta)
		rp, rm := dcm(ap), dcm(am)
		var m [3][3]float64 // Rᵀ·dR/dt
		for j := range 3 {
			for k := range 3 {
				for l := range 3 {
					m[j][k] += r[l][j] * (rp[l][k] - rm[l][k]) / (2 * delta)
				}
			}
		}
		want := [3]float64{m[2][1], m[0][2], m[1][0]}
		for k := range 3 {
			worst = max(worst, math.Abs(float64(s.Gyro[k])-want[k]))
			biggest = max(biggest, math.Abs(want[k]))
		}

		// And the accelerometer reads gravity through the same rotation.
		for k := range 3 {
			if diff := float64(s.Accel[k]) - sensor.StandardGravity*r[2][k]; math.Abs(diff) > 1e-5 {
				t.Fatalf("t=%.3f s accel axis %d off by %.3g m/s²", tt, k, diff)
			}
		}
	}
	if worst > 1e-5 {
		t.Errorf("gyro differs from the attitude's body rates by up to %.3g rad/s", worst)
	}
	if biggest < 5*deg {
		t.Errorf("body rates peak at %.3g rad/s: the check says little", biggest)
	}
}

func TestFailEvery(t *testing.T) {
	const n = 4
	d := New(Opts{Seed: 3, FailEvery: n})
	var s sensor.Sample
	for i := 1; i <= 5*n; i++ {
		// The caller's timing bits must survive both outcomes.
		s.Status |= sensor.StatusLate
		before := s
		s.MonoNs = int64(i) * rate200Hz
		err := d.Read(&s)
		if i%n != 0 {
			if err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
			if s.Status != sensor.StatusLate {
				t.Fatalf("read %d: status %b, want only StatusLate", i, s.Status)
			}
			if s.Accel == before.Accel || s.Gyro == before.Gyro {
				t.Fatalf("read %d: values did not change", i)
			}
			continue
		}
		if !errors.Is(err, ErrInjected) {
			t.Fatalf("read %d: error %v, want ErrInjected", i, err)
		}
		if !strings.HasPrefix(err.Error(), "sim: ") {
			t.Errorf("read %d: error %q lacks the sim: prefix", i, err)
		}
		if want := sensor.StatusLate | sensor.StatusSensorError; s.Status != want {
			t.Fatalf("read %d: status %b, want %b", i, s.Status, want)
		}
		if s.Accel != before.Accel || s.Gyro != before.Gyro || s.TempC != before.TempC {
			t.Fatalf("read %d: failed read changed the values", i)
		}
	}
}

func TestFailForRecovers(t *testing.T) {
	d := New(Opts{Seed: 4})
	var s sensor.Sample
	i := int64(0)
	next := func() error {
		i++
		s.MonoNs = i * rate200Hz
		return d.Read(&s)
	}
	for range 3 {
		if err := next(); err != nil {
			t.Fatal(err)
		}
	}
	good := s

	// Set from another goroutine, as a test driving a running daemon would.
	done := make(chan struct{})
	go func() {
		d.FailFor(5)
		close(done)
	}()
	<-done
	for k := range 5 {
		if err := next(); !errors.Is(err, ErrInjected) {
			t.Fatalf("read %d of the window: error %v, want ErrInjected", k+1, err)
		}
		if s.Accel != good.Accel || s.Status&sensor.StatusSensorError == 0 {
			t.Fatalf("read %d of the window: sample %+v", k+1, s)
		}
	}
	if err := next(); err != nil {
		t.Fatalf("read after the window: %v", err)
	}
	if s.Status&sensor.StatusSensorError != 0 || s.Accel == good.Accel {
		t.Fatalf("read after the window did not recover: %+v", s)
	}

	d.FailFor(10)
	d.FailFor(0)
	if err := next(); err != nil {
		t.Fatalf("FailFor(0) did not cancel: %v", err)
	}
}

// Run with -race: FailFor and Halt race against Read by design.
func TestConcurrentControl(t *testing.T) {
	d := New(Opts{})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				d.FailFor(1)
			}
		}
	})
	var s sensor.Sample
	for i := range 2000 {
		s.MonoNs = int64(i) * rate200Hz
		if err := d.Read(&s); err != nil && !errors.Is(err, ErrInjected) {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()

	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	s.Status = 0
	if err := d.Read(&s); !errors.Is(err, ErrHalted) || s.Status != sensor.StatusSensorError {
		t.Fatalf("Read after Halt: %v, status %b", err, s.Status)
	}
}

func TestStuck(t *testing.T) {
	const after = 10
	samples := record(t, New(Opts{Seed: 8, StuckAfter: after}), 3*after, 0, rate200Hz)
	for i := 1; i < after; i++ {
		if samples[i].Accel == samples[i-1].Accel {
			t.Fatalf("reads %d and %d equal before the sensor sticks", i, i+1)
		}
	}
	frozen := samples[after-1]
	for i := after; i < len(samples); i++ {
		s := samples[i]
		if s.Accel != frozen.Accel || s.Gyro != frozen.Gyro || s.TempC != frozen.TempC || s.Status != frozen.Status {
			t.Fatalf("read %d: %+v, want the frozen %+v", i+1, s, frozen)
		}
	}
}

func TestSaturation(t *testing.T) {
	t.Run("accel", func(t *testing.T) {
		fs := 0.5 * sensor.StandardGravity
		d := New(Opts{Still: true, NoiseFree: true, NoBias: true, AccelFullScale: fs})
		var s sensor.Sample
		readAt(t, d, &s, 0)
		if s.Accel[2] != float32(fs) || s.Status&sensor.StatusSaturated == 0 {
			t.Errorf("level at ±0.5 g full scale: accel %v status %b, want z clamped to %g and saturated", s.Accel, s.Status, fs)
		}
	})
	t.Run("gyro", func(t *testing.T) {
		fs := 5 * deg
		d := New(Opts{Seed: 6, GyroFullScale: fs})
		var sat, clear int
		for _, s := range record(t, d, 4000, 0, rate200Hz) {
			atLimit := false
			for _, w := range s.Gyro {
				if math.Abs(float64(w)) > float64(float32(fs)) {
					t.Fatalf("gyro %v beyond full scale %g", s.Gyro, fs)
				}
				atLimit = atLimit || math.Abs(float64(w)) == float64(float32(fs))
			}
			if atLimit != (s.Status&sensor.StatusSaturated != 0) {
				t.Fatalf("gyro %v at limit %v but status %b", s.Gyro, atLimit, s.Status)
			}
			if atLimit {
				sat++
			} else {
				clear++
			}
		}
		if sat == 0 || clear == 0 {
			t.Errorf("%d saturated and %d clear reads, want some of each", sat, clear)
		}
	})
	t.Run("default ranges", func(t *testing.T) {
		var s sensor.Sample
		d := New(Opts{Seed: 7})
		for i := range nStats {
			// Stale sensor bits from the last tick must go; timing bits stay.
			s.Status = sensor.StatusSaturated | sensor.StatusSensorError | sensor.StatusSkipped
			readAt(t, d, &s, int64(i)*rate200Hz)
			if s.Status != sensor.StatusSkipped {
				t.Fatalf("read %d: status %b, want only StatusSkipped", i, s.Status)
			}
		}
	})
}

func TestString(t *testing.T) {
	if got := New(Opts{}).String(); got != "sim" {
		t.Errorf("String() = %q, want %q", got, "sim")
	}
}

func TestReadAllocs(t *testing.T) {
	tests := []struct {
		name    string
		opts    Opts
		failFor int
	}{
		{"good", Opts{}, 0},
		{"FailEvery", Opts{FailEvery: 1}, 0},
		{"FailFor", Opts{}, 1 << 20},
		{"stuck", Opts{StuckAfter: 1}, 0},
	}
	for _, tt := range tests {
		d := New(tt.opts)
		d.FailFor(tt.failFor)
		var s sensor.Sample
		allocs := testing.AllocsPerRun(1000, func() {
			s.MonoNs += rate200Hz
			_ = d.Read(&s)
		})
		if allocs != 0 {
			t.Errorf("%s: Read allocates %v times per call", tt.name, allocs)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	d := New(Opts{Seed: 1})
	var s sensor.Sample
	b.ReportAllocs()
	for b.Loop() {
		s.MonoNs += rate200Hz
		if err := d.Read(&s); err != nil {
			b.Fatal(err)
		}
	}
}
