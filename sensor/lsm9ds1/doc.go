// Package lsm9ds1 drives the accelerometer and gyroscope of an
// STMicroelectronics LSM9DS1 over I²C, as found on the Raspberry Pi Sense
// HAT, and its magnetometer, a separate I²C device at 0x1C/0x1E (Mag,
// NewMag: one 7-byte burst per read, in µT, turned into the accelerometer's
// axes).
//
// The accelerometer/gyroscope answers at 0x6A (SDO_A/G low, the Sense HAT)
// or 0x6B (high) with WHO_AM_I 0x68. Each Read is one 25-byte burst from
// OUT_TEMP_L (0x15) to OUT_Z_H_XL (0x2D) using register auto-increment
// (CTRL_REG8 IF_ADD_INC): temperature, gyroscope and accelerometer of the
// same output data period under block data update, converted to SI units
// without allocating. The control registers that lie in that range come
// along for free and tell when the chip has lost its configuration (a power
// glitch resets it to power-down without a bus error).
//
// The output data rate is the lowest of 14.9, 59.5, 119, 238, 476 and 952 Hz
// that is at least the rate Read is called at; the gyroscope and the
// accelerometer both run at it, with the filter bandwidths the datasheet
// ties to it.
//
// # Datasheet
//
// https://www.st.com/resource/en/datasheet/lsm9ds1.pdf
package lsm9ds1
