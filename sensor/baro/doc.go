// Package baro reads the barometer of a 10-DOF board (BMP180, BMP280 or
// BME280 at 0x76/0x77, as on the GY-87 and GY-91) through periph's bmxx80
// driver, off the IMU's hot path.
//
// A conversion takes up to about 20 ms, during which bmxx80's Sense blocks:
// far too long for a 5 ms sampling tick. So a Dev reads the chip in its own
// goroutine at a slow rate (20 Hz by default) and publishes each good
// reading through an atomic pointer; Pressure, called on every IMU tick,
// only loads that pointer and checks the reading's age. It does not
// allocate and never touches the bus.
//
// Sharing the bus with the IMU is safe: periph's Linux I²C bus serialises
// transactions, and a barometer transaction is a few bytes, so it delays an
// IMU read by well under a millisecond at most.
//
// # Datasheet
//
// Bosch BMP280 digital pressure sensor, BST-BMP280-DS001:
// https://www.bosch-sensortec.com/media/boschsensortec/downloads/datasheets/bst-bmp280-ds001.pdf
//
// Bosch BMP180 digital pressure sensor, BST-BMP180-DS000:
// https://cdn-shop.adafruit.com/datasheets/BST-BMP180-DS000-09.pdf
package baro
