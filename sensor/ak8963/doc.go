// Package ak8963 drives the AsahiKASEI AK8963 3-axis magnetometer, the
// magnetometer die inside the InvenSense MPU-9250 and MPU-9255, over I²C.
//
// Inside an MPU-9250 the AK8963 sits on the MPU's auxiliary I²C bus. With
// the MPU's bypass switch on (INT_PIN_CFG BYPASS_EN, register 0x37 bit 1,
// and its I²C master off) it answers at 0x0C on the host's bus, next to the
// MPU: Opts.Bypass names the MPU's address, and New and every
// re-initialisation turn the switch on first, since an MPU that browned out
// turns it off.
//
// New reads the sensitivity adjustment values from the fuse ROM (ASAX,
// ASAY, ASAZ) and runs the chip in continuous measurement mode 2 (100 Hz),
// 16-bit output (0.15 µT/LSB). Each ReadMag is one 8-byte burst from ST1
// to ST2: the data-ready bit, the three axes and the overflow bit; reading
// ST2 also releases the data registers for the next measurement. The field
// is converted to µT in the MPU's accelerometer and gyroscope axes (the
// AK8963's x is the MPU's y, its y the MPU's x, its z the MPU's −z: MPU-9250
// product specification, section 9.1).
//
// # Datasheet
//
// AK8963 datasheet, MS1356-E-02 (AsahiKASEI, 2013), section 8 "Register
// Description":
// https://www.akm.com/content/dam/documents/products/electronic-compass/ak8963c/ak8963c-en-datasheet.pdf
//
// MPU-9250 product specification, PS-MPU-9250A-01 v1.1, sections 4.5
// (magnetometer), 7 (auxiliary I²C) and 9.1 (orientation of axes):
// https://invensense.tdk.com/wp-content/uploads/2015/02/PS-MPU-9250A-01-v1.1.pdf
package ak8963
