package main

import (
	"io"
	"log/slog"

	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/sensor/calib"
	"github.com/imustream/imustream/sensor/sim"
)

type calibrateFlags struct {
	sensor sensorFlags
	sim    bool
	seed   uint64
	rate   int
	job    calib.Job
	simx   sim.Opts
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
	f.job.RegisterFlags(fs)
	f.simx.RegisterFlags(fs)
	app.GroupFlags(fs, "Sensor: sensor sim seed bus addr accel-range gyro-range dlpf rate", "Calibration: seconds level mount mag out", sim.FlagGroup)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := daemon.CheckRate(f.rate); err != nil {
		return cli.Usagef("%w", err)
	}
	if err := f.job.Check(f.rate); err != nil {
		return cli.Usagef("%w", err)
	}
	kind, err := f.sensor.kindOf(f.sim)
	if err != nil {
		return err
	}
	f.sensor.det.Mag = f.job.Mag
	sc, err := f.sensor.sensorConfig(kind, f.rate, f.seed, !f.job.Mag, nil)
	if err != nil {
		return err
	}
	if f.job.Mag {
		sc.SimOpts = f.simx
		sc.SimOpts.Mag = true
		if !sc.SimOpts.Still && !sc.SimOpts.Scripted {
			sc.SimOpts.Tumble = true // the simulated user turns it in every direction
		}
		if err := f.job.Load(); err != nil {
			return cli.Usagef("%w", err)
		}
	}
	sens, err := openSensor(sc, slog.New(slog.NewTextHandler(stderr, nil)))
	if err != nil {
		return err
	}
	defer sens.Halt()
	ctx, stop := interrupted()
	defer stop()
	return f.job.Run(ctx, sens, stdout, stderr)
}
