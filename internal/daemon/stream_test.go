package daemon

import (
	"strconv"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/baro"
	"github.com/imustream/imustream/sensor/calib"
	"github.com/imustream/imustream/sensor/detect"
	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/stream"
)

// newBaro opens a BMP280 on a playback bus that answers its probe and
// configuration and nothing after: every background read then fails.
func newBaro(t *testing.T) *baro.Dev {
	t.Helper()
	bus := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
		{Addr: 0x76, W: []byte{0xD0}, R: []byte{0x58}},
		{Addr: 0x76, W: []byte{0x88}, R: []byte{0x10, 0x6e, 0x6c, 0x66, 0x32, 0x0, 0x5d, 0x95, 0xb8, 0xd5, 0xd0, 0xb, 0x77, 0x1e, 0x9d, 0xff, 0xf9, 0xff, 0xac, 0x26, 0xa, 0xd8, 0xbd, 0x10, 0x0, 0x4b}},
		{Addr: 0x76, W: []byte{0xF4, 0x6C, 0xF5, 0xA0, 0xF4, 0x6C}},
	}}
	b, err := baro.New(bus, 0x76, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Halt() })
	return b
}

// The sender sends 56-byte records exactly when the sensor, under its
// calibration, has a barometer.
func TestHasPressure(t *testing.T) {
	b := newBaro(t)
	withBaro := &detect.Device{Sensor: sim.New(sim.Opts{Seed: 1}), Baro: b}
	without := &detect.Device{Sensor: sim.New(sim.Opts{Seed: 1})}
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
		{"sim", HasPressure(sim.New(sim.Opts{Seed: 1})), false},
		{"device without barometer", HasPressure(without), false},
		{"device with barometer", HasPressure(withBaro), true},
		{"calibrated device with barometer", HasPressure(calibrated), true},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: hasPressure = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

// counted is a sensor that keeps driver counters, as the chip drivers do.
type counted struct {
	sensor.Sensor
	st sensor.Stats
}

func (c *counted) Stats() sensor.Stats { return c.st }

// The status reply carries the sensor's re-initialisations, also through a
// calibration, and the barometer's counters when there is one.
func TestStatusSensorCounters(t *testing.T) {
	fields := func(sens sensor.Sensor) map[string]string {
		subs := stream.NewSubscribers()
		sender, err := stream.NewSender(stream.Config{Sensor: sens, Subs: subs})
		if err != nil {
			t.Fatal(err)
		}
		sc := &streamControl{subs: subs, sender: sender, clock: rt.MonoClock{}, sensor: sens}
		m := map[string]string{}
		for _, f := range sc.status() {
			if _, dup := m[f.Key]; dup {
				t.Errorf("field %s twice", f.Key)
			}
			m[f.Key] = f.Value
		}
		return m
	}
	plain := fields(sim.New(sim.Opts{Seed: 1}))
	if plain["sensor_reinits"] != "0" {
		t.Errorf("sim: sensor_reinits %q, want 0", plain["sensor_reinits"])
	}
	if _, ok := plain["baro_errors"]; ok {
		t.Error("sim: baro_errors without a barometer")
	}
	imu := &counted{Sensor: sim.New(sim.Opts{Seed: 1}), st: sensor.Stats{Reads: 10, Errors: 4, Reinits: 3}}
	cal, err := calib.Apply(&detect.Device{Sensor: imu}, calib.Calibration{})
	if err != nil {
		t.Fatal(err)
	}
	if got := fields(cal)["sensor_reinits"]; got != "3" {
		t.Errorf("calibrated device: sensor_reinits %q, want 3", got)
	}

	b := newBaro(t)
	// The playback has no reads left: every barometer read fails.
	deadline := time.Now().Add(10 * time.Second)
	for b.Stats().Errors == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	m := fields(&detect.Device{Sensor: imu, Baro: b})
	n, err := strconv.ParseUint(m["baro_errors"], 10, 64)
	if err != nil || n == 0 {
		t.Errorf("baro_errors %q, want a count > 0", m["baro_errors"])
	}
	if _, ok := m["baro_reads"]; !ok {
		t.Error("no baro_reads with a barometer")
	}
}
