package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"

	"github.com/imustream/imustream/sensor"
)

const (
	g0  = sensor.StandardGravity
	deg = math.Pi / 180
)

// Opts configures a Sim. Zero (or negative) numeric fields mean the
// default, given on each field and collected in DefaultOpts.
type Opts struct {
	// Seed selects the motion phases, the biases and the noise. Zero is a
	// seed like any other.
	Seed uint64
	// BandwidthHz is the noise bandwidth in Hz, as set by the chip's
	// low-pass filter. It defaults to 100.
	BandwidthHz float64
	// AccelNoiseDensity is in (m/s²)/√Hz. It defaults to 400 µg/√Hz.
	AccelNoiseDensity float64
	// GyroNoiseDensity is in (rad/s)/√Hz. It defaults to 0.005 °/s/√Hz.
	GyroNoiseDensity float64
	// AccelBias bounds the constant per-axis accelerometer bias, drawn
	// uniformly from ±AccelBias, in m/s². It defaults to 50 mg.
	AccelBias float64
	// GyroBias bounds the constant per-axis gyroscope bias, drawn uniformly
	// from ±GyroBias, in rad/s. It defaults to 1 °/s.
	GyroBias float64
	// AccelFullScale is the accelerometer range, ± m/s². Readings beyond it
	// are clamped and flagged sensor.StatusSaturated. It defaults to 16 g.
	AccelFullScale float64
	// GyroFullScale is the gyroscope range, ± rad/s, clamped and flagged
	// like AccelFullScale. It defaults to 2000 °/s.
	GyroFullScale float64

	// NoiseFree turns off the white noise of all sensors.
	NoiseFree bool
	// NoBias sets the accelerometer and gyroscope biases to zero.
	NoBias bool
	// Still holds the device flat and level: no motion. With Pose it holds
	// that pose instead.
	Still bool
	// Pose is the attitude Still holds, and where Scripted starts: roll,
	// pitch and yaw in radians (ZYX Euler angles of the body in the ENU
	// world frame; see the package documentation).
	Pose [3]float64
	// Scripted replaces the seeded rocking with a fixed trajectory, the
	// same for every seed: 2 s at Pose, then turns of up to ±120° in yaw
	// and ±30° in roll and pitch about it (see Scripted in motion.go).
	Scripted bool
	// Tumble turns the device through every direction, as one does to
	// calibrate a magnetometer: yaw all the way round every 4 s, pitch
	// ±80°, roll ±170° (see Tumble in motion.go).
	Tumble bool

	// Mag turns the magnetometer on: Read sets Mag (µT) and StatusMag.
	Mag bool
	// Field is the earth's field the magnetometer sees; zero means
	// DefaultField.
	Field Field
	// MagNoise is the magnetometer's white noise σ in µT. It defaults to
	// 0.3 µT (two LSB of the AK8963).
	MagNoise float64
	// HardIron is added to the field the magnetometer reads, in µT, and
	// SoftIron multiplies it before that (zero means identity): the
	// distortion of iron fixed to the device, m = SoftIron·b + HardIron.
	HardIron [3]float64
	SoftIron [3][3]float64

	// FailEvery makes every FailEvery-th read (counting from 1, failed
	// reads included) fail with ErrInjected. It defaults to 0: never.
	FailEvery int
	// FIFORateHz, when positive, turns on the FIFO mode (see ReadBatch):
	// the simulated chip samples at this output data rate on its own
	// clock. It defaults to 0: off, Read only.
	FIFORateHz float64
	// ClockPPM is the FIFO mode's sensor clock error in ppm: +50 samples
	// 50 ppm fast. It defaults to 0.
	ClockPPM float64
	// FIFOSamples is the FIFO's capacity in samples. It defaults to 512.
	FIFOSamples int

	// StuckAfter freezes the outputs after that many reads: later reads
	// succeed but repeat the last good values, as a hung sensor does, so
	// that only the consumer can tell. Injected failures still fail. It
	// defaults to 0: never.
	StuckAfter int
}

// DefaultOpts are the values New uses for zero fields: an MPU-6050 at its
// widest ranges with the low-pass filter at 100 Hz.
var DefaultOpts = Opts{
	BandwidthHz:       100,
	AccelNoiseDensity: 400e-6 * g0,
	GyroNoiseDensity:  0.005 * deg,
	AccelBias:         50e-3 * g0,
	GyroBias:          1 * deg,
	AccelFullScale:    16 * g0,
	GyroFullScale:     2000 * deg,
	MagNoise:          0.3,
}

var (
	// ErrInjected is wrapped by the errors of reads failed on purpose.
	ErrInjected = errors.New("sim: injected fault")
	// ErrHalted is returned by Read after Halt.
	ErrHalted = errors.New("sim: halted")
)

