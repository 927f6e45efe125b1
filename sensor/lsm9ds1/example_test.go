package lsm9ds1_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/lsm9ds1"
)

func Example() {
	// On a Pi the bus comes from host.Init() and i2creg.Open("1"); here a
	// recorded session of a Sense HAT lying flat stands in for it.
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x6A, W: []byte{0x0F}, R: []byte{0x68}}, // WHO_AM_I
		{Addr: 0x6A, W: []byte{0x22, 0x05}},            // software reset
		{Addr: 0x6A, W: []byte{0x22, 0x44}},            // BDU, auto-increment
		{Addr: 0x6A, W: []byte{0x1E, 0x38}},            // gyro X, Y, Z on
		{Addr: 0x6A, W: []byte{0x1F, 0x38}},            // accel X, Y, Z on
		{Addr: 0x6A, W: []byte{0x20, 0x90}},            // accel 238 Hz, ±4 g
		{Addr: 0x6A, W: []byte{0x10, 0x88}},            // gyro 238 Hz, ±500 °/s
		// One burst from OUT_TEMP_L to OUT_Z_H_XL: temp 88 (30.5 °C), gyro
		// 57, 0, -29, accel 0, 0, 8197 (1 g), control registers in between.
		{Addr: 0x6A, W: []byte{0x15}, R: []byte{
			88, 0, 0x07,
			57, 0, 0, 0, 0xE3, 0xFF,
			0x38, 0x38, 0x90, 0x00, 0x44, 0x00, 0x00, 0x00, 0x00, 0x07,
			0, 0, 0, 0, 0x05, 0x20,
		}},
	}}
	d, err := lsm9ds1.New(bus, 0x6A, &lsm9ds1.Opts{RateHz: 200})
	if err != nil {
		log.Fatal(err)
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(d, "at", d.ODR())
	fmt.Printf("accel %.3f m/s²\n", s.Accel)
	fmt.Printf("gyro  %.4f rad/s\n", s.Gyro)
	fmt.Printf("temp  %.1f °C\n", s.TempC)
	if err := bus.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// lsm9ds1@0x6a at 238 Hz
	// accel [0.000 0.000 9.807] m/s²
	// gyro  [0.0174 0.0000 -0.0089] rad/s
	// temp  30.5 °C
}
