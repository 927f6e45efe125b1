package bno055_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/bno055"
)

func Example() {
	// A recorded session of an Adafruit BNO055 lying flat, calibrated.
	data := []byte{
		0, 0, 0, 0, 0xD5, 0x03, // accel 0, 0, 981: 9.81 m/s²
		0x40, 0x01, 0, 0, 0x20, 0xFC, // mag 320, 0, -992: 20, 0, -62 µT
		0, 0, 0, 0, 0, 0, // gyro
		0, 0, 0, 0, 0, 0, // Euler
		0x00, 0x40, 0, 0, 0, 0, 0, 0, // quaternion 1, 0, 0, 0
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // linear accel, gravity
		24, 0xFF, // 24 °C, all calibrated
	}
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x28, W: []byte{0x00}, R: []byte{0xA0}}, // CHIP_ID
		{Addr: 0x28, W: []byte{0x3D, 0x00}},            // CONFIG mode
		{Addr: 0x28, W: []byte{0x3F, 0x20}},            // reset
		{Addr: 0x28, W: []byte{0x07, 0x00}},            // page 0
		{Addr: 0x28, W: []byte{0x3E, 0x00}},            // normal power
		{Addr: 0x28, W: []byte{0x3B, 0x00}},            // m/s², °/s, °C
		{Addr: 0x28, W: []byte{0x3F, 0x00}},            // internal clock
		{Addr: 0x28, W: []byte{0x3D, 0x0C}},            // NDOF
		{Addr: 0x28, W: []byte{0x08}, R: data},
	}}
	d, err := bno055.New(bus, 0x28, nil)
	if err != nil {
		log.Fatal(err)
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(d)
	fmt.Printf("accel %.2f m/s², mag %.0f µT, quat %.1f\n", s.Accel, s.Mag, s.Quat)
	fmt.Println("calibration: system", s.Status.CalSysLevel(), "magnetometer", s.Status.CalMagLevel())
	// Output:
	// bno055@0x28
	// accel [0.00 0.00 9.81] m/s², mag [20 0 -62] µT, quat [1.0 0.0 0.0 0.0]
	// calibration: system 3 magnetometer 3
}
