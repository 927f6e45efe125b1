package baro_test

import (
	"fmt"
	"log"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/sensor/baro"
)

func Example() {
	// On a Pi the bus comes from host.Init() and i2creg.Open("1"), shared
	// with the IMU; here a recorded BMP280 session stands in for it.
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x76, W: []byte{0xD0}, R: []byte{0x58}}, // chip id: BMP280
		{Addr: 0x76, W: []byte{0x88}, R: []byte{0x10, 0x6e, 0x6c, 0x66, 0x32, 0x0, 0x5d, 0x95, 0xb8, 0xd5, 0xd0, 0xb, 0x77, 0x1e, 0x9d, 0xff, 0xf9, 0xff, 0xac, 0x26, 0xa, 0xd8, 0xbd, 0x10, 0x0, 0x4b}},
		{Addr: 0x76, W: []byte{0xF4, 0x6C, 0xF5, 0xA0, 0xF4, 0x6C}},
		{Addr: 0x76, W: []byte{0xF4, 0x6D}},         // one conversion
		{Addr: 0x76, W: []byte{0xF3}, R: []byte{0}}, // done
		{Addr: 0x76, W: []byte{0xF7}, R: []byte{0x4a, 0x52, 0xc0, 0x80, 0x96, 0xc0}},
	}, DontPanic: true}
	b, err := baro.New(bus, 0x76, &baro.Opts{RateHz: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Halt()
	// The IMU's tick calls Pressure: an atomic load, never the bus.
	for {
		if pa, ok := b.Pressure(); ok {
			fmt.Printf("%s: %.1f hPa\n", b, pa/100)
			break
		}
		time.Sleep(time.Millisecond)
	}
	// Output:
	// bmp280@0x76: 1009.4 hPa
}
