// Package icm20948 drives the TDK InvenSense ICM-20948 9-axis IMU over I²C
// (Adafruit 4554, SparkFun 15335, Pimoroni PIM448), the MPU-9250's
// successor: accelerometer, gyroscope and temperature, and the AK09916
// magnetometer inside the package, read through the chip's own I²C
// master. It answers at 0x68 (AD0 low) or 0x69 (AD0 high, the Adafruit
// and SparkFun default) with WHO_AM_I 0xEA.
//
// The registers are in four banks selected by REG_BANK_SEL (0x7F); the
// configuration goes to banks 2 and 3 and the driver leaves bank 0
// selected, where the data are, so a read needs no bank switch.
//
// Read is one burst from ACCEL_XOUT_H (0x2D): accelerometer, gyroscope
// and temperature (14 bytes, big-endian) followed by the 9 bytes the I²C
// master copied from the AK09916 (EXT_SLV_SENS_DATA_00..08: ST1, the
// field little-endian, TMPS, ST2; 0.15 µT/LSB, AK09916 datasheet 9.3). ST1
// DRDY says the field is new (StatusMag), ST2 HOFL that it overflowed
// (StatusMagOverflow). The magnetometer runs at 100 Hz (continuous mode
// 4); the master reads it at the sample rate.
//
// The output data rate is 1125/(1+SMPLRT_DIV) Hz for both sensors (with
// ODR_ALIGN_EN): the lowest at or above the rate Read is called at. The
// low-pass filters are the widest whose bandwidth is at most half of it.
//
// # FIFO
//
// With Opts.FIFO the chip queues accelerometer, gyroscope and temperature
// (FIFO_EN_2 = 0x1F; a 14-byte frame in the burst's layout) in snapshot
// mode, and ReadBatch reads INT_STATUS_2 (FIFO_OVERFLOW_INT), FIFO_COUNT,
// every whole frame in one burst from FIFO_R_W, and the magnetometer's 9
// bytes for the newest sample. RateHz must then be an output data rate
// that is a whole number of Hz: 1125, 375, 225, 125, 75, 45, 25, 15, 9,
// 5, 3 or 1. An overflow resets the FIFO (FIFO_RST) and flags the next
// sample. At most 36 frames (504 bytes) are read per call; the rest wait.
//
// Not verified on hardware: the register sequences and scalings come from
// the datasheets, and the tests replay the traffic those describe.
//
// # Datasheet
//
// ICM-20948 datasheet DS-000189 v1.3: 3.1–3.2 (sensitivities), 7 (register
// map), 8 (bank 0), 10 (bank 2), 11 (bank 3):
// https://invensense.tdk.com/wp-content/uploads/2016/06/DS-000189-ICM-20948-v1.3.pdf
//
// AK09916 datasheet (in the ICM-20948 datasheet, 16): WIA2 0x09, CNTL2
// modes, ST1/ST2.
package icm20948
