package fusion

import (
	"math"

	"github.com/imustream/imustream/sensor"
)

// Stage is a sensor.Sensor that adds the filter's orientation to the
// samples of the sensor it wraps.
type Stage struct {
	inner  sensor.Sensor
	f      *Filter
	lastNs int64
	have   bool // lastNs is set
}

var _ sensor.Sensor = (*Stage)(nil)

// New wraps inner with a filter configured by opts (nil: DefaultOpts,
// 9-axis).
func New(inner sensor.Sensor, opts *Opts) (*Stage, error) {
	f, err := NewFilter(opts)
	if err != nil {
		return nil, err
	}
	return &Stage{inner: inner, f: f}, nil
}

// Filter returns the filter, for its state (offset, rejections). Not safe
// while another goroutine calls Read.
func (s *Stage) Filter() *Filter { return s.f }

// Read implements sensor.Sensor: the inner Read, then one filter update
// timed by Sample.MonoNs. A failed read leaves the last orientation in
// place (still flagged StatusOrientation, like the other values that
// stay); a sample whose accelerometer or gyroscope saturated updates with
// what it has, and acceleration rejection deals with it. The magnetometer
// is used with StatusMag and without StatusMagOverflow.
func (s *Stage) Read(x *sensor.Sample) error {
	err := s.inner.Read(x)
	if err != nil {
		if s.f.Started() {
			x.Status |= sensor.StatusOrientation
		}
		return err
	}
	dt := 0.0
	if s.have {
		dt = float64(x.MonoNs-s.lastNs) * 1e-9
	}
	s.lastNs, s.have = x.MonoNs, true
	var g, a, m [3]float64
	for i := range 3 {
		g[i], a[i], m[i] = float64(x.Gyro[i]), float64(x.Accel[i]), float64(x.Mag[i])
	}
	mp := &m
	if x.Status&(sensor.StatusMag|sensor.StatusMagOverflow) != sensor.StatusMag {
		mp = nil
	}
	if !s.f.Update(g, a, mp, dt) {
		x.Status &^= sensor.StatusOrientation
		return nil
	}
	q := s.f.Quat()
	for i := range q {
		x.Quat[i] = float32(q[i])
	}
	x.Status |= sensor.StatusOrientation
	return nil
}

// String implements sensor.Sensor: the inner sensor's name.
func (s *Stage) String() string { return s.inner.String() }

// Halt implements sensor.Sensor: it halts the inner sensor.
func (s *Stage) Halt() error { return s.inner.Halt() }

// Unwrap returns the wrapped sensor.
func (s *Stage) Unwrap() sensor.Sensor { return s.inner }

// AngleBetween returns the rotation angle in radians between two unit
// quaternions, 0 to π: the attitude error of an estimate against the
// truth.
func AngleBetween(a, b [4]float64) float64 {
	d := math.Abs(a[0]*b[0] + a[1]*b[1] + a[2]*b[2] + a[3]*b[3])
	return 2 * math.Acos(min(d, 1))
}

// HasOrientation implements sensor.OrientationSensor.
func (s *Stage) HasOrientation() bool { return true }
