package stream

import (
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/fusion"
	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/telemetry"
)

// A simulator with a magnetometer through a 9-axis fusion stage: the
// records are 84 bytes and carry the field and the orientation.
func TestTickMagQuat(t *testing.T) {
	subs := NewSubscribers()
	rx := newReceiver(t)
	mustStart(t, subs, rx.addr(), 0)
	st, err := fusion.New(sim.New(sim.Opts{Seed: 1, Mag: true}), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSender(t, Config{Sensor: st, Subs: subs, Batch: 2, MagQuat: true})
	s.session = 1
	deadline := start
	for range 2 {
		deadline = s.tick(deadline, deadline)
	}
	d := rx.nextSamples()
	if d.SampleLen != telemetry.SampleLenMagQuat || len(d.Samples) != 2 {
		t.Fatalf("%+v, want 2 records of %d bytes", d.Header, telemetry.SampleLenMagQuat)
	}
	for i, smp := range d.Samples {
		const want = sensor.StatusMag | sensor.StatusOrientation
		if smp.Status&want != want || smp.Mag == ([3]float32{}) || smp.Quat[0] <= 0 {
			t.Errorf("sample %d: status %#x mag %v quat %v", i, smp.Status, smp.Mag, smp.Quat)
		}
	}
}

func TestNewSenderMagQuatBatch(t *testing.T) {
	cfg := Config{Sensor: sim.New(sim.Opts{}), Subs: NewSubscribers(), MagQuat: true, Batch: telemetry.MaxBatchMagQuat + 1}
	if _, err := NewSender(cfg); err == nil {
		t.Errorf("batch %d with field and orientation accepted", cfg.Batch)
	}
	cfg.Batch = telemetry.MaxBatchMagQuat
	newTestSender(t, cfg)
}

// The tick with fusion stays without allocation.
func TestTickMagQuatAllocs(t *testing.T) {
	subs := NewSubscribers()
	mustStart(t, subs, newReceiver(t).addr(), 0)
	st, _ := fusion.New(sim.New(sim.Opts{Mag: true}), nil)
	s := newTestSender(t, Config{Sensor: st, Subs: subs, Batch: telemetry.MaxBatchMagQuat, MagQuat: true})
	deadline := start
	if n := testing.AllocsPerRun(1000, func() { deadline = s.tick(deadline, deadline) }); n != 0 {
		t.Errorf("%v allocations per tick, want 0", n)
	}
}

// BenchmarkTickFusion is one tick of a 9-axis fused simulator, one
// subscriber, one sample per datagram.
func BenchmarkTickFusion(b *testing.B) {
	subs := NewSubscribers()
	mustStart(b, subs, newReceiver(b).addr(), 0)
	st, _ := fusion.New(sim.New(sim.Opts{Mag: true}), nil)
	s := newTestSender(b, Config{Sensor: st, Subs: subs, MagQuat: true})
	deadline := start
	b.ReportAllocs()
	for b.Loop() {
		deadline = s.tick(deadline, deadline)
	}
}
