// Package sim is a simulated IMU: a deterministic, seedable stand-in for the
// chip drivers, for CI, demos and development without hardware, with fault
// modes that let tests exercise the fault paths of the code above it.
//
// # Model
//
// The output is a function of the time since the first Read (taken from
// Sample.MonoNs, which the caller sets) and of one PCG stream seeded with
// Opts.Seed, so the same seed and the same timestamps give the same samples
// bit for bit on a given platform.
//
// The device rocks gently: roll, pitch and yaw are each a sum of two
// sinusoids (a few to 20 degrees, periods of 2.7 to 23 s, phases drawn from
// the seed). There is no linear acceleration, so the accelerometer reads
// gravity seen through that orientation (ZYX Euler angles φ, θ, ψ; flat and
// level reads (0, 0, +g)):
//
//	f = g·(−sin θ, sin φ·cos θ, cos φ·cos θ)
//
// and the gyroscope reads the body rates of the same motion, from the
// analytic derivatives of the angles:
//
//	p = φ̇ − ψ̇·sin θ
//	q = θ̇·cos φ + ψ̇·cos θ·sin φ
//	r = −θ̇·sin φ + ψ̇·cos θ·cos φ
//
// so the two agree exactly: df/dt = −ω × f.
//
// # Sensor errors
//
// Each axis gets a constant bias drawn from the seed and white noise with
// σ = density·√bandwidth. The defaults are those of an MPU-6050 with its
// low-pass filter at 100 Hz:
//
//   - accelerometer noise 400 µg/√Hz (§6.2), σ = 4 mg ≈ 0.039 m/s²;
//   - gyroscope noise 0.005 °/s/√Hz (§6.1), σ = 0.05 °/s, which is also the
//     datasheet's total RMS noise at DLPF_CFG=2 (100 Hz);
//   - accelerometer bias within ±50 mg, the zero-g initial calibration
//     tolerance of the X and Y axes (§6.2; Z is specified at ±80 mg);
//   - gyroscope bias within ±1 °/s, what is left after the usual at-rest
//     offset calibration; an untrimmed part may be off by up to ±20 °/s
//     (initial ZRO tolerance, §6.1), which Opts.GyroBias can model;
//   - full scale ±16 g and ±2000 °/s, the widest ranges (§6.1, §6.2).
//
// The temperature drifts 1.5 °C either side of 25 °C over a 10 minute
// period, with 0.01 °C of noise (a few LSB of the 340 LSB/°C sensor, §6.3).
//
// Not modelled: quantisation to ADC counts, scale-factor and cross-axis
// errors, and the temperature dependence of the biases.
//
// # Faults
//
// Opts.FailEvery fails every Nth read, FailFor fails the next n reads (and
// may be called from another goroutine while Read runs), Opts.StuckAfter
// freezes the values, and the full-scale limits clamp and flag saturation.
// A failed read returns an error wrapping ErrInjected, sets
// sensor.StatusSensorError and leaves the sample's values untouched. Every
// read, failed or not, draws the same numbers from the PRNG, so injecting
// faults does not change the values of the reads that succeed.
//
// # Datasheet
//
// InvenSense MPU-6000/MPU-6050 Product Specification, PS-MPU-6000A-00
// revision 3.4 (2013-08-19), section 6 "Electrical Characteristics":
// https://invensense.tdk.com/wp-content/uploads/2015/02/MPU-6000-Datasheet1.pdf
package sim
