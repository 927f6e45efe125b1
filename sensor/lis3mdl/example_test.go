package lis3mdl_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/lis3mdl"
)

func Example() {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x1E, W: []byte{0x0F}, R: []byte{0x3D}}, // WHO_AM_I
		{Addr: 0x1E, W: []byte{0x21, 0x04}},            // soft reset
		{Addr: 0x1E, W: []byte{0x21, 0x00}},            // ±4 gauss
		{Addr: 0x1E, W: []byte{0x20, 0x62}},            // X/Y UHP, 155 Hz
		{Addr: 0x1E, W: []byte{0x23, 0x0C}},            // Z UHP
		{Addr: 0x1E, W: []byte{0x24, 0x40}},            // BDU
		{Addr: 0x1E, W: []byte{0x22, 0x00}},            // continuous
		// STATUS (new X/Y/Z), then 1368, 0, -2737: 20, 0, -40 µT.
		{Addr: 0x1E, W: []byte{0xA7}, R: []byte{0x08, 0x58, 0x05, 0, 0, 0x4F, 0xF5}},
	}}
	m, err := lis3mdl.New(bus, 0x1E, nil)
	if err != nil {
		log.Fatal(err)
	}
	var s sensor.Sample
	if err := m.ReadMag(&s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m)
	fmt.Printf("mag %.1f µT\n", s.Mag)
	// Output:
	// lis3mdl@0x1e
	// mag [20.0 0.0 -40.0] µT
}
