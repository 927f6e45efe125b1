package calib

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/imustream/imustream/internal/atomicfile"
	"github.com/imustream/imustream/sensor"
)

// Format identifies version 1 of the calibration file.
const Format = "imustream-calibration/1"

// Calibration is the content of a calibration file; see the package
// documentation for the format. The zero value changes nothing.
type Calibration struct {
	Format  string  `json:"format"`
	Sensor  string  `json:"sensor,omitempty"`       // what it was made on, e.g. "mpu6050@0x68"
	Created string  `json:"created,omitempty"`      // RFC 3339
	Samples int     `json:"samples,omitempty"`      // samples averaged
	Gravity float64 `json:"gravity_m_s2,omitempty"` // g the offset was taken against

	// GyroBias is subtracted from the gyroscope, rad/s, sensor frame.
	GyroBias Vec3 `json:"gyro_bias_rad_s"`
	// AccelOffset is subtracted from the accelerometer, m/s², sensor frame.
	AccelOffset Vec3 `json:"accel_offset_m_s2"`
	// AccelScale multiplies the accelerometer after the offset; zero means
	// 1, 1, 1.
	AccelScale Vec3 `json:"accel_scale,omitzero"`
	// Mounting rotates both into the body frame; zero means identity.
	Mounting Mounting `json:"mounting,omitzero"`
	// Mag corrects the magnetometer's hard and soft iron (FitMag), before
	// the mounting turns it too; zero means no correction.
	Mag MagCal `json:"mag,omitzero"`
}

// Vec3 is x, y, z. In JSON it must have exactly three elements.
type Vec3 [3]float64

// UnmarshalJSON implements json.Unmarshaler.
func (v *Vec3) UnmarshalJSON(b []byte) error {
	var s []float64
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if len(s) != 3 {
		return fmt.Errorf("calib: want 3 values (x, y, z), got %d", len(s))
	}
	copy(v[:], s)
	return nil
}

// Validate checks that c can be applied.
func (c *Calibration) Validate() error {
	for _, v := range []Vec3{c.GyroBias, c.AccelOffset, c.AccelScale} {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return errors.New("calib: non-finite value")
			}
		}
	}
	if c.AccelScale != (Vec3{}) {
		for i, x := range c.AccelScale {
			if x < 0.5 || x > 2 {
				return fmt.Errorf("calib: accel_scale[%d] = %g; want a correction near 1 (0.5 to 2)", i, x)
			}
		}
	}
	if err := checkRotation(c.Mounting.Matrix()); err != nil {
		return fmt.Errorf("calib: mounting: %w", err)
	}
	if c.Mag != (MagCal{}) {
		return c.Mag.validate()
	}
	return nil
}

// Parse decodes and validates a calibration file.
func Parse(b []byte) (Calibration, error) {
	var c Calibration
	if err := json.Unmarshal(b, &c); err != nil {
		return Calibration{}, fmt.Errorf("calib: %w", err)
	}
	if c.Format != Format {
		return Calibration{}, fmt.Errorf("calib: format %q; want %q", c.Format, Format)
	}
	if err := c.Validate(); err != nil {
		return Calibration{}, err
	}
	return c, nil
}

// Load reads and validates a calibration file.
func Load(path string) (Calibration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Calibration{}, fmt.Errorf("calib: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return Calibration{}, fmt.Errorf("%w (in %s)", err, path)
	}
	return c, nil
}

// Save writes c to path, replacing it atomically so that a daemon
// restarting meanwhile never loads half a file. It sets c.Format.
func Save(path string, c Calibration) error {
	c.Format = Format
	if err := c.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("calib: %w", err)
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("calib: %w", err)
	}
	return nil
}

