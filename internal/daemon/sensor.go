package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/calib"
	"github.com/imustream/imustream/sensor/detect"
	"github.com/imustream/imustream/sensor/fusion"
	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/telemetry"
)

// SensorKinds lists the kinds SensorKind takes, for help texts.
const SensorKinds = "auto, mpu6050 (MPU-6050/6500/9250/9255), icm20948, lsm9ds1 (Sense HAT), lsm6dsox (LSM6DSOX/LSM6DSO/LSM6DS3TR-C/ISM330DHCX, with an LIS3MDL), bno055 or sim"

// SensorKind reads the sensor the command line names: "sim" or a
// detect.Kind, with sim (the --sim flag, short for "sim") folded in.
func SensorKind(kind string, sim bool) (string, error) {
	k := strings.ToLower(strings.TrimSpace(kind))
	switch detect.Kind(k) {
	case detect.Auto, detect.MPU6050, detect.LSM9DS1, detect.ICM20948, detect.LSM6DSOX, detect.BNO055, "sim":
	default:
		return "", fmt.Errorf("%w: --sensor %q: want %s", ErrConfig, kind, SensorKinds)
	}
	if sim && k != "sim" && k != string(detect.Auto) {
		return "", fmt.Errorf("%w: --sim and --sensor %s disagree (--sim is short for --sensor sim)", ErrConfig, k)
	}
	if sim {
		k = "sim"
	}
	return k, nil
}

// SimClockPPM is the simulator's sensor clock error in its FIFO mode:
// enough for the timestamp reconstruction to have a drift to follow.
const SimClockPPM = 50

// SensorConfig chooses the IMU: the simulator, or the chip sensor/detect
// finds, and the calibration applied to every sample.
type SensorConfig struct {
	// Sim selects the simulated sensor, seeded with Seed and, with Still,
	// at rest (as a device being calibrated is).
	Sim   bool
	Seed  uint64
	Still bool
	// SimFIFOHz, when positive, runs the simulator in its FIFO mode at
	// that output data rate, with a sensor clock 50 ppm fast.
	SimFIFOHz int
	// Sim holds the rest of the simulator's options (pose, scripted
	// motion, magnetometer); Seed and Still above override its own.
	SimOpts sim.Opts
	// Detect finds and configures the chip when Sim is false; validated.
	Detect detect.Config
	// Calibration, when set, is applied to every sample; File names it
	// in the log.
	Calibration     *calib.Calibration
	CalibrationFile string
	// Fusion, unless its Mode is fusion.Off, adds the orientation filter
	// after the calibration. A 9-axis filter turns the simulator's
	// magnetometer on.
	Fusion fusion.Opts
}

