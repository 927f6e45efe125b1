package evaluate

import (
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/calib"
	"github.com/imustream/imustream/sensor/fusion"
	"github.com/imustream/imustream/sensor/sim"
)

var (
	hardIron = [3]float64{20, -35, 12}
	softIron = [3][3]float64{{1.15, 0.06, -0.03}, {0.06, 0.9, 0.04}, {-0.03, 0.04, 1.05}}
)

// magCalibration is what `imustream calibrate --sim --mag` finds: 30 s of
// the distorted simulator tumbling.
func magCalibration(t *testing.T, seed uint64) calib.MagCal {
	t.Helper()
	d := sim.New(sim.Opts{Seed: seed, Tumble: true, Mag: true, HardIron: hardIron, SoftIron: softIron})
	var a calib.MagAccumulator
	var s sensor.Sample
	for i := range 3000 {
		s.MonoNs, s.Status = int64(i)*10e6, 0
		if err := d.Read(&s); err != nil {
			t.Fatal(err)
		}
		a.Add(&s)
	}
	mc, rep, err := a.Fit(nil)
	if err != nil {
		t.Fatalf("%v %+v", err, rep)
	}
	return mc
}

// Acceptance: on a field distorted by hard and soft iron, the heading
// after the magnetometer calibration is within 2° RMS (still and
// scripted); without it, it is far off.
func TestHeadingAfterMagCalibration(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		c := levelCalibration(t, seed)
		c.Mag = magCalibration(t, seed)
		for _, motion := range []string{"still", "scripted"} {
			so := sim.Opts{Seed: seed, Pose: pose, HardIron: hardIron, SoftIron: softIron}
			if err := sim.ParseMotion(motion, &so); err != nil {
				t.Fatal(err)
			}
			cfg := Config{Sim: so, Calibration: c, Fusion: fusion.Opts{Mode: fusion.NineAxis}, Seconds: 60, Skip: 5}
			e, err := Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Calibration = levelCalibration(t, seed) // no magnetometer calibration
			raw, err := Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("seed %d %s: calibrated heading RMS %.3f°, uncalibrated %.2f°", seed, motion, e.HeadingRMS, raw.HeadingRMS)
			if e.HeadingRMS > 2 || e.RollRMS > 2 || e.PitchRMS > 2 {
				t.Errorf("seed %d %s after calibration: %v; want heading ≤ 2° RMS", seed, motion, e)
			}
			if raw.HeadingRMS < 5 {
				t.Errorf("seed %d %s: uncalibrated heading RMS %.2f°: the distortion should matter", seed, motion, raw.HeadingRMS)
			}
		}
	}
}
