package calib

import (
	"errors"
	"fmt"
	"math"

	"github.com/imustream/imustream/sensor"
)

// Opts tunes the estimate. Zero fields take the defaults given.
type Opts struct {
	// Gravity is the local g in m/s². It defaults to sensor.StandardGravity;
	// local values differ by up to 0.3 %.
	Gravity float64
	// Up, if set, is the sensor-frame direction known to point up (it is
	// normalised). Then the whole offset vector is estimated, as
	// mean − g·Up; the measured gravity must then be within 10° of Up.
	// Mounting.SensorUp gives it for a body lying level. By default only
	// the offset along the measured gravity is estimated.
	Up *[3]float64
	// MinSamples is the fewest good samples accepted. It defaults to 100.
	MinSamples int
	// MaxGyroStd is the largest standard deviation, per axis, of a
	// gyroscope at rest, in rad/s. It defaults to 1 °/s, far above sensor
	// noise (about 0.05 °/s at 100 Hz bandwidth) but below a hand's tremor.
	MaxGyroStd float64
	// MaxAccelStd is the same for the accelerometer, in m/s². It defaults to
	// 0.05 g.
	MaxAccelStd float64
	// MaxNormError is how far |mean accel| may be from g, as a fraction. It
	// defaults to 0.1: further off means a wrong range, motion or a broken
	// chip rather than an offset.
	MaxNormError float64
}

// DefaultOpts are the defaults.
var DefaultOpts = Opts{
	Gravity:      sensor.StandardGravity,
	MinSamples:   100,
	MaxGyroStd:   math.Pi / 180,
	MaxAccelStd:  0.05 * sensor.StandardGravity,
	MaxNormError: 0.1,
}

func (o *Opts) resolved() Opts {
	r := DefaultOpts
	if o == nil {
		return r
	}
	if o.Gravity != 0 {
		r.Gravity = o.Gravity
	}
	r.Up = o.Up
	if o.MinSamples != 0 {
		r.MinSamples = o.MinSamples
	}
	if o.MaxGyroStd != 0 {
		r.MaxGyroStd = o.MaxGyroStd
	}
	if o.MaxAccelStd != 0 {
		r.MaxAccelStd = o.MaxAccelStd
	}
	if o.MaxNormError != 0 {
		r.MaxNormError = o.MaxNormError
	}
	return r
}

// Report describes the samples an estimate came from.
type Report struct {
	N       int // samples used
	Skipped int // flagged samples left out
	// Means and standard deviations per axis, sensor frame.
	AccelMean, AccelStd [3]float64
	GyroMean, GyroStd   [3]float64
	// AccelNorm is |AccelMean|.
	AccelNorm float64
}

// maxUpAngle bounds the tilt between Opts.Up and the measured gravity:
// more is a device that is not level rather than an offset.
const maxUpAngle = 10 * math.Pi / 180

// ErrMoved is wrapped when the samples vary too much for a device at rest.
var ErrMoved = errors.New("calib: the device moved")

// Accumulator collects samples for an estimate, in constant memory.
type Accumulator struct {
	n, skipped int
	// Welford's running mean and sum of squared deviations: stable over
	// thousands of samples where sums of squares lose precision.
	meanA, m2A, meanG, m2G [3]float64
}

// Add takes a sample; those flagged StatusSensorError or StatusSaturated are
// counted and left out. It reports whether s was used.
func (a *Accumulator) Add(s *sensor.Sample) bool {
	if s.Status&(sensor.StatusSensorError|sensor.StatusSaturated) != 0 {
		a.skipped++
		return false
	}
	a.n++
	n := float64(a.n)
	for i := range 3 {
		d := float64(s.Accel[i]) - a.meanA[i]
		a.meanA[i] += d / n
		a.m2A[i] += d * (float64(s.Accel[i]) - a.meanA[i])
		d = float64(s.Gyro[i]) - a.meanG[i]
		a.meanG[i] += d / n
		a.m2G[i] += d * (float64(s.Gyro[i]) - a.meanG[i])
	}
	return true
}

// N returns how many samples were used.
func (a *Accumulator) N() int { return a.n }

// Report summarises the samples so far.
func (a *Accumulator) Report() Report {
	r := Report{N: a.n, Skipped: a.skipped, AccelMean: a.meanA, GyroMean: a.meanG}
	for i := range 3 {
		if a.n > 1 {
			r.AccelStd[i] = math.Sqrt(a.m2A[i] / float64(a.n-1))
			r.GyroStd[i] = math.Sqrt(a.m2G[i] / float64(a.n-1))
		}
		r.AccelNorm += a.meanA[i] * a.meanA[i]
	}
	r.AccelNorm = math.Sqrt(r.AccelNorm)
	return r
}

// Estimate returns the calibration the samples imply, with no mounting
// (add it before saving), or an error when they do not look like a device
// at rest.
func (a *Accumulator) Estimate(o *Opts) (Calibration, Report, error) {
	opts := o.resolved()
	r := a.Report()
	if r.N < opts.MinSamples {
		return Calibration{}, r, fmt.Errorf("calib: %d good samples (%d flagged ones skipped); need at least %d", r.N, r.Skipped, opts.MinSamples)
	}
	for i := range 3 {
		if r.GyroStd[i] > opts.MaxGyroStd {
			return Calibration{}, r, fmt.Errorf("%w: gyroscope %c standard deviation %.4g rad/s is above %.4g; keep it still and try again", ErrMoved, axisNames[i], r.GyroStd[i], opts.MaxGyroStd)
		}
		if r.AccelStd[i] > opts.MaxAccelStd {
			return Calibration{}, r, fmt.Errorf("%w: accelerometer %c standard deviation %.4g m/s² is above %.4g; keep it still and try again", ErrMoved, axisNames[i], r.AccelStd[i], opts.MaxAccelStd)
		}
	}
	g := opts.Gravity
	if math.Abs(r.AccelNorm-g) > opts.MaxNormError*g {
		return Calibration{}, r, fmt.Errorf("calib: mean acceleration %.3f m/s² is more than %.0f%% from g = %.5f; is the device at rest, and the range right?", r.AccelNorm, 100*opts.MaxNormError, g)
	}
	c := Calibration{Format: Format, Samples: r.N, Gravity: g, GyroBias: Vec3(r.GyroMean)}
	up := [3]float64{}
	if opts.Up != nil {
		up = *opts.Up
	} else {
		up = r.AccelMean
	}
	norm := math.Sqrt(up[0]*up[0] + up[1]*up[1] + up[2]*up[2])
	if norm == 0 || math.IsNaN(norm) {
		return Calibration{}, r, errors.New("calib: Up must be a non-zero vector")
	}
	if opts.Up != nil {
		cos := (up[0]*r.AccelMean[0] + up[1]*r.AccelMean[1] + up[2]*r.AccelMean[2]) / (norm * r.AccelNorm)
		if cos < math.Cos(maxUpAngle) {
			return Calibration{}, r, fmt.Errorf("calib: measured gravity is %.0f° from the given up direction (at most %.0f°); is the device level?", math.Acos(min(cos, 1))*180/math.Pi, maxUpAngle*180/math.Pi)
		}
	}
	for i := range 3 {
		c.AccelOffset[i] = r.AccelMean[i] - g*up[i]/norm
	}
	return c, r, nil
}

// Estimate runs an Accumulator over samples.
func Estimate(samples []sensor.Sample, o *Opts) (Calibration, Report, error) {
	var a Accumulator
	for i := range samples {
		a.Add(&samples[i])
	}
	return a.Estimate(o)
}
