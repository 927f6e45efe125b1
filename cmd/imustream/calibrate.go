package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"

	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/calib"
	"github.com/imustream/imustream/sensor/sim"
)

type calibrateFlags struct {
	sensor  sensorFlags
	sim     bool
	seed    uint64
	rate    int
	seconds float64
	out     string
	level   bool
	mount   calib.Mounting
	mag     bool
	simx    sim.Opts
}

// runCalibrate reads the sensor at rest, estimates its gyroscope bias and
// accelerometer offset and writes a calibration file for run --calibration.
func runCalibrate(name string, args []string, stdout, stderr io.Writer) error {
	var f calibrateFlags
	fs := app.NewFlags(name, stderr)
	f.sensor.register(fs)
	fs.BoolVar(&f.sim, "sim", false, "calibrate the simulated sensor, lying still (short for --sensor sim)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed `N` of the simulated sensor")
	fs.IntVar(&f.rate, "rate", 200, "read rate in `HZ`")
	fs.Float64Var(&f.seconds, "seconds", 10, "how long to read the device at rest, in `SECONDS`")
	fs.StringVar(&f.out, "out", "calibration.json", "calibration `FILE` to write")
	fs.BoolVar(&f.level, "level", false, "the body lies level, z axis up: estimate the whole accelerometer offset, not only its part along gravity")
	fs.Var(&f.mount, "mount", "mounting to store in the file, as `AXES|MATRIX`: the body axes as signed sensor axes, e.g. x=-y,y=x,z=z, or a 3×3 JSON matrix; with --level it also says which sensor axis is up")
	fs.BoolVar(&f.mag, "mag", false, "calibrate the magnetometer instead (hard and soft iron) while you turn the device in every direction, upside down too; updates the magnetometer part of --out, keeping the rest")
	f.simx.RegisterFlags(fs)
	app.GroupFlags(fs, "Sensor: sensor sim seed bus addr accel-range gyro-range dlpf rate", "Calibration: seconds level mount mag out", sim.FlagGroup)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := daemon.CheckRate(f.rate); err != nil {
		return cli.Usagef("%w", err)
	}
	if !(f.seconds > 0 && f.seconds <= 3600) {
		return cli.Usagef("--seconds %g out of range (0, 3600]", f.seconds)
	}
	if f.out == "" {
		return cli.Usagef("--out must name a file")
	}
	n := int(math.Round(f.seconds * float64(f.rate)))
	if n < calib.DefaultOpts.MinSamples {
		return cli.Usagef("--seconds %g at --rate %d gives %d samples; the estimate needs at least %d", f.seconds, f.rate, n, calib.DefaultOpts.MinSamples)
	}
	kind, err := f.sensor.kindOf(f.sim)
	if err != nil {
		return err
	}
	f.sensor.det.Mag = f.mag
	sc, err := f.sensor.sensorConfig(kind, f.rate, f.seed, !f.mag, nil)
	if err != nil {
		return err
	}
	// With --mag, the file to update: the existing one (its gyroscope,
	// accelerometer and mounting stay), or a new one.
	var c calib.Calibration
	if f.mag {
		sc.SimOpts = f.simx
		sc.SimOpts.Mag = true
		if !sc.SimOpts.Still && !sc.SimOpts.Scripted {
			sc.SimOpts.Tumble = true // the simulated user turns it in every direction
		}
		if c, err = calib.LoadOrNew(f.out); err != nil {
			return cli.Usagef("--out %s exists and is not a calibration file: %w", f.out, err)
		}
	}
	sens, err := openSensor(sc, slog.New(slog.NewTextHandler(stderr, nil)))
	if err != nil {
		return err
	}
	defer sens.Halt()
	ctx, stop := interrupted()
	defer stop()
	period := time.Second / time.Duration(f.rate)
	if f.mag {
		return calibrateMag(ctx, sens, c, f.out, n, period, stdout, stderr)
	}
	fmt.Fprintf(stderr, "calibrating %s: keep the device still for %s\n", sens, time.Duration(n)*period)
	r, err := calib.CalibrateRest(ctx, sens, n, period, f.level, f.mount)
	if err != nil {
		return err
	}
	if err := calib.Save(f.out, r.Cal); err != nil {
		return err
	}
	r.WriteText(stdout)
	fmt.Fprintf(stdout, "wrote %s; apply it with: imustream run --calibration %s\n", f.out, f.out)
	return nil
}

// calibrateMag is calibrate --mag: the magnetometer's hard and soft iron,
// stored in c, the calibration file out holds, next to the rest.
func calibrateMag(ctx context.Context, sens sensor.Sensor, c calib.Calibration, out string, n int, period time.Duration, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "calibrating the magnetometer of %s: turn the device slowly in every direction, upside down too, for %s, away from iron and magnets\n", sens, time.Duration(n)*period)
	m, err := calib.CalibrateMag(ctx, sens, n, period)
	if err != nil {
		return err
	}
	m.WriteText(stdout)
	if errors.Is(m.Err, calib.ErrMagCoverage) || errors.Is(m.Err, calib.ErrMagFit) {
		return fmt.Errorf("%w; nothing written", m.Err)
	} else if m.Err != nil {
		return m.Err
	}
	m.Into(&c)
	if err := calib.Save(out, c); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s; apply it with: imustream run --calibration %s\n", out, out)
	return nil
}