// Motion: each Euler angle is a sum of two sinusoids. The periods are
// incommensurate so the pattern does not visibly repeat.
var (
	motionAmp    = [3][2]float64{{12 * deg, 4 * deg}, {8 * deg, 3 * deg}, {20 * deg, 5 * deg}}
	motionPeriod = [3][2]float64{{9, 2.7}, {13, 3.3}, {23, 4.1}}
)

// pcgStream is PCG's second seed word. Any constant does; changing it
// changes every simulated sample.
const pcgStream = 0x9e3779b97f4a7c15

const (
	tempMean   = 25.0 // °C
	tempSwing  = 1.5  // °C either side of tempMean
	tempPeriod = 600  // s
	tempNoise  = 0.01 // °C, σ
)

// Sim is a simulated IMU. Read is called from one goroutine at a time;
// FailFor and Halt may be called from any goroutine.
type Sim struct {
	opts     Opts
	rng      *rand.Rand
	omega    [3][2]float64 // angular frequency of each motion term, rad/s
	phase    [3][2]float64
	tempPh   float64
	accBias  [3]float64
	gyroBias [3]float64
	accSigma float64
	gyrSigma float64

	// Built once so that failing reads do not allocate either.
	errEvery  error
	errWindow error

	magRng     *rand.Rand
	fieldWorld [3]float64 // µT, ENU
	truth      [3]float64 // roll, pitch, yaw of the last read

	reads  int64 // Read calls so far, halted ones excluded
	t0     int64 // MonoNs of the first read
	held   reading
	failN  atomic.Int64 // reads left to fail, set by FailFor
	halted atomic.Bool

	fifo fifoState
}

var _ sensor.Sensor = (*Sim)(nil)

// reading is one output of the model, already clamped.
type reading struct {
	accel [3]float32
	gyro  [3]float32
	temp  float32
	mag   [3]float32
	sat   bool
}

// New returns a simulated IMU configured by opts; zero fields take the
// values in DefaultOpts.
func New(opts Opts) *Sim {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opts.BandwidthHz, DefaultOpts.BandwidthHz)
	def(&opts.AccelNoiseDensity, DefaultOpts.AccelNoiseDensity)
	def(&opts.GyroNoiseDensity, DefaultOpts.GyroNoiseDensity)
	def(&opts.AccelBias, DefaultOpts.AccelBias)
	def(&opts.GyroBias, DefaultOpts.GyroBias)
	def(&opts.AccelFullScale, DefaultOpts.AccelFullScale)
	def(&opts.GyroFullScale, DefaultOpts.GyroFullScale)
	def(&opts.MagNoise, DefaultOpts.MagNoise)
	if opts.Field == (Field{}) {
		opts.Field = DefaultField
	}
	if opts.SoftIron == ([3][3]float64{}) {
		opts.SoftIron = identity
	}

	d := &Sim{
		opts:     opts,
		rng:      rand.New(rand.NewPCG(opts.Seed, pcgStream)),
		accSigma: opts.AccelNoiseDensity * math.Sqrt(opts.BandwidthHz),
		gyrSigma: opts.GyroNoiseDensity * math.Sqrt(opts.BandwidthHz),
	}
	// Draw everything whatever the options, so that a flag changes only
	// what it is about and not the rest of the stream.
	for i := range d.phase {
		for k := range d.phase[i] {
			d.omega[i][k] = 2 * math.Pi / motionPeriod[i][k]
			d.phase[i][k] = 2 * math.Pi * d.rng.Float64()
		}
	}
	d.tempPh = 2 * math.Pi * d.rng.Float64()
	for i := range 3 {
		d.accBias[i] = opts.AccelBias * (2*d.rng.Float64() - 1)
		d.gyroBias[i] = opts.GyroBias * (2*d.rng.Float64() - 1)
	}
	if opts.NoBias {
		d.accBias = [3]float64{}
		d.gyroBias = [3]float64{}
	}
	if opts.FailEvery > 0 {
		d.errEvery = fmt.Errorf("%w (1 read in %d)", ErrInjected, opts.FailEvery)
	}
	d.errWindow = fmt.Errorf("%w (FailFor)", ErrInjected)
	// The magnetometer's noise has its own stream, so that turning it on
	// leaves the other sensors' samples as they were.
	d.magRng = rand.New(rand.NewPCG(opts.Seed, pcgStream+1))
	d.fieldWorld = opts.Field.World()
	d.initFIFO()
	return d
}

// String implements sensor.Sensor.
func (d *Sim) String() string { return "sim" }

// Bias returns the constant per-axis biases drawn by New (zero with
// Opts.NoBias): what a calibration at rest should find, in m/s² and rad/s.
func (d *Sim) Bias() (accel, gyro [3]float64) { return d.accBias, d.gyroBias }

