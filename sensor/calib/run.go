package calib

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/imustream/imustream/sensor"
)

// Rest is a calibration at rest (imustream calibrate): the calibration
// and what it came from.
type Rest struct {
	Cal        Calibration
	Report     Report
	ReadErrors int
	Level      bool // the whole accelerometer offset, the body level
}

// CalibrateRest reads n samples of sens, period apart, while the device
// rests, and estimates the gyroscope bias and the accelerometer offset:
// along gravity or, with level, the whole vector, mount saying which
// sensor axis is up. The calibration names the sensor, the time and mount.
func CalibrateRest(ctx context.Context, sens sensor.Sensor, n int, period time.Duration, level bool, mount Mounting) (*Rest, error) {
	acc, readErrs, err := Collect(ctx, sens, n, period)
	if err != nil {
		return nil, err
	}
	var opts Opts
	if level {
		up := mount.SensorUp()
		opts.Up = &up
	}
	c, rep, err := acc.Estimate(&opts)
	if err != nil {
		return nil, err
	}
	c.Sensor = sens.String()
	c.Created = time.Now().UTC().Format(time.RFC3339)
	c.Mounting = mount
	return &Rest{Cal: c, Report: rep, ReadErrors: readErrs, Level: level}, nil
}

// WriteText writes r as imustream calibrate prints it.
func (r *Rest) WriteText(w io.Writer) {
	c, rep := &r.Cal, &r.Report
	fmt.Fprintf(w, "sensor        %s\n", c.Sensor)
	fmt.Fprintf(w, "samples       %d used, %d flagged and skipped (%d read errors)\n", rep.N, rep.Skipped, r.ReadErrors)
	fmt.Fprintf(w, "|a| at rest   %.4f m/s² before, noise σ accel %.3g m/s², gyro %.3g rad/s\n", rep.AccelNorm, rep.AccelStd, rep.GyroStd)
	fmt.Fprintf(w, "gyro bias     %.6g rad/s\n", c.GyroBias)
	how := "along gravity only"
	if r.Level {
		how = "whole vector, body level"
	}
	fmt.Fprintf(w, "accel offset  %.6g m/s² (%s)\n", c.AccelOffset, how)
	fmt.Fprintf(w, "mounting      %s\n", c.Mounting)
}

// MagRun is a magnetometer calibration (imustream calibrate --mag): the
// fit and what it came from.
type MagRun struct {
	Sensor     string
	Cal        MagCal
	Report     MagReport
	ReadErrors int
	Err        error // the fit's: nil, or why it failed (ErrMagCoverage, ErrMagFit, too few)
}

// CalibrateMag reads n magnetometer readings of sens, period apart, while
// the device is turned in every direction, and fits the hard and soft
// iron. A fit that fails is in MagRun.Err, with what was read; a read that
// fails is CalibrateMag's error.
func CalibrateMag(ctx context.Context, sens sensor.Sensor, n int, period time.Duration) (*MagRun, error) {
	acc, readErrs, err := CollectMag(ctx, sens, n, period)
	if err != nil {
		return nil, err
	}
	m := &MagRun{Sensor: sens.String(), ReadErrors: readErrs}
	m.Cal, m.Report, m.Err = acc.Fit(nil)
	return m, nil
}

// WriteText writes m as imustream calibrate --mag prints it: what was
// read and, unless the fit failed, what it found.
func (m *MagRun) WriteText(w io.Writer) {
	rep := &m.Report
	fmt.Fprintf(w, "sensor        %s\n", m.Sensor)
	fmt.Fprintf(w, "readings      %d (%d read errors)\n", rep.N, m.ReadErrors)
	if rep.Covered > 0 {
		fmt.Fprintf(w, "coverage      %d of 26 directions (%.0f %%)\n", rep.Covered, rep.CoveragePct)
	}
	if m.Err != nil {
		return
	}
	fmt.Fprintf(w, "field         %.2f µT, residual %.2f %% RMS, axis ratio %.3f\n", rep.FieldUT, rep.ResidualPct, rep.AxisRatio)
	fmt.Fprintf(w, "hard iron     %.3f µT\n", m.Cal.Offset)
	fmt.Fprintf(w, "soft iron     %.4f\n", m.Cal.Matrix)
}

// Into puts the fit into c, keeping the rest of it; a c without a sensor
// or a time gets m's and now.
func (m *MagRun) Into(c *Calibration) {
	c.Mag = m.Cal
	if c.Sensor == "" {
		c.Sensor = m.Sensor
	}
	if c.Created == "" {
		c.Created = time.Now().UTC().Format(time.RFC3339)
	}
}

// LoadOrNew loads the calibration file at path to update it, or returns
// an empty calibration when there is none (nothing that os.Stat finds).
func LoadOrNew(path string) (Calibration, error) {
	if _, err := os.Stat(path); err != nil {
		return Calibration{Format: Format}, nil
	}
	return Load(path)
}
