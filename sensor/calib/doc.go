// Package calib estimates and applies an IMU calibration: gyroscope bias,
// accelerometer offset and scale, the magnetometer's hard and soft iron
// (FitMag, in mag.go), and the mounting rotation from the sensor frame to
// the body frame.
//
// # Estimating
//
// Feed an Accumulator (or Estimate) with raw sensor-frame samples of the
// device lying still for some seconds. The gyroscope bias is the mean rate.
// For the accelerometer, a single pose only shows the offset along gravity:
// the part across it cannot be told from a small tilt. So by default the
// offset is taken along the measured gravity direction,
//
//	offset = mean − g·mean/|mean|
//
// which makes |a| = g at rest and never invents a tilt. If the device is
// known to lie level (Opts.Up, e.g. the body z axis up), the full vector
// offset = mean − g·up is used instead. Full accelerometer calibration
// (offsets across gravity and per-axis scale) needs several poses and is
// not estimated here; AccelScale can be set by hand in the file.
//
// Samples flagged StatusSensorError or StatusSaturated are skipped. The
// estimate is refused when the device moved (standard deviations above
// Opts.MaxGyroStd or Opts.MaxAccelStd) or when |mean| is far from g.
//
// # Applying
//
// Apply wraps a sensor.Sensor: after each good read it computes, per axis in
// the sensor frame,
//
//	gyro  = raw − GyroBias
//	accel = (raw − AccelOffset) × AccelScale
//
// and then rotates both into the body frame: v_body = R · v_sensor. A
// sample with a magnetometer reading (StatusMag) gets
//
//	mag = R · Mag.Matrix · (raw − Mag.Offset)
//
// It allocates nothing.
//
// # File format
//
// A calibration file is JSON:
//
//	{
//	  "format": "imustream-calibration/1",
//	  "sensor": "mpu6050@0x68",
//	  "created": "2026-01-01T12:00:00Z",
//	  "samples": 2000,
//	  "gravity_m_s2": 9.80665,
//	  "gyro_bias_rad_s": [0.0123, -0.0051, 0.0007],
//	  "accel_offset_m_s2": [0, 0, 0.112],
//	  "accel_scale": [1, 1, 1],
//	  "mounting": "x=-y,y=x,z=z",
//	  "mag": {
//	    "offset_ut": [19.99, -35.02, 11.98],
//	    "matrix": [[0.896, -0.062, 0.029], [-0.062, 1.147, -0.045], [0.029, -0.045, 0.979]],
//	    "field_ut": 51.3, "residual_pct": 0.57, "coverage_pct": 92, "samples": 600
//	  }
//	}
//
// format is required. gyro_bias_rad_s and accel_offset_m_s2 are in the
// sensor frame. accel_scale is optional (1, 1, 1). mounting is optional
// (identity) and is either named axes or a 3×3 matrix:
//
//	"mounting": "x=-y,y=x,z=z"
//	"mounting": [[0, -1, 0], [1, 0, 0], [0, 0, 1]]
//
// Named axes say, for each body axis, which signed sensor axis points the
// same way: "x=-y" means the body x axis is the sensor's −y. The matrix rows
// are the body axes in sensor coordinates, so v_body = R · v_sensor. Either
// must be a proper rotation: orthonormal with determinant +1 (a mirror, such
// as swapping two axes without a sign change, is refused). mag is optional
// (no correction): the hard-iron offset in µT and the soft-iron matrix
// (identity if left out), both in the sensor frame; its other fields
// describe the fit. sensor, created, samples and gravity_m_s2 are
// informative.
package calib
