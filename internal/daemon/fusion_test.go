package daemon

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/fusion"
	"github.com/imustream/imustream/sensor/sim"
)

func TestOpenSensorFusion(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// 9-axis on the simulator turns its magnetometer on: 84-byte records.
	s, err := OpenSensor(SensorConfig{Sim: true, Seed: 1, Fusion: fusion.Opts{Mode: fusion.NineAxis}}, log)
	if err != nil {
		t.Fatal(err)
	}
	if !HasMagQuat(s) || !sensor.HasMag(s) || !sensor.HasOrientation(s) {
		t.Error("fused simulator: no field or orientation")
	}
	var x sensor.Sample
	x.MonoNs = 1
	if err := s.Read(&x); err != nil || x.Status&(sensor.StatusMag|sensor.StatusOrientation) != sensor.StatusMag|sensor.StatusOrientation {
		t.Errorf("%v %#x", err, x.Status)
	}
	// Off: the sensor as before, 52-byte records.
	s, err = OpenSensor(SensorConfig{Sim: true, Seed: 1}, log)
	if err != nil || HasMagQuat(s) {
		t.Errorf("without fusion: %v, mag/quat %v", err, HasMagQuat(s))
	}
	// 9-axis without a magnetometer is refused, 6-axis works.
	if _, err := withFusion(sim.New(sim.Opts{}), fusion.Opts{Mode: fusion.NineAxis}, log); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "--fusion 6") {
		t.Errorf("9-axis without a magnetometer: %v", err)
	}
	if s, err := withFusion(sim.New(sim.Opts{}), fusion.Opts{Mode: fusion.SixAxis}, log); err != nil || !HasMagQuat(s) || sensor.HasMag(s) {
		t.Errorf("6-axis: %v", err)
	}
	if _, err := withFusion(sim.New(sim.Opts{}), fusion.Opts{Mode: fusion.SixAxis, Gain: -1}, log); !errors.Is(err, ErrConfig) {
		t.Errorf("bad gain: %v", err)
	}
	// A chip that fuses on board keeps its own orientation.
	onBoard := fusedChip{sim.New(sim.Opts{})}
	if s, err := withFusion(onBoard, fusion.Opts{Mode: fusion.SixAxis}, log); err != nil || s != sensor.Sensor(onBoard) {
		t.Errorf("on-board fusion wrapped again: %v %T", err, s)
	}
}

type fusedChip struct{ *sim.Sim }

func (fusedChip) HasOrientation() bool { return true }
