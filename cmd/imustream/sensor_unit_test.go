package main

import (
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/sensor/baro"
	"github.com/imustream/imustream/sensor/calib"
	"github.com/imustream/imustream/sensor/detect"
)

// The sender sends 56-byte records exactly when the sensor, under its
// calibration, has a barometer.
func TestHasPressure(t *testing.T) {
	bus := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
		{Addr: 0x76, W: []byte{0xD0}, R: []byte{0x58}},
		{Addr: 0x76, W: []byte{0x88}, R: []byte{0x10, 0x6e, 0x6c, 0x66, 0x32, 0x0, 0x5d, 0x95, 0xb8, 0xd5, 0xd0, 0xb, 0x77, 0x1e, 0x9d, 0xff, 0xf9, 0xff, 0xac, 0x26, 0xa, 0xd8, 0xbd, 0x10, 0x0, 0x4b}},
		{Addr: 0x76, W: []byte{0xF4, 0x6C, 0xF5, 0xA0, 0xF4, 0x6C}},
	}}
	b, err := baro.New(bus, 0x76, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Halt()
	withBaro := &detect.Device{Sensor: newSim(1, false), Baro: b}
	without := &detect.Device{Sensor: newSim(1, false)}
	mount, err := calib.ParseMounting("x=-y,y=x,z=z")
	if err != nil {
		t.Fatal(err)
	}
	calibrated, err := calib.Apply(withBaro, calib.Calibration{Mounting: mount})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"sim", hasPressure(newSim(1, false)), false},
		{"device without barometer", hasPressure(without), false},
		{"device with barometer", hasPressure(withBaro), true},
		{"calibrated device with barometer", hasPressure(calibrated), true},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: hasPressure = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