// Halt implements sensor.Sensor. Reads after Halt fail with ErrHalted.
func (d *Sim) Halt() error {
	d.halted.Store(true)
	return nil
}

// FailFor makes the next n reads fail with ErrInjected, replacing what is
// left of an earlier FailFor; n <= 0 cancels it. It is safe to call while
// another goroutine is in Read.
func (d *Sim) FailFor(n int) {
	d.failN.Store(max(int64(n), 0))
}

// Read implements sensor.Sensor. It computes the sample for s.MonoNs. On a
// good read it clears sensor.StatusSensorError and sensor.StatusSaturated
// and sets the latter again if an axis is clamped; on a failed read it sets
// sensor.StatusSensorError and leaves everything else alone. The caller's
// timing bits are never touched.
func (d *Sim) Read(s *sensor.Sample) error {
	if d.halted.Load() {
		s.Status |= sensor.StatusSensorError
		return ErrHalted
	}
	d.reads++
	if d.reads == 1 {
		d.t0 = s.MonoNs
	}
	// Compute before deciding to fail, to draw the same noise either way.
	r := d.model(float64(s.MonoNs-d.t0) * 1e-9)

	if err := d.fault(); err != nil {
		s.Status |= sensor.StatusSensorError
		return err
	}
	if d.opts.StuckAfter > 0 && d.reads > int64(d.opts.StuckAfter) {
		r = d.held
	} else {
		d.held = r
	}
	s.Accel = r.accel
	s.Gyro = r.gyro
	s.TempC = r.temp
	if d.opts.Mag {
		s.Mag = r.mag
		s.Status |= sensor.StatusMag
	}
	s.Status &^= sensor.StatusSensorError | sensor.StatusSaturated
	if r.sat {
		s.Status |= sensor.StatusSaturated
	}
	return nil
}

// fault reports whether this read is to fail, and how.
func (d *Sim) fault() error {
	for {
		n := d.failN.Load()
		if n <= 0 {
			break
		}
		if d.failN.CompareAndSwap(n, n-1) {
			return d.errWindow
		}
	}
	if n := int64(d.opts.FailEvery); n > 0 && d.reads%n == 0 {
		return d.errEvery
	}
	return nil
}

// attitude returns the Euler angles (roll φ, pitch θ, yaw ψ) t seconds
// after the first read, and their time derivatives.
func (d *Sim) attitude(t float64) (ang, rate [3]float64) {
	switch {
	case d.opts.Still:
		return d.opts.Pose, rate
	case d.opts.Scripted:
		return Scripted(d.opts.Pose, t)
	case d.opts.Tumble:
		return Tumble(t)
	}
	for i := range ang {
		for k := range d.phase[i] {
			sn, cs := math.Sincos(d.omega[i][k]*t + d.phase[i][k])
			ang[i] += motionAmp[i][k] * sn
			rate[i] += motionAmp[i][k] * d.omega[i][k] * cs
		}
	}
	return ang, rate
}

// model returns the sensor outputs t seconds after the first read.
func (d *Sim) model(t float64) reading {
	ang, rate := d.attitude(t)
	d.truth = ang
	sinRoll, cosRoll := math.Sincos(ang[0])
	sinPitch, cosPitch := math.Sincos(ang[1])
	dRoll, dPitch, dYaw := rate[0], rate[1], rate[2]

	acc := [3]float64{-g0 * sinPitch, g0 * sinRoll * cosPitch, g0 * cosRoll * cosPitch}
	gyr := [3]float64{
		dRoll - dYaw*sinPitch,
		dPitch*cosRoll + dYaw*cosPitch*sinRoll,
		-dPitch*sinRoll + dYaw*cosPitch*cosRoll,
	}
	temp := tempMean + tempSwing*math.Sin(2*math.Pi*t/tempPeriod+d.tempPh)

	for i := range 3 {
		acc[i] += d.accBias[i]
		gyr[i] += d.gyroBias[i]
	}
	if !d.opts.NoiseFree {
		for i := range 3 {
			acc[i] += d.accSigma * d.rng.NormFloat64()
			gyr[i] += d.gyrSigma * d.rng.NormFloat64()
		}
		temp += tempNoise * d.rng.NormFloat64()
	}

	var r reading
	for i := range 3 {
		var sa, sg bool
		r.accel[i], sa = clamp(acc[i], d.opts.AccelFullScale)
		r.gyro[i], sg = clamp(gyr[i], d.opts.GyroFullScale)
		r.sat = r.sat || sa || sg
	}
	r.temp = float32(temp)
	if d.opts.Mag {
		r.mag = d.magnetometer(ang)
	}
	return r
}

func clamp(v, fs float64) (float32, bool) {
	switch {
	case v > fs:
		return float32(fs), true
	case v < -fs:
		return float32(-fs), true
	}
	return float32(v), false
}
