package calib

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/imustream/imustream/sensor"
)

// Job is one run of imustream calibrate: at rest, the gyroscope bias and
// the accelerometer offset into a new file Out; with Mag, the
// magnetometer's hard and soft iron into the file Out already is, keeping
// the rest of it.
type Job struct {
	Seconds float64  // how long to read the device
	Out     string   // the calibration file
	Level   bool     // the body lies level (CalibrateRest's level)
	Mount   Mounting // stored in the file
	Mag     bool     // the magnetometer instead (CalibrateMag)

	n      int           // samples to read (Check)
	period time.Duration // between them
	base   Calibration   // with Mag, the file to update (Load)
	loaded bool
}

// RegisterFlags adds --seconds, --out, --level, --mount and --mag to fs,
// bound to j.
func (j *Job) RegisterFlags(fs *flag.FlagSet) {
	fs.Float64Var(&j.Seconds, "seconds", 10, "how long to read the device at rest, in `SECONDS`")
	fs.StringVar(&j.Out, "out", "calibration.json", "calibration `FILE` to write")
	fs.BoolVar(&j.Level, "level", false, "the body lies level, z axis up: estimate the whole accelerometer offset, not only its part along gravity")
	fs.Var(&j.Mount, "mount", "mounting to store in the file, as `AXES|MATRIX`: the body axes as signed sensor axes, e.g. x=-y,y=x,z=z, or a 3×3 JSON matrix; with --level it also says which sensor axis is up")
	fs.BoolVar(&j.Mag, "mag", false, "calibrate the magnetometer instead (hard and soft iron) while you turn the device in every direction, upside down too; updates the magnetometer part of --out, keeping the rest")
}

// Check refuses a --seconds or --out the run cannot use, and a run at
// rateHz too short for the estimate (DefaultOpts.MinSamples). Its messages
// name the flags, for a usage error.
func (j *Job) Check(rateHz int) error {
	if !(j.Seconds > 0 && j.Seconds <= 3600) {
		return fmt.Errorf("--seconds %g out of range (0, 3600]", j.Seconds)
	}
	if j.Out == "" {
		return errors.New("--out must name a file")
	}
	n := int(math.Round(j.Seconds * float64(rateHz)))
	if n < DefaultOpts.MinSamples {
		return fmt.Errorf("--seconds %g at --rate %d gives %d samples; the estimate needs at least %d", j.Seconds, rateHz, n, DefaultOpts.MinSamples)
	}
	j.n, j.period = n, time.Second/time.Duration(rateHz)
	return nil
}

// Load reads, with Mag, the file to update: Out as it is (its gyroscope,
// accelerometer and mounting stay), or a new one when there is none. It
// runs before the sensor is opened, so that a file that is not a
// calibration costs no run; its message names the flag.
func (j *Job) Load() error {
	if !j.Mag {
		return nil
	}
	c, err := LoadOrNew(j.Out)
	if err != nil {
		return fmt.Errorf("--out %s exists and is not a calibration file: %w", j.Out, err)
	}
	j.base, j.loaded = c, true
	return nil
}

// Run reads sens as Check set it up and writes the file: what to do with
// the device goes to log before, what was found to w after. A magnetometer
// fit that fails writes nothing, and its error says so.
func (j *Job) Run(ctx context.Context, sens sensor.Sensor, w, log io.Writer) error {
	if j.n == 0 {
		return errors.New("calib: Job.Run before Check")
	}
	if j.Mag {
		return j.runMag(ctx, sens, w, log)
	}
	fmt.Fprintf(log, "calibrating %s: keep the device still for %s\n", sens, time.Duration(j.n)*j.period)
	r, err := CalibrateRest(ctx, sens, j.n, j.period, j.Level, j.Mount)
	if err != nil {
		return err
	}
	if err := Save(j.Out, r.Cal); err != nil {
		return err
	}
	r.WriteText(w)
	j.wrote(w)
	return nil
}

// runMag is Run with Mag: the hard and soft iron, put into the file Load
// read, next to the rest.
func (j *Job) runMag(ctx context.Context, sens sensor.Sensor, w, log io.Writer) error {
	if !j.loaded { // never replace the file's other parts with nothing
		if err := j.Load(); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "calibrating the magnetometer of %s: turn the device slowly in every direction, upside down too, for %s, away from iron and magnets\n", sens, time.Duration(j.n)*j.period)
	m, err := CalibrateMag(ctx, sens, j.n, j.period)
	if err != nil {
		return err
	}
	m.WriteText(w)
	if errors.Is(m.Err, ErrMagCoverage) || errors.Is(m.Err, ErrMagFit) {
		return fmt.Errorf("%w; nothing written", m.Err)
	} else if m.Err != nil {
		return m.Err
	}
	c := j.base
	m.Into(&c)
	if err := Save(j.Out, c); err != nil {
		return err
	}
	j.wrote(w)
	return nil
}

// wrote says where the file is and how to use it.
func (j *Job) wrote(w io.Writer) {
	fmt.Fprintf(w, "wrote %s; apply it with: imustream run --calibration %s\n", j.Out, j.Out)
}
