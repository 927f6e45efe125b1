// Package evaluate runs the fusion filter on the simulator, in process and
// on simulated time, and measures its estimate against the simulator's
// truth: what `imustream evaluate` prints and what the acceptance tests
// of the filter check. It is deterministic: the same configuration gives
// the same figures.
package evaluate

import (
	"errors"
	"fmt"
	"math"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/calib"
	"github.com/imustream/imustream/sensor/fusion"
	"github.com/imustream/imustream/sensor/sim"
)

// Config is one evaluation run.
type Config struct {
	Sim    sim.Opts
	Fusion fusion.Opts
	// Calibration, when set, is applied between the simulator and the
	// filter, as the daemon does.
	Calibration *calib.Calibration
	RateHz      int     // defaults to 200
	Seconds     float64 // defaults to 60
	// Skip is how long at the start is left out of the error statistics
	// (the filter converging), in s. It defaults to 0.
	Skip float64
	// Row, when set, is called for every sample with the truth (roll,
	// pitch, yaw in radians) at its time.
	Row func(s *sensor.Sample, truth [3]float64)
}

// Errors are the filter's errors against the truth, in degrees.
type Errors struct {
	N                        int // samples counted
	RollRMS, PitchRMS        float64
	HeadingRMS               float64
	RollMax, PitchMax        float64
	HeadingMax               float64
	Final                    [3]float64 // roll, pitch, heading error of the last sample, signed
	HeadingDriftDegPerMinute float64    // least-squares slope of the heading error
}

func (e Errors) String() string {
	return fmt.Sprintf("n=%d rms roll %.3f° pitch %.3f° heading %.3f°; max %.3f° %.3f° %.3f°; final %.3f° %.3f° %.3f°; heading drift %.2f°/min",
		e.N, e.RollRMS, e.PitchRMS, e.HeadingRMS, e.RollMax, e.PitchMax, e.HeadingMax, e.Final[0], e.Final[1], e.Final[2], e.HeadingDriftDegPerMinute)
}

// Run runs cfg and returns the errors.
func Run(cfg Config) (Errors, error) {
	if cfg.RateHz == 0 {
		cfg.RateHz = 200
	}
	if cfg.Seconds == 0 {
		cfg.Seconds = 60
	}
	if err := sensor.CheckRate(cfg.RateHz); err != nil {
		return Errors{}, fmt.Errorf("evaluate: %w", err)
	}
	if !(cfg.Seconds > 0 && cfg.Seconds <= 24*3600) || !(cfg.Skip >= 0) {
		return Errors{}, errors.New("evaluate: seconds out of range (0, 86400] or negative skip")
	}
	if cfg.Fusion.Mode == fusion.NineAxis {
		cfg.Sim.Mag = true
	}
	simDev := sim.New(cfg.Sim)
	var sens sensor.Sensor = simDev
	if cfg.Calibration != nil {
		c, err := calib.Apply(sens, *cfg.Calibration)
		if err != nil {
			return Errors{}, fmt.Errorf("evaluate: %w", err)
		}
		sens = c
	}
	st, err := fusion.New(sens, &cfg.Fusion)
	if err != nil {
		return Errors{}, fmt.Errorf("evaluate: %w", err)
	}
	period := int64(1e9) / int64(cfg.RateHz)
	n := int(math.Round(cfg.Seconds * float64(cfg.RateHz)))
	const t0 = int64(1e9) // any start
	var s sensor.Sample
	var acc accumulator
	for i := range n {
		s.MonoNs = t0 + int64(i)*period
		s.WallNs = s.MonoNs
		s.Status = 0
		if err := st.Read(&s); err != nil {
			return Errors{}, fmt.Errorf("evaluate: read %d: %w", i, err)
		}
		truth := simDev.Truth()
		if cfg.Row != nil {
			cfg.Row(&s, truth)
		}
		t := float64(i) / float64(cfg.RateHz)
		if t < cfg.Skip || s.Status&sensor.StatusOrientation == 0 {
			continue
		}
		acc.add(t, Diff(quat64(s.Quat), truth))
	}
	return acc.result()
}

// accumulator collects errors.
type accumulator struct {
	e   Errors
	sum [3]float64
	// Least squares of the heading error over time.
	sx, sy, sxx, sxy float64
}

func (a *accumulator) add(t float64, d [3]float64) {
	e := &a.e
	for k := range 3 {
		a.sum[k] += d[k] * d[k]
	}
	e.RollMax = max(e.RollMax, math.Abs(d[0]))
	e.PitchMax = max(e.PitchMax, math.Abs(d[1]))
	e.HeadingMax = max(e.HeadingMax, math.Abs(d[2]))
	e.Final = d
	e.N++
	a.sx += t
	a.sy += d[2]
	a.sxx += t * t
	a.sxy += t * d[2]
}

func (a *accumulator) result() (Errors, error) {
	e := a.e
	if e.N == 0 {
		return e, errors.New("evaluate: no orientation to compare")
	}
	k := float64(e.N)
	e.RollRMS, e.PitchRMS, e.HeadingRMS = math.Sqrt(a.sum[0]/k), math.Sqrt(a.sum[1]/k), math.Sqrt(a.sum[2]/k)
	if den := k*a.sxx - a.sx*a.sx; den > 0 {
		e.HeadingDriftDegPerMinute = (k*a.sxy - a.sx*a.sy) / den * 60
	}
	return e, nil
}

func quat64(q [4]float32) [4]float64 {
	return [4]float64{float64(q[0]), float64(q[1]), float64(q[2]), float64(q[3])}
}

// Diff returns the roll, pitch and heading errors in degrees of the
// estimate q against the true Euler angles, each wrapped to ±180°.
func Diff(q [4]float64, truth [3]float64) [3]float64 {
	est := fusion.Euler(q)
	var d [3]float64
	for k := range 3 {
		d[k] = wrap(est[k]-truth[k]) * 180 / math.Pi
	}
	return d
}

func wrap(a float64) float64 {
	return math.Remainder(a, 2*math.Pi)
}
