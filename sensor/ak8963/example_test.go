package ak8963_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/ak8963"
)

func Example() {
	// On a Pi the bus comes from host.Init() and i2creg.Open("1"); here a
	// recorded session of an MPU-9250 at 0x68 lying flat stands in for it.
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x68, W: []byte{0x6A, 0x00}},            // MPU: I²C master off
		{Addr: 0x68, W: []byte{0x37, 0x02}},            // MPU: bypass on
		{Addr: 0x0C, W: []byte{0x00}, R: []byte{0x48}}, // WIA
		{Addr: 0x0C, W: []byte{0x0B, 0x01}},            // soft reset
		{Addr: 0x0C, W: []byte{0x0A, 0x0F}},            // fuse ROM access
		{Addr: 0x0C, W: []byte{0x10}, R: []byte{177, 178, 166}},
		{Addr: 0x0C, W: []byte{0x0A, 0x00}}, // power down
		{Addr: 0x0C, W: []byte{0x0A, 0x16}}, // continuous 100 Hz, 16 bits
		// ST1 (data ready), HX, HY, HZ little-endian, ST2.
		{Addr: 0x0C, W: []byte{0x02}, R: []byte{0x01, 0x2c, 0x01, 0x64, 0x00, 0xd4, 0xfe, 0x10}},
	}}
	d, err := ak8963.New(bus, &ak8963.Opts{Bypass: 0x68})
	if err != nil {
		log.Fatal(err)
	}
	var s sensor.Sample
	if err := d.ReadMag(&s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(d, "ASA", d.ASA())
	fmt.Printf("field %.2f µT (MPU axes), fresh %v\n", s.Mag, s.Status&sensor.StatusMag != 0)
	if err := bus.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// ak8963@0x0c ASA [177 178 166]
	// field [17.93 53.61 51.68] µT (MPU axes), fresh true
}
