package daemon_test

import (
	"math"
	"testing"
	"time"

	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/telemetry"
)

// The daemon with a FIFO sensor (the simulator's FIFO mode at 1 kHz, a
// clock 50 ppm fast) streams every sample, in order, with the sensor's
// spacing, whatever the test machine's load does to the ticks; the status
// reports the FIFO's overflows.
func TestFIFOStreamEndToEnd(t *testing.T) {
	d := startDaemon(t, daemonOpts{rate: 1000, sensor: sim.New(sim.Opts{Seed: 3, FIFORateHz: 1000, ClockPPM: 50})})
	pc := newPeer(t, d, "127.0.0.1")
	var s received
	var monos []int64
	var batched bool
	onData := func(dg *telemetry.Datagram) {
		s.add(dg)
		if dg.Type != telemetry.TypeSamples {
			return
		}
		batched = batched || dg.Count > 1
		if dg.RateHz != 1000 {
			t.Errorf("rate_hz %d, want 1000", dg.RateHz)
		}
		for _, smp := range dg.Samples {
			monos = append(monos, smp.MonoNs)
			if smp.Status&0x0204 != 0 { // skipped, FIFO overflow
				t.Errorf("seq %d: flags %#x", dg.Seq, smp.Status)
			}
		}
	}
	pc.send("id=1 start\n")
	if r := pc.reply("1", onData); !r.OK {
		t.Fatalf("start reply %+v", r)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(monos) < 1000 {
		pk, ok := pc.next(time.Until(deadline))
		if !ok {
			t.Fatalf("got %d of 1000 samples before the deadline", len(monos))
		}
		if pk.dg != nil {
			onData(pk.dg)
		}
	}
	st := pc.do("id=2 status\n", "2")
	if v, _ := st.Get("fifo_overflows"); v != "0" {
		t.Errorf("fifo_overflows %q, want 0", v)
	}
	contiguous(t, s.seqs)
	if !batched {
		t.Error("no datagram carried more than one sample: the FIFO's reads are not batched")
	}
	// The sim's clock: 1 ms less 50 ppm, to within the reconstruction's
	// slew, which in this first second, while the rate is being learned,
	// is up to 20 µs a sample (package sensor/fifo).
	for i := 1; i < len(monos); i++ {
		if step := float64(monos[i] - monos[i-1]); math.Abs(step-1e6/(1+50e-6)) > 21e3 {
			t.Fatalf("sample %d: %v ns after the one before", i, step)
		}
	}
}
