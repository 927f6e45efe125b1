// Package detect finds the IMU on an I²C bus and opens the right driver:
// sensor/mpu6050 (MPU-6050, 6500, 9250, 9255 at 0x68/0x69) or
// sensor/lsm9ds1 (accelerometer/gyroscope at 0x6A/0x6B).
//
// Open checks the host before touching periph, so that a Pi without I²C
// enabled, or a user outside the i2c group, gets an error that says what to
// do; then it initialises periph's host drivers, opens the bus by name, reads
// the identity register at each known address and constructs the driver.
//
// With Config.Pressure, OpenBus also opens a barometer that answers at 0x76
// or 0x77 with package baro, which reads it in its own goroutine, and
// Device.Read adds the latest pressure to each sample without waiting.
//
// ProbeBus lists what answers at the known addresses (IMUs and, for
// information, the BMP180/BMP280/BME280 barometers of 10-DOF boards). With a
// record path it also runs a short session (probe, init, a few reads, halt)
// through i2ctest.Record and writes it as a trace file: see Trace for the
// format. Traces replay in tests with package detecttest, which feeds the
// successful transactions to an i2ctest.Playback.
//
// Errors start with "detect: " and wrap the cause: ErrNoBus, ErrPermission,
// sensor.ErrNotFound, the drivers' *WhoAmIError and ErrInvalidOpts all match
// with errors.Is or errors.As.
package detect
