// Package lsm6dsox drives STMicroelectronics' LSM6DSOX family of 6-axis
// IMUs over I²C, told apart by WHO_AM_I: LSM6DSOX and LSM6DSO (0x6C, the
// same register map; the ID cannot tell them apart), LSM6DS3TR-C (0x6A)
// and ISM330DHCX (0x6B). They answer at 0x6A (SDO/SA0 low) or 0x6B (high),
// as on the Adafruit LSM6DSOX, LSM6DS3TR-C and ISM330DHCX boards and the
// SparkFun 6DoF LSM6DSO. (The older LSM6DS3, WHO_AM_I 0x69, is not one of
// them.)
//
// Read is one 14-byte burst from OUT_TEMP_L (0x20) to OUTZ_H_A (0x2D) with
// auto-increment and block data update: temperature, gyroscope and
// accelerometer of one output data period, little-endian.
//
// The output data rate (ODR) is the lowest of 26, 52, 104, 208, 416, 833,
// 1666, 3333 and 6666 Hz at or above the rate Read is called at (12.5 Hz
// too below 26 Hz); accelerometer and gyroscope both run at it.
//
// # FIFO
//
// With Opts.FIFO every chip of the family queues every sample in its FIFO
// (continuous mode at the ODR, so RateHz must be one of the ODRs) and
// ReadBatch collects them (package sensor/fifo times them from the
// sensor's clock).
//
// The LSM6DSOX, LSM6DSO and ISM330DHCX: FIFO_STATUS1/2 (0x3A, two bytes:
// the word count and the overrun flag), then every queued word in one
// burst from FIFO_DATA_OUT_TAG (0x78). A word is 7 bytes, a tag and
// six data bytes; auto-increment rolls the address back from 0x7E to 0x78,
// so one burst reads many words (application note AN5192, 9.1). The tag
// names the sensor (gyroscope 0x01, accelerometer 0x02, temperature 0x03,
// batched at 52 Hz) and a 2-bit counter that pairs the gyroscope and
// accelerometer words of one sample; a pair split by the end of a burst is
// completed by the next one, and words of unknown sensors are skipped. An
// overrun empties the FIFO (bypass, then continuous again) and flags the
// next sample.
//
// The LSM6DS3TR-C has the older FIFO of the LSM6DSL: untagged 16-bit
// words in a pattern that repeats (AN5130 8). The driver stores the
// gyroscope and accelerometer undecimated (FIFO_CTRL3 0x09) and the
// temperature as the 4th data set, decimated to 52 Hz or the nearest rate
// above (FIFO_CTRL2 FIFO_TEMP_EN, FIFO_CTRL4 DEC_DS4_FIFO), so a pattern
// is Gx Gy Gz XLx XLy XLz T T T then Gx … XLz as many times as the
// decimation less one. ReadBatch reads FIFO_STATUS1…4 (0x3A, four bytes:
// the unread words, OVER_RUN, FIFO_EMPTY and FIFO_PATTERN, the position
// of the next word), then the words up to the end of the last whole
// sample in one burst from FIFO_DATA_OUT_L (0x3E): the address rolls back
// from 0x3F to 0x3E (AN5130 4.7.1). A read that starts inside a sample
// discards the words up to the next one; a FIFO_PATTERN beyond the
// pattern counts as a failed read (the re-initialisation restarts the
// FIFO). An overrun empties the FIFO (bypass, then continuous) and flags
// the next sample; the first sample after the FIFO starts is dropped, as
// the datasheet asks (DocID030071 5.5).
//
// # Magnetometer
//
// Opts.Mag, an LIS3MDL on the same bus (package lis3mdl, as on Adafruit's
// 9-DoF combinations), adds the magnetic field to every Read and to the
// newest sample of every ReadBatch.
//
// Not verified on hardware: the register sequences and scalings come from
// the datasheets, and the tests replay the traffic those describe.
//
// # Datasheet
//
// LSM6DSOX: https://www.st.com/resource/en/datasheet/lsm6dsox.pdf
// (DS12814): table 2 (sensitivities), 9 (registers), 9.5–9.6 (FIFO_CTRL3/4).
//
// LSM6DSO: https://www.st.com/resource/en/datasheet/lsm6dso.pdf (DS12140).
//
// LSM6DS3TR-C: https://www.st.com/resource/en/datasheet/lsm6ds3tr-c.pdf
// (DocID030071): 5.5 (FIFO), 9.4–9.8 (FIFO_CTRL1…5), 9.53–9.58
// (FIFO_STATUS1…4, FIFO_DATA_OUT). Its FIFO in detail: application note
// AN5130 (Rev 1, on the chip's st.com page), 4.7.1 and 8.
//
// ISM330DHCX: https://www.st.com/resource/en/datasheet/ism330dhcx.pdf
// (DS13012): ±4000 °/s (CTRL2_G FS_4000).
//
// FIFO: https://www.st.com/resource/en/application_note/an5192-lsm6dso-alwayson-3d-accelerometer-and-3d-gyroscope-stmicroelectronics.pdf
package lsm6dsox
