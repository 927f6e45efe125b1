package icm20948_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/icm20948"
)

func Example() {
	// A recorded session of an ICM-20948 board lying flat, without its
	// magnetometer (NoMag): every configuration write names its bank.
	bank := func(b byte) i2ctest.IO { return i2ctest.IO{Addr: 0x69, W: []byte{0x7F, b << 4}} }
	wr := func(reg, val byte) i2ctest.IO { return i2ctest.IO{Addr: 0x69, W: []byte{reg, val}} }
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		bank(0), {Addr: 0x69, W: []byte{0x00}, R: []byte{0xEA}}, // WHO_AM_I
		wr(0x06, 0x80),          // reset
		bank(0), wr(0x06, 0x01), // wake, best clock
		bank(0), wr(0x07, 0x00), // all axes on
		bank(0), wr(0x03, 0x00), // USER_CTRL
		bank(2), wr(0x00, 4), // gyro 1125/5 = 225 Hz
		bank(2), wr(0x01, 0x1B), // gyro 51.2 Hz filter, ±500 °/s
		bank(2), wr(0x10, 0), // accel divider, high
		bank(2), wr(0x11, 4), // accel divider, low: 225 Hz
		bank(2), wr(0x14, 0x13), // accel 111.4 Hz filter, ±4 g
		bank(2), wr(0x09, 1), // ODR_ALIGN_EN
		bank(0),
		// Accel 0, 0, 8192 (1 g); gyro 65, 0, -33; temp 3339 (31 °C).
		{Addr: 0x69, W: []byte{0x2D}, R: []byte{0, 0, 0, 0, 0x20, 0, 0, 65, 0, 0, 0xFF, 0xDF, 0x0D, 0x0B}},
	}}
	d, err := icm20948.New(bus, 0x69, &icm20948.Opts{NoMag: true})
	if err != nil {
		log.Fatal(err)
	}
	var s sensor.Sample
	if err := d.Read(&s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(d, d.ODRHz(), "Hz")
	fmt.Printf("accel %.3f m/s²\n", s.Accel)
	fmt.Printf("gyro  %.4f rad/s\n", s.Gyro)
	fmt.Printf("temp  %.1f °C\n", s.TempC)
	// Output:
	// icm20948@0x69 225 Hz
	// accel [0.000 0.000 9.807] m/s²
	// gyro  [0.0173 0.0000 -0.0088] rad/s
	// temp  31.0 °C
}
