package lsm6dsox_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/lsm6dsox"
)

func Example() {
	// A recorded session of an Adafruit LSM6DSOX board lying flat.
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x6A, W: []byte{0x0F}, R: []byte{0x6C}}, // WHO_AM_I: LSM6DSO(X)
		{Addr: 0x6A, W: []byte{0x12, 0x05}},            // software reset
		{Addr: 0x6A, W: []byte{0x12, 0x44}},            // BDU, auto-increment
		{Addr: 0x6A, W: []byte{0x10, 0x58}},            // accel 208 Hz, ±4 g
		{Addr: 0x6A, W: []byte{0x11, 0x54}},            // gyro 208 Hz, ±500 °/s
		// OUT_TEMP 512 (27 °C), gyro 57, 0, -29, accel 0, 0, 8197 (1 g).
		{Addr: 0x6A, W: []byte{0x20}, R: []byte{0x00, 0x02, 57, 0, 0, 0, 0xE3, 0xFF, 0, 0, 0, 0, 0x05, 0x20}},
	}}
	d, err := lsm6dsox.New(bus, 0x6A, nil)
	if err != nil {
		log.Fatal(err)
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(d, d.Chip())
	fmt.Printf("accel %.3f m/s²\n", s.Accel)
	fmt.Printf("gyro  %.4f rad/s\n", s.Gyro)
	fmt.Printf("temp  %.1f °C\n", s.TempC)
	// Output:
	// lsm6dso@0x6a LSM6DSO/LSM6DSOX
	// accel [0.000 0.000 9.807] m/s²
	// gyro  [0.0174 0.0000 -0.0089] rad/s
	// temp  27.0 °C
}
