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
	"github.com/imustream/imustream/sensor/fusion"
	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/telemetry"
)

// sensorFlags choose and configure the IMU; run, probe and calibrate share
// them, so the same names work everywhere and in the config file.
type sensorFlags struct {
	kind string
	det  detect.Config // but Kind, folded with --sim, and RateHz, the command's
}

func (s *sensorFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.kind, "sensor", string(detect.Auto), "IMU `KIND`: "+daemon.SensorKinds+"; auto probes 0x68, 0x69, 0x6a, 0x6b, 0x28, 0x29")
	fs.StringVar(&s.det.Bus, "bus", detect.DefaultBus, "I²C `BUS`: 1, I2C1 or /dev/i2c-1")
	fs.Var((*detect.Addr)(&s.det.Addr), "addr", "I²C `ADDR` of the IMU, e.g. 0x68 (default: probe the known ones)")
	fs.IntVar(&s.det.AccelRangeG, "accel-range", 0, "accelerometer full scale ±`G`: 2, 4, 8 or 16 g (default 4)")
	fs.IntVar(&s.det.GyroRangeDPS, "gyro-range", 0, "gyroscope full scale ±`DPS` (°/s): 250, 500, 1000, 2000 (MPU) or 245, 500, 2000 (LSM9DS1) (default 500)")
	fs.IntVar(&s.det.DLPFHz, "dlpf", 0, "MPU low-pass filter `HZ`: 184, 92, 41, 20, 10 or 5, at most half of --rate (default: the widest allowed); the LSM9DS1 has none to set")
}

// registerMag adds --mag.
func (s *sensorFlags) registerMag(fs *flag.FlagSet) {
	fs.BoolVar(&s.det.Mag, "mag", true, "read the chip's magnetometer, if it has one (MPU-9250/9255, LSM9DS1), into every sample (84-byte records)")
}

// registerPressure adds run's --pressure.
func (s *sensorFlags) registerPressure(fs *flag.FlagSet) {
	fs.BoolVar(&s.det.Pressure, "pressure", true, "stream the pressure of a BMP180/BMP280/BME280 at 0x76/0x77 on the IMU's bus, if there is one (56-byte records)")
}

// registerFIFO adds run's --fifo.
func (s *sensorFlags) registerFIFO(fs *flag.FlagSet) {
	fs.StringVar((*string)(&s.det.FIFO), "fifo", string(detect.FIFOAuto), "read the chip through its FIFO, samples timed by its clock: `MODE` auto (on where the chip has one and --rate is above 200 Hz), on or off; the simulator only with on")
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
func (s *sensorFlags) sensorConfig(kind string, rateHz int, seed uint64, still bool, cal *calibFlags) (daemon.SensorConfig, error) {
	c, err := daemon.NewSensorConfig(kind, s.det, rateHz, seed, still)
	if err != nil {
		return c, cli.Usagef("%w", err)
	}
	if cal != nil {
		if c.Calibration, err = cal.load(); err != nil {
			return c, err
		}
		c.CalibrationFile = cal.file
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

// calibFlags load a calibration file and a mounting for run.
type calibFlags struct {
	file  string
	mount calib.Mounting
	fs    *flag.FlagSet // whether --mount was given, since "x=x,y=y,z=z" and none are the same rotation but only one overrides the file
}

func (c *calibFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.file, "calibration", "", "calibration `FILE` written by imustream calibrate, applied to every sample")
	c.fs = fs
	fs.Var(&c.mount, "mount", "mounting as `AXES|MATRIX`: the body axes as signed sensor axes, e.g. x=-y,y=x,z=z, or a 3×3 JSON matrix (rows = body axes in sensor coordinates); overrides the calibration file's")
}

// load reads the calibration file and the mounting; nil when neither is
// given. It runs before the sensor is opened, so that a bad file is refused
// without touching the bus.
func (c *calibFlags) load() (*calib.Calibration, error) {
	var mount *calib.Mounting
	if cli.IsSet(c.fs, "mount") {
		mount = &c.mount
	}
	cal, err := calib.LoadMounted(c.file, mount)
	if err != nil {
		return nil, cli.Usagef("--calibration: %w", err)
	}
	return cal, nil
}

// openDaemonSensor opens the sensor run's flags select, with its
// calibration.
func openDaemonSensor(f *daemonFlags, log *slog.Logger) (sensor.Sensor, error) {
	kind, err := f.sensor.kindOf(f.sim)
	if err != nil {
		return nil, err
	}
	if kind != "sim" {
		daemon.FitBatch(&f.sensor.det, f.cfg.Batch, f.fusion.mode != "off", log)
	}
	c, err := f.sensor.sensorConfig(kind, f.cfg.RateHz, f.seed, false, &f.cal)
	if err != nil {
		return nil, err
	}
	c.SimOpts = f.simx.opts
	if c.Fusion, err = f.fusion.options(); err != nil {
		return nil, err
	}
	if c.Fusion.Mode != fusion.Off || (c.Sim && c.SimOpts.Mag) {
		if err := checkMagQuatBatch(f.cfg.Batch); err != nil {
			return nil, err
		}
	}
	return openSensor(c, log)
}

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
	fs.Func("sim-hard-iron", "simulated hard-iron offset `X,Y,Z` in µT, added to the field", func(v string) (err error) {
		s.opts.HardIron, err = sim.ParseHardIron(v)
		return err
	})
	fs.Func("sim-soft-iron", "simulated soft-iron `MATRIX`, 9 numbers M11,M12,…,M33 by rows, multiplying the field", func(v string) (err error) {
		s.opts.SoftIron, err = sim.ParseSoftIron(v)
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
