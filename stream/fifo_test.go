package stream

import (
	"math"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/telemetry"
)

// A FIFO sensor at 1 kHz read at 200 Hz: each tick sends the five or so
// samples the chip took, with the chip's times; a 20 ms stall sends the
// 25 it held, none lost, none flagged skipped.
func TestFIFOTick(t *testing.T) {
	rx := newReceiver(t)
	subs := NewSubscribers()
	mustStart(t, subs, rx.addr(), 0)
	d := sim.New(sim.Opts{Seed: 5, FIFORateHz: 1000, ClockPPM: 50})
	s := newTestSender(t, Config{Sensor: d, Subs: subs, RateHz: 1000})
	if on, tick := s.FIFO(); !on || tick != 5e6 {
		t.Fatalf("FIFO() = %v, %v; want true, 5ms", on, tick)
	}
	p := s.Period()
	deadline := start
	const ticks, stallAt = 400, 200
	for i := range ticks {
		now := deadline
		if i == stallAt {
			now += 20e6
		}
		deadline = s.tick(deadline, now)
	}
	st := s.Stats()
	if st.Skipped != 0 || st.Late != 1 || st.MaxLateNs != 20e6 {
		t.Errorf("Skipped %d Late %d MaxLateNs %d; want 0, 1, 20 ms", st.Skipped, st.Late, st.MaxLateNs)
	}
	var seq uint32
	var last int64
	var biggest uint8
	for seq < st.NextSeq {
		dg := rx.nextSamples()
		if dg.Seq != seq || dg.RateHz != 1000 {
			t.Fatalf("datagram seq %d rate %d, want seq %d rate 1000", dg.Seq, dg.RateHz, seq)
		}
		biggest = max(biggest, dg.Count)
		for i, smp := range dg.Samples {
			if smp.Status&(sensor.StatusSkipped|sensor.StatusFIFOOverflow|sensor.StatusSensorError) != 0 {
				t.Errorf("sample %d: flags %#x", seq+uint32(i), smp.Status)
			}
			if late := smp.Status&sensor.StatusLate != 0; late != (smp.LateNs == 20e6) {
				t.Errorf("sample %d: late flag %v with late_ns %d", seq+uint32(i), late, smp.LateNs)
			}
			if last != 0 && math.Abs(float64(smp.MonoNs-last)-1e6) > 5e3 {
				t.Errorf("sample %d: %d ns after the one before, want 1 ms ± 5 µs", seq+uint32(i), smp.MonoNs-last)
			}
			last = smp.MonoNs
		}
		seq += uint32(dg.Count)
	}
	rx.expectQuiet()
	// Every sample the sim took up to the last read went out.
	if got, want := int64(st.NextSeq), d.NextSample(); got != want || d.FIFOLost() != 0 {
		t.Errorf("sent %d samples, the sim handed out %d and lost %d", got, want, d.FIFOLost())
	}
	if wantMin := int64(ticks-4) * p / 1e6; int64(st.NextSeq) < wantMin {
		t.Errorf("sent %d samples in %d ticks of 5 ms, want about %d", st.NextSeq, ticks, wantMin)
	}
	if biggest < 20 || biggest > telemetry.MaxBatch {
		t.Errorf("largest datagram %d samples; after a 20 ms stall want 20..%d", biggest, telemetry.MaxBatch)
	}
}

func TestFIFOTickAllocs(t *testing.T) {
	subs := NewSubscribers()
	mustStart(t, subs, newReceiver(t).addr(), 0)
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{FIFORateHz: 1000}), Subs: subs, RateHz: 1000})
	p := s.Period()
	deadline := start
	allocs := testing.AllocsPerRun(1000, func() {
		deadline = s.tick(deadline, deadline+p/3)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per FIFO tick, want 0", allocs)
	}
	if st := s.Stats(); st.SendErrors != 0 || st.Datagrams == 0 {
		t.Errorf("SendErrors %d, Datagrams %d: the ticks did not send", st.SendErrors, st.Datagrams)
	}
}

// BenchmarkFIFOTick is one 200 Hz tick of a 1 kHz FIFO sensor: the sim's
// batch of five, encoded and sent to one loopback subscriber.
func BenchmarkFIFOTick(b *testing.B) {
	subs := NewSubscribers()
	mustStart(b, subs, newReceiver(b).addr(), 0)
	s := newTestSender(b, Config{Sensor: sim.New(sim.Opts{FIFORateHz: 1000}), Subs: subs, RateHz: 1000})
	deadline := start
	b.ReportAllocs()
	for b.Loop() {
		deadline = s.tick(deadline, deadline+1000)
	}
}

// A session gets the samples taken after it started: what the FIFO kept
// while no one listened (and its overflow) is not sent.
func TestFIFOSessionStart(t *testing.T) {
	rx := newReceiver(t)
	subs := NewSubscribers()
	d := sim.New(sim.Opts{Seed: 5, FIFORateHz: 1000, FIFOSamples: 64})
	s := newTestSender(t, Config{Sensor: d, Subs: subs, RateHz: 1000})
	// The chip starts sampling at a read with no session, then 200 ms
	// pass: the FIFO overflows.
	var buf [1]sensor.Sample
	buf[0].MonoNs = start
	if _, err := d.ReadBatch(buf[:]); err != nil {
		t.Fatal(err)
	}
	mustStart(t, subs, rx.addr(), 0)
	s.session = 42
	from := start + 200e6
	deadline := from
	for range 3 {
		deadline = s.tick(deadline, deadline)
	}
	for seq := uint32(0); seq < s.Stats().NextSeq; {
		dg := rx.nextSamples()
		for _, smp := range dg.Samples {
			if smp.MonoNs < from || smp.Status&sensor.StatusFIFOOverflow != 0 {
				t.Errorf("sample at %d (session from %d), flags %#x", smp.MonoNs, from, smp.Status)
			}
		}
		seq += uint32(dg.Count)
	}
	if n := s.Stats().NextSeq; n < 8 || n > 11 {
		t.Errorf("%d samples in 10 ms of session, want about 10", n)
	}
}
