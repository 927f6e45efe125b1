// Package bno055 drives the Bosch BNO055 absolute orientation sensor over
// I²C (Adafruit 2472 and 4646, and the many clones): its raw
// accelerometer, gyroscope and magnetometer, and the quaternion of its own
// NDOF fusion, which goes into Sample.Quat with sensor.StatusOrientation
// (no fusion stage runs on top of it). It answers at 0x28 (COM3 low, the
// Adafruit default) or 0x29 with CHIP_ID 0xA0.
//
// Read is one 46-byte burst from ACC_DATA_X_LSB (0x08) to CALIB_STAT
// (0x35): acceleration (1 m/s² = 100 LSB), magnetic field (1 µT = 16 LSB),
// angular rate (1 °/s = 16 LSB), Euler angles (skipped), quaternion (1 =
// 2¹⁴ LSB), linear acceleration and gravity (skipped), temperature (1 °C
// = 1 LSB) and the calibration status (datasheet 3.6.4, table 3-22). In
// NDOF mode the chip sets the ranges itself (accelerometer ±4 g, gyroscope
// ±2000 °/s; 3.5.2), so there are none to choose, and it fuses at 100 Hz:
// RateHz is at most 100.
//
// The calibration status (0..3 for the system, gyroscope, accelerometer
// and magnetometer) is in the sample's flags: the system and magnetometer
// levels in bits 10..13 (sensor.Status.CalSysLevel, CalMagLevel), and
// whether the gyroscope and the accelerometer are fully calibrated in bits
// 14 and 15.
//
// # Clock stretching on the Raspberry Pi
//
// The BNO055 holds SCL low (clock stretching) while its microcontroller
// prepares data, and the I²C controller of the Pi Zero to Pi 4 (BCM2835
// family) does not honour a stretch in every phase of the clock: the
// reads come back shifted or as 0xFF. The known workarounds are a slower
// bus (dtparam=i2c_arm_baudrate=10000 in config.txt, which leaves the
// chip time within a clock phase) or the bit-banged i2c-gpio overlay
// (dtoverlay=i2c-gpio), which honours stretching; the Pi 5's controller
// handles it. Package detect warns when it opens a BNO055 on a BCM2835
// controller faster than 10 kHz. The driver detects what it can: a
// quaternion whose norm is not 1 (a shifted or garbled read) fails the
// read with ErrGarbled, counted like any fault, so such samples are
// flagged and never streamed as good.
//
// Not verified on hardware: the register sequences and scalings come from
// the datasheet, and the tests replay the traffic it describes.
//
// # Datasheet
//
// BST-BNO055-DS000 rev 1.8:
// https://www.bosch-sensortec.com/media/boschsensortec/downloads/datasheets/bst-bno055-ds000.pdf
// 3.3 (operation modes), 3.6 (units and output data), 4.3 (register
// description), 4.6 (I²C, clock stretching).
package bno055
