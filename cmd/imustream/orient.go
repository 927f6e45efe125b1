package main

import (
	"flag"

	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/sensor/fusion"
	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/telemetry"
)

// simFlags set the simulator's motion and magnetometer (run, evaluate).
type simFlags struct{ opts sim.Opts }

func (s *simFlags) register(fs *flag.FlagSet) {
	fs.Func("sim-motion", "simulated `MOTION`: "+sim.Motions, func(v string) error { return sim.ParseMotion(v, &s.opts) })
	fs.Func("sim-pose", "simulated `POSE` roll=R,pitch=P,yaw=Y in degrees (ENU: yaw 0 = x east), held by --sim-motion still, the start of scripted", func(v string) (err error) {
		s.opts.Pose, err = sim.ParsePose(v)
		return err
	})
	fs.BoolVar(&s.opts.Mag, "sim-mag", false, "give the simulated sensor a magnetometer (on with --fusion 9)")
	fs.Func("sim-field", "simulated earth `FIELD` strength=UT,inclination=DEG,declination=DEG (default 50 µT, 65°, 0°)", func(v string) (err error) {
		s.opts.Field, err = sim.ParseField(v)
		return err
	})
	fs.Func("sim-hard-iron", "simulated hard-iron offset `X,Y,Z` in µT, added to the field", func(v string) error {
		f, err := sim.ParseFloats(v, 3)
		if err == nil {
			copy(s.opts.HardIron[:], f)
		}
		return err
	})
	fs.Func("sim-soft-iron", "simulated soft-iron `MATRIX`, 9 numbers M11,M12,…,M33 by rows, multiplying the field", func(v string) error {
		f, err := sim.ParseFloats(v, 9)
		if err == nil {
			for i := range 9 {
				s.opts.SoftIron[i/3][i%3] = f[i]
			}
		}
		return err
	})
}

const simGroup = "Simulator: sim-motion sim-pose sim-mag sim-field sim-hard-iron sim-soft-iron"

// fusionFlags choose the orientation filter (run, evaluate).
type fusionFlags struct {
	mode string
	opts fusion.Opts
}

func (f *fusionFlags) register(fs *flag.FlagSet, def string) {
	fs.StringVar(&f.mode, "fusion", def, "orientation filter `MODE`: off, 6 (gyro and accel) or 9 (and magnetometer); adds the quaternion to every sample (84-byte records)")
	fs.Float64Var(&f.opts.Gain, "fusion-gain", fusion.DefaultOpts.Gain, "the filter's proportional `GAIN` in rad/s: higher trusts accel and mag more")
	fs.Float64Var(&f.opts.IntegralGain, "fusion-integral-gain", fusion.DefaultOpts.IntegralGain, "the filter's integral `GAIN` (gyro offset estimate); negative turns it off")
	fs.Float64Var(&f.opts.DeclinationDeg, "fusion-declination", 0, "magnetic declination in `DEG`, east positive, to turn the 9-axis heading to true north")
}

const fusionGroup = "Orientation: fusion fusion-gain fusion-integral-gain fusion-declination"

// options returns the filter's options, checked.
func (f *fusionFlags) options() (fusion.Opts, error) {
	m, err := fusion.ParseMode(f.mode)
	if err != nil {
		return fusion.Opts{}, cli.Usagef("--fusion: %w", err)
	}
	o := f.opts
	o.Mode = m
	if m == fusion.Off {
		return o, nil
	}
	if err := o.Validate(); err != nil {
		return o, cli.Usagef("%w", err)
	}
	return o, nil
}

// checkMagQuatBatch refuses a batch that 84-byte records do not fit.
func checkMagQuatBatch(batch int) error {
	if batch > telemetry.MaxBatchMagQuat {
		return cli.Usagef("--batch %d with --fusion: at most %d records of %d bytes fit a datagram", batch, telemetry.MaxBatchMagQuat, telemetry.SampleLenMagQuat)
	}
	return nil
}