// OpenSensor opens the sensor c selects, with its calibration. Settings
// the chip refuses (found only once auto knows which chip it is) and a
// calibration that does not apply wrap ErrConfig, like the others.
func OpenSensor(c SensorConfig, log *slog.Logger) (sensor.Sensor, error) {
	var sens sensor.Sensor
	if c.Sim {
		o := c.SimOpts
		o.Seed, o.Still = c.Seed, c.Still || o.Still
		o.Mag = o.Mag || c.Fusion.Mode == fusion.NineAxis
		o.FIFORateHz, o.ClockPPM = float64(c.SimFIFOHz), SimClockPPM
		log.Info("sensor: simulated", "seed", o.Seed, "still", o.Still, "scripted", o.Scripted, "mag", o.Mag, "fifo_hz", c.SimFIFOHz)
		sens = sim.New(o)
	} else {
		s, err := detect.Open(c.Detect)
		switch {
		case detect.InvalidOpts(err):
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		case errors.Is(err, detect.ErrNoBus):
			return nil, fmt.Errorf("%w; to run without hardware, pass --sim", err)
		case err != nil:
			return nil, err
		}
		if d, ok := s.(*detect.Device); ok {
			log.Info("sensor: found " + d.Describe())
		}
		sens = s
	}
	cal := c.Calibration
	if cal == nil {
		return withFusion(sens, c.Fusion, log)
	}
	if cal.Sensor != "" && cal.Sensor != sens.String() {
		log.Warn("calibration was made on another sensor", "file", c.CalibrationFile, "made_on", cal.Sensor, "sensor", sens.String())
	}
	out, err := calib.Apply(sens, *cal)
	if err != nil {
		sens.Halt()
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	log.Info("calibration applied", "file", c.CalibrationFile, "gyro_bias_rad_s", cal.GyroBias, "accel_offset_m_s2", cal.AccelOffset, "mounting", cal.Mounting.String())
	return withFusion(out, c.Fusion, log)
}

// withFusion wraps sens in the orientation filter fo asks for, if any.
func withFusion(sens sensor.Sensor, fo fusion.Opts, log *slog.Logger) (sensor.Sensor, error) {
	if fo.Mode == fusion.Off {
		return sens, nil
	}
	if sensor.HasOrientation(sens) {
		log.Warn("--fusion ignored: the chip fuses on board and its orientation is streamed", "sensor", sens.String())
		return sens, nil
	}
	if fo.Mode == fusion.NineAxis && !sensor.HasMag(sens) {
		sens.Halt()
		return nil, fmt.Errorf("%w: --fusion 9 needs a magnetometer and %s has none; use --fusion 6", ErrConfig, sens)
	}
	st, err := fusion.New(sens, &fo)
	if err != nil {
		sens.Halt()
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	o := st.Filter().Opts()
	log.Info("orientation filter", "mode", o.Mode.String(), "gain", o.Gain, "integral_gain", o.IntegralGain, "declination_deg", o.DeclinationDeg)
	return st, nil
}

// FitBatch turns off, in c, what datagrams of batch samples have no room
// for, rather than refuse to start on a board that happens to have it: the
// pressure, and the magnetometer's field unless magQuat (the records carry
// the quaternion, and with it the field, anyway). It logs what it turned
// off.
func FitBatch(c *detect.Config, batch int, magQuat bool, log *slog.Logger) {
	if c.Pressure && batch > telemetry.MaxBatchPressure {
		log.Warn("pressure not streamed: --batch leaves no room for it in 1200 bytes", "batch", batch, "max_batch_with_pressure", telemetry.MaxBatchPressure)
		c.Pressure = false
	}
	if c.Mag && !magQuat && batch > telemetry.MaxBatchMagQuat {
		log.Warn("magnetometer not read: --batch leaves no room for its field in 1200 bytes", "batch", batch, "max_batch_with_mag", telemetry.MaxBatchMagQuat)
		c.Mag = false
	}
}

// CheckBatch refuses a --batch that the stream's records do not fit: with
// the orientation filter, or the simulator's magnetometer, each sample is
// an 84-byte record of field and orientation. Its message names the flag.
func (c *SensorConfig) CheckBatch(batch int) error {
	if c.Fusion.Mode == fusion.Off && !(c.Sim && c.SimOpts.Mag) {
		return nil
	}
	if batch > telemetry.MaxBatchMagQuat {
		return fmt.Errorf("--batch %d with --fusion: at most %d records of %d bytes fit a datagram", batch, telemetry.MaxBatchMagQuat, telemetry.SampleLenMagQuat)
	}
	return nil
}

// NewSensorConfig is the SensorConfig of kind (SensorKind's: "sim" or a
// detect kind) read at rateHz: the simulator, seeded with seed, at rest
// with still, in its FIFO mode when det.FIFO is on; or the chip det
// describes, checked without touching the bus (the error is
// detect.Config.Validate's).
func NewSensorConfig(kind string, det detect.Config, rateHz int, seed uint64, still bool) (SensorConfig, error) {
	c := SensorConfig{Sim: kind == "sim", Seed: seed, Still: still}
	if c.Sim {
		if det.FIFO == detect.FIFOOn {
			c.SimFIFOHz = rateHz
		}
		return c, nil
	}
	c.Detect = det
	c.Detect.Kind, c.Detect.RateHz = detect.Kind(kind), rateHz
	return c, c.Detect.Validate()
}
