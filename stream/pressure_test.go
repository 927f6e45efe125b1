package stream

import (
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// baroSensor has a fresh pressure on every other read, as when the
// barometer goes stale and comes back.
type baroSensor struct{ reads int }

func (b *baroSensor) Read(s *sensor.Sample) error {
	b.reads++
	s.Accel[0] = float32(b.reads)
	if b.reads%2 == 1 {
		s.PressurePa = 100000 + float32(b.reads)
		s.Status |= sensor.StatusPressure
	}
	return nil
}
func (b *baroSensor) String() string { return "baro" }
func (b *baroSensor) Halt() error    { return nil }

func TestTickPressure(t *testing.T) {
	for _, tc := range []struct {
		pressure bool
		wantLen  uint8
	}{{true, telemetry.SampleLenPressure}, {false, telemetry.SampleLen}} {
		subs := NewSubscribers()
		rx := newReceiver(t)
		mustStart(t, subs, rx.addr(), 0)
		s := newTestSender(t, Config{Sensor: &baroSensor{}, Subs: subs, Batch: 2, Pressure: tc.pressure})
		s.session = 1
		deadline := start
		for range 4 {
			deadline = s.tick(deadline, deadline)
		}
		for dg := range 2 {
			d := rx.nextSamples()
			if d.SampleLen != tc.wantLen || len(d.Samples) != 2 {
				t.Fatalf("pressure %v: datagram %d: %+v, want sample_len %d", tc.pressure, dg, d.Header, tc.wantLen)
			}
			for i, smp := range d.Samples {
				read := 2*dg + i + 1
				fresh := read%2 == 1
				// The flag travels in both layouts; the value only in 56-byte records.
				if got := smp.Status&sensor.StatusPressure != 0; got != fresh {
					t.Errorf("pressure %v: read %d: flag %v, want %v", tc.pressure, read, got, fresh)
				}
				want := float32(0)
				if fresh && tc.pressure {
					want = 100000 + float32(read)
				}
				if smp.PressurePa != want || smp.Accel[0] != float32(read) {
					t.Errorf("pressure %v: read %d: %v Pa, accel x %v; want %v Pa", tc.pressure, read, smp.PressurePa, smp.Accel[0], want)
				}
			}
		}
	}
}

func TestNewSenderPressureBatch(t *testing.T) {
	cfg := Config{Sensor: &baroSensor{}, Subs: NewSubscribers(), Pressure: true, Batch: telemetry.MaxBatchPressure + 1}
	if _, err := NewSender(cfg); err == nil {
		t.Errorf("batch %d with pressure accepted", cfg.Batch)
	}
	cfg.Batch = telemetry.MaxBatchPressure
	newTestSender(t, cfg)
}

func TestTickPressureAllocs(t *testing.T) {
	subs := NewSubscribers()
	mustStart(t, subs, newReceiver(t).addr(), 0)
	s := newTestSender(t, Config{Sensor: &baroSensor{}, Subs: subs, Batch: telemetry.MaxBatchPressure, Pressure: true})
	deadline := start
	if n := testing.AllocsPerRun(1000, func() { deadline = s.tick(deadline, deadline) }); n != 0 {
		t.Errorf("%v allocations per tick, want 0", n)
	}
}
