package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/sensor/calib"
)

// calibrateMag is calibrate --mag: the magnetometer's hard and soft iron,
// stored in the calibration file next to what it already holds.
func calibrateMag(f *calibrateFlags, kind string, n int, stdout, stderr io.Writer) error {
	f.sensor.det.Mag = true
	sc, err := f.sensor.sensorConfig(kind, f.rate, f.seed, false, nil)
	if err != nil {
		return err
	}
	sc.SimOpts = f.simx.opts
	sc.SimOpts.Mag = true
	if !sc.SimOpts.Still && !sc.SimOpts.Scripted {
		sc.SimOpts.Tumble = true // the simulated user turns it in every direction
	}
	// The file to update: the existing one (its gyroscope, accelerometer
	// and mounting stay), or a new one.
	c := calib.Calibration{Format: calib.Format}
	if _, err := os.Stat(f.out); err == nil {
		if c, err = calib.Load(f.out); err != nil {
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
	fmt.Fprintf(stderr, "calibrating the magnetometer of %s: turn the device slowly in every direction, upside down too, for %s, away from iron and magnets\n", sens, time.Duration(n)*period)
	acc, readErrs, err := calib.CollectMag(ctx, sens, n, period)
	if err != nil {
		return err
	}
	mc, rep, err := acc.Fit(nil)
	fmt.Fprintf(stdout, "sensor        %s\n", sens)
	fmt.Fprintf(stdout, "readings      %d (%d read errors)\n", rep.N, readErrs)
	if rep.Covered > 0 {
		fmt.Fprintf(stdout, "coverage      %d of 26 directions (%.0f %%)\n", rep.Covered, rep.CoveragePct)
	}
	if err != nil {
		if errors.Is(err, calib.ErrMagCoverage) || errors.Is(err, calib.ErrMagFit) {
			return fmt.Errorf("%w; nothing written", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "field         %.2f µT, residual %.2f %% RMS, axis ratio %.3f\n", rep.FieldUT, rep.ResidualPct, rep.AxisRatio)
	fmt.Fprintf(stdout, "hard iron     %.3f µT\n", mc.Offset)
	fmt.Fprintf(stdout, "soft iron     %.4f\n", mc.Matrix)
	c.Mag = mc
	if c.Sensor == "" {
		c.Sensor = sens.String()
	}
	if c.Created == "" {
		c.Created = time.Now().UTC().Format(time.RFC3339)
	}
	if err := calib.Save(f.out, c); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s; apply it with: imustream run --calibration %s\n", f.out, f.out)
	return nil
}
