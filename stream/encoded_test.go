package stream

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/imustream/imustream/rig"
	"github.com/imustream/imustream/sensor/sim"
)

func mustLayout(t testing.TB, spec string) *rig.Layout {
	t.Helper()
	l, err := rig.ParseLayout(spec)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// An encoded subscriber gets each sample alone in its layout, with its
// own counter from 0, beside a native one; no end marker follows a stop.
func TestEncodedSubscriber(t *testing.T) {
	for _, batch := range []int{1, 4} {
		subs := NewSubscribers()
		native, encoded := newReceiver(t), newReceiver(t)
		mustStart(t, subs, native.addr(), 0)
		l := mustLayout(t, "seq:u32,ax:f32,flags:u16")
		if _, _, err := subs.StartEncoded(encoded.addr(), 0, 0, 0, "rig", l); err != nil {
			t.Fatal(err)
		}
		imu := &countSensor{}
		s := newTestSender(t, Config{Sensor: imu, Subs: subs, Batch: batch})
		p := s.Period()
		d := start
		for range 3 * batch {
			d = s.tick(d, d)
		}
		for i := range 3 * batch {
			b := encoded.readRaw()
			if len(b) != l.Size {
				t.Fatalf("batch %d: datagram of %d bytes, want %d", batch, len(b), l.Size)
			}
			if seq := binary.LittleEndian.Uint32(b); seq != uint32(i) {
				t.Errorf("batch %d: sample %d has seq %d", batch, i, seq)
			}
			if ax := math.Float32frombits(binary.LittleEndian.Uint32(b[4:])); ax != float32(i+1) {
				t.Errorf("batch %d: sample %d has ax %v, want %d", batch, i, ax, i+1)
			}
		}
		for range 3 {
			native.nextSamples()
		}
		if err := subs.Stop(encoded.addr(), EndStopped); err != nil {
			t.Fatal(err)
		}
		for range batch {
			d = s.tick(d, d+p/10)
		}
		for range batch { // the last batch, sent before the stop took effect
			encoded.readRaw()
		}
		encoded.expectQuiet()
		native.nextSamples()
	}
}

func TestEncodedDecimation(t *testing.T) {
	subs := NewSubscribers()
	r := newReceiver(t)
	if _, _, err := subs.StartEncoded(r.addr(), 0, 0, 0, "", mustLayout(t, "seq:u16,every=3")); err != nil {
		t.Fatal(err)
	}
	s := newTestSender(t, Config{Sensor: &countSensor{}, Subs: subs})
	d := start
	for range 10 {
		d = s.tick(d, d)
	}
	for _, want := range []uint16{0, 3, 6, 9} {
		if got := binary.LittleEndian.Uint16(r.readRaw()); got != want {
			t.Errorf("seq %d, want %d", got, want)
		}
	}
	r.expectQuiet()
}

func TestEncodedOtherFormat(t *testing.T) {
	subs := NewSubscribers()
	r := newReceiver(t)
	l := mustLayout(t, "simulink")
	if _, _, err := subs.StartEncoded(r.addr(), time.Second, 0, 0, "", l); err != nil {
		t.Fatal(err)
	}
	if _, _, err := subs.Start(r.addr(), 0, 0, 0, nil, ""); !errors.Is(err, ErrOtherFormat) {
		t.Errorf("native start of a rig's target: %v, want ErrOtherFormat", err)
	}
	if _, created, err := subs.StartEncoded(r.addr(), time.Second, 0, 1, "", l); err != nil || created {
		t.Errorf("refresh: created %v, %v; want a refresh", created, err)
	}
	if _, _, err := subs.StartEncoded(r.addr(), 0, 0, 0, "", nil); err == nil {
		t.Error("StartEncoded without an encoder succeeded")
	}
}

func TestTickAllocsEncoded(t *testing.T) {
	subs := NewSubscribers()
	mustStart(t, subs, newReceiver(t).addr(), 0)
	if _, _, err := subs.StartEncoded(newReceiver(t).addr(), 0, 0, 0, "", mustLayout(t, "simulink")); err != nil {
		t.Fatal(err)
	}
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs})
	p := s.Period()
	deadline := start
	if allocs := testing.AllocsPerRun(1000, func() { deadline = s.tick(deadline, deadline+p/3) }); allocs != 0 {
		t.Errorf("%v allocations per tick with a rig subscriber, want 0", allocs)
	}
	if st := s.Stats(); st.SendErrors != 0 {
		t.Errorf("%d send errors", st.SendErrors)
	}
}

// BenchmarkTickRig is one tick with a native and a rig (simulink layout)
// subscriber.
func BenchmarkTickRig(b *testing.B) {
	subs := NewSubscribers()
	mustStart(b, subs, newReceiver(b).addr(), 0)
	if _, _, err := subs.StartEncoded(newReceiver(b).addr(), 0, 0, 0, "", mustLayout(b, "simulink")); err != nil {
		b.Fatal(err)
	}
	s := newTestSender(b, Config{Sensor: sim.New(sim.Opts{}), Subs: subs})
	p := s.Period()
	next := start
	b.ReportAllocs()
	for b.Loop() {
		next = s.tick(next, next+p/10)
	}
	b.StopTimer()
	if st := s.Stats(); st.SendErrors != 0 {
		b.Fatalf("%d send errors", st.SendErrors)
	}
}
