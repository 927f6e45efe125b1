package main

import (
	"errors"
	"flag"
	"log/slog"

	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/calib"
	"github.com/imustream/imustream/sensor/detect"
)

// sensorFlags choose and configure the IMU; run, probe and calibrate share
// them, so the same names work everywhere and in the config file.
type sensorFlags struct {
	kind string
	det  detect.Config // but Kind, folded with --sim, and RateHz, the command's
}

func (s *sensorFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.kind, "sensor", string(detect.Auto), "IMU `KIND`: "+daemon.SensorKinds+"; auto probes 0x68, 0x69, 0x6a, 0x6b, 0x28, 0x29")
	s.det.RegisterFlags(fs)
}

// kindOf returns the sensor to use, "sim" or a detect kind, with --sim
// folded in (daemon.SensorKind).
func (s *sensorFlags) kindOf(simFlag bool) (string, error) {
	k, err := daemon.SensorKind(s.kind, simFlag)
	if err != nil {
		return "", cli.Usagef("%w", err)
	}
	return k, nil
}

// sensorConfig is the daemon's sensor configuration from the flags:
// the simulator (kind "sim") or the chip, checked without touching the
// bus (a refusal lists the valid values), and the calibration (nil cal:
// none).
func (s *sensorFlags) sensorConfig(kind string, rateHz int, seed uint64, still bool, cal *calib.Flags) (daemon.SensorConfig, error) {
	c, err := daemon.NewSensorConfig(kind, s.det, rateHz, seed, still)
	if err != nil {
		return c, cli.Usagef("%w", err)
	}
	if cal != nil {
		if c.Calibration, err = cal.Load(); err != nil {
			return c, cli.Usagef("--calibration: %w", err)
		}
		c.CalibrationFile = cal.File
	}
	return c, nil
}

// openSensor opens what c selects; a setting the chip refuses is a usage
// error like the others.
func openSensor(c daemon.SensorConfig, log *slog.Logger) (sensor.Sensor, error) {
	sens, err := daemon.OpenSensor(c, log)
	if errors.Is(err, daemon.ErrConfig) {
		return nil, cli.Usagef("%w", err)
	}
	return sens, err
}

// openDaemonSensor opens the sensor run's flags select, with its
// calibration.
func openDaemonSensor(f *daemonFlags, log *slog.Logger) (sensor.Sensor, error) {
	kind, err := f.sensor.kindOf(f.sim)
	if err != nil {
		return nil, err
	}
	if kind != "sim" {
		daemon.FitBatch(&f.sensor.det, f.cfg.Batch, f.fusion.Mode != "off", log)
	}
	c, err := f.sensor.sensorConfig(kind, f.cfg.RateHz, f.seed, false, &f.cal)
	if err != nil {
		return nil, err
	}
	c.SimOpts = f.simx
	if c.Fusion, err = f.fusion.Options(); err != nil {
		return nil, cli.Usagef("%w", err)
	}
	if err := c.CheckBatch(f.cfg.Batch); err != nil {
		return nil, cli.Usagef("%w", err)
	}
	return openSensor(c, log)
}
