// Package fusion estimates orientation from a sensor's gyroscope and
// accelerometer (6-axis) and magnetometer (9-axis), as a stage between the
// sensor and the encoder: Stage wraps a sensor.Sensor, and each Read calls
// the inner sensor and then writes Sample.Quat and sets
// sensor.StatusOrientation, without allocating.
//
// # Frames
//
// The quaternion (w, x, y, z) rotates vectors from the sensor's frame (the
// body frame, after any calibration and mounting) into the world frame,
// which is ENU: x east, y north, z up. That is ROS's convention (REP 103
// and REP 145, sensor_msgs/Imu orientation). In 6-axis mode north is
// wherever the body's x axis pointed at the start; in 9-axis mode it is
// magnetic north, turned to true north by Opts.DeclinationDeg.
//
// # Algorithm
//
// A nonlinear complementary filter on the rotation group, the one of
// Mahony, Hamel and Pflimlin (2008), with the additions of Madgwick's
// revised AHRS in x-io Technologies' Fusion library (2022):
//
//   - The correction is proportional (Opts.Gain) and integral
//     (Opts.IntegralGain): the integral is the gyroscope offset estimate,
//     so a constant bias leaves no steady error.
//   - The accelerometer corrects roll and pitch through the cross product
//     of the measured and the estimated up direction. The magnetometer
//     corrects heading only: the measured east, m × a, against the
//     estimated one, projected on the up axis, so a disturbed field never
//     tilts the estimate.
//   - Fast start: the first sample sets the orientation directly (from the
//     accelerometer, and in 9-axis mode the magnetometer), and the gain
//     ramps down from 10 to Opts.Gain over Opts.StartupTime.
//   - Acceleration rejection: a sample whose up direction differs from the
//     estimate by more than Opts.AccelRejectionDeg (a device being shaken
//     or accelerated) does not correct; after Opts.RecoveryTime of
//     rejections in a row the start's ramp runs again, accepting
//     everything, so a wrong estimate cannot lock itself in.
//   - Magnetic rejection: the same for the heading (Opts.MagRejectionDeg)
//     and for a field whose strength is off by more than 20 % of the one
//     at the start (iron nearby).
//   - Gyroscope offset at rest: while every axis turns slower than
//     Opts.RestRateDPS for Opts.RestTime, the offset follows the gyroscope
//     with a 5 s time constant. That is what keeps the heading of a 6-axis
//     filter from drifting while the device lies still.
//
// # References
//
// R. Mahony, T. Hamel, J.-M. Pflimlin, "Nonlinear Complementary Filters on
// the Special Orthogonal Group", IEEE Trans. Automatic Control 53(5), 2008.
//
// S. O. H. Madgwick, "AHRS algorithms and calibration solutions to
// facilitate new applications using low-cost MEMS", PhD thesis, University
// of Bristol, 2014, chapter 7; x-io Technologies Fusion,
// https://github.com/xioTechnologies/Fusion (MIT licence), read for
// reference: this is an independent Go implementation.
package fusion
