// Package lis3mdl drives the STMicroelectronics LIS3MDL 3-axis
// magnetometer over I²C, the magnetometer beside the LSM6DSOX family on
// Adafruit's LSM6DSOX+LIS3MDL and ISM330DHCX+LIS3MDL FeatherWing/9-DoF
// boards. It answers at 0x1C (SDO/SA1 low) or 0x1E (high) with WHO_AM_I
// 0x3D.
//
// It is not a sensor.Sensor of its own: an IMU driver (package lsm6dsox)
// calls ReadMag on every read to add the field to its sample. Each ReadMag
// is one 7-byte burst from STATUS_REG (0x27) through OUT_Z_H (0x2D), the
// sub-address's MSB set for auto-increment (datasheet 5.1.1): the status
// says whether the values are new (StatusMag) and the outputs are in
// µT (1 gauss = 100 µT).
//
// The chip runs continuously at 155 Hz (FAST_ODR, ultra-high-performance
// on X/Y/Z, datasheet table 20) with block data update. An axis at the
// 16-bit limits has overflowed (sensor.StatusMagOverflow).
//
// Not verified on hardware: the register sequence and the scaling come
// from the datasheet; the tests replay the traffic the datasheet
// describes.
//
// # Datasheet
//
// https://www.st.com/resource/en/datasheet/lis3mdl.pdf (DocID024204 rev 6):
// 2.1 (sensitivity), 5.1.1 (I²C, multi-byte reads), 7 (registers).
package lis3mdl
