// Package mpu6050 drives the InvenSense MPU-6050 family of 6-axis IMUs over
// I²C: MPU-6050, MPU-6500, MPU-9250 and MPU-9255 (the accelerometer and
// gyroscope; package ak8963 reads the MPU-9250's magnetometer).
//
// The chip is identified by WHO_AM_I and answers at 0x68 (AD0 low) or 0x69
// (AD0 high). Each Read is one 14-byte burst from ACCEL_XOUT_H into a buffer
// inside the Dev: accelerometer, temperature and gyroscope of the same
// sampling instant, converted to SI units without allocating.
//
// The internal sample rate always runs with the digital low-pass filter on
// (1 kHz before the divider), so the output data rate is 1000/(1+SMPLRT_DIV)
// Hz and must match the rate the caller reads at. The filter bandwidth must
// be at most half that rate (Nyquist); Opts.Validate lists what is allowed.
//
// Not built on periph.io/x/devices/v3/mpu9250: that driver disables the Z
// gyro in its init, cannot clear bits with its masked write, and reads the
// motion registers one byte per transaction.
//
// # Datasheet
//
// The URLs tend to rot; visit https://invensense.tdk.com if they do.
//
// MPU-6000/MPU-6050 product specification and register map:
// https://invensense.tdk.com/wp-content/uploads/2015/02/MPU-6000-Datasheet1.pdf
// https://invensense.tdk.com/wp-content/uploads/2015/02/MPU-6000-Register-Map1.pdf
//
// MPU-6500 product specification and register map:
// https://invensense.tdk.com/wp-content/uploads/2015/02/MPU-6500-Datasheet2.pdf
// https://invensense.tdk.com/wp-content/uploads/2015/02/MPU-6500-Register-Map2.pdf
//
// MPU-9250 product specification and register map:
// https://invensense.tdk.com/wp-content/uploads/2015/02/PS-MPU-9250A-01-v1.1.pdf
// https://invensense.tdk.com/wp-content/uploads/2015/02/RM-MPU-9250A-00-v1.6.pdf
package mpu6050