// Apply returns s with c applied to every good read; see the package
// documentation. c must be valid.
func Apply(s sensor.Sensor, c Calibration) (sensor.Sensor, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	a := &applied{s: s}
	scale := c.AccelScale
	if scale == (Vec3{}) {
		scale = Vec3{1, 1, 1}
	}
	r := c.Mounting.Matrix()
	mm := c.Mag.matrix()
	for i := range 3 {
		a.magOff[i] = float32(c.Mag.Offset[i])
		for j := range 3 {
			a.magM[i][j] = float32(mm[i][j])
		}
		a.gyroBias[i] = float32(c.GyroBias[i])
		a.accelOff[i] = float32(c.AccelOffset[i])
		a.accelScale[i] = float32(scale[i])
		for j := range 3 {
			a.r[i][j] = float32(r[i][j])
		}
	}
	return a, nil
}

type applied struct {
	s                              sensor.Sensor
	gyroBias, accelOff, accelScale [3]float32
	r                              [3][3]float32
	magOff                         [3]float32
	magM                           [3][3]float32
}

// Read reads s and corrects the sample. After a failed read the sample
// holds the last corrected values, so it is left alone.
func (a *applied) Read(x *sensor.Sample) error {
	if err := a.s.Read(x); err != nil {
		return err
	}
	a.correct(x)
	return nil
}

// ReadBatch implements sensor.Batcher for a sensor read through its FIFO:
// each sample of the batch is corrected as Read corrects one.
func (a *applied) ReadBatch(dst []sensor.Sample) (int, error) {
	b, ok := a.s.(sensor.Batcher)
	if !ok {
		return 0, errNoFIFO
	}
	n, err := b.ReadBatch(dst)
	for i := range n {
		a.correct(&dst[i])
	}
	return n, err
}

// FIFORateHz implements sensor.Batcher: the wrapped sensor's, or 0.
func (a *applied) FIFORateHz() float64 {
	if b, ok := a.s.(sensor.Batcher); ok {
		return b.FIFORateHz()
	}
	return 0
}

var errNoFIFO = errors.New("calib: the sensor is not read through a FIFO")

func (a *applied) correct(x *sensor.Sample) {
	var acc, gyr [3]float32
	for i := range 3 {
		acc[i] = (x.Accel[i] - a.accelOff[i]) * a.accelScale[i]
		gyr[i] = x.Gyro[i] - a.gyroBias[i]
	}
	for i := range 3 {
		x.Accel[i] = a.r[i][0]*acc[0] + a.r[i][1]*acc[1] + a.r[i][2]*acc[2]
		x.Gyro[i] = a.r[i][0]*gyr[0] + a.r[i][1]*gyr[1] + a.r[i][2]*gyr[2]
	}
	if x.Status&sensor.StatusMag != 0 {
		// The driver writes its latest reading into every sample, so this
		// corrects each reading once per sample, never twice.
		var d, m [3]float32
		for i := range 3 {
			d[i] = x.Mag[i] - a.magOff[i]
		}
		for i := range 3 {
			m[i] = a.magM[i][0]*d[0] + a.magM[i][1]*d[1] + a.magM[i][2]*d[2]
		}
		for i := range 3 {
			x.Mag[i] = a.r[i][0]*m[0] + a.r[i][1]*m[1] + a.r[i][2]*m[2]
		}
	}
}

func (a *applied) String() string { return a.s.String() }

func (a *applied) Halt() error { return a.s.Halt() }

// Unwrap returns the sensor underneath, for its own methods (Stats, say).
func (a *applied) Unwrap() sensor.Sensor { return a.s }

// LoadMounted is the calibration to apply: the file's (Load), if file is
// given, with mount, if not nil, in place of its mounting; nil when
// neither is given.
func LoadMounted(file string, mount *Mounting) (*Calibration, error) {
	if file == "" && mount == nil {
		return nil, nil
	}
	c := Calibration{Format: Format}
	if file != "" {
		var err error
		if c, err = Load(file); err != nil {
			return nil, err
		}
	}
	if mount != nil {
		c.Mounting = *mount
	}
	return &c, nil
}
