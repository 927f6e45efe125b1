package mpu6050_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/mpu6050"
)

func Example() {
	// On a Pi the bus comes from host.Init() and i2creg.Open("1"); here a
	// recorded session of a GY-521 at rest stands in for it.
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x68, W: []byte{0x75}, R: []byte{0x68}}, // WHO_AM_I: MPU-6050
		{Addr: 0x68, W: []byte{0x6B, 0x80}},            // reset
		{Addr: 0x68, W: []byte{0x6B, 0x01}},            // wake, PLL clock
		{Addr: 0x68, W: []byte{0x6C, 0x00}},            // all axes on
		{Addr: 0x68, W: []byte{0x19, 0x04}},            // 1 kHz / 5 = 200 Hz
		{Addr: 0x68, W: []byte{0x1A, 0x02}},            // DLPF 92 Hz
		{Addr: 0x68, W: []byte{0x1B, 0x08}},            // ±500 °/s
		{Addr: 0x68, W: []byte{0x1C, 0x08}},            // ±4 g
		// One burst: accel 0, 0, 8192 (1 g); temp -1700; gyro 65, 0, -33.
		{Addr: 0x68, W: []byte{0x3B}, R: []byte{0, 0, 0, 0, 0x20, 0x00, 0xF9, 0x5C, 0, 65, 0, 0, 0xFF, 0xDF}},
	}}
	d, err := mpu6050.New(bus, 0x68, &mpu6050.Opts{RateHz: 200})
	if err != nil {
		log.Fatal(err)
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(d)
	fmt.Printf("accel %.3f m/s²\n", s.Accel)
	fmt.Printf("gyro  %.4f rad/s\n", s.Gyro)
	fmt.Printf("temp  %.1f °C\n", s.TempC)
	if err := bus.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// mpu6050@0x68
	// accel [0.000 0.000 9.807] m/s²
	// gyro  [0.0173 0.0000 -0.0088] rad/s
	// temp  31.5 °C
}
