package stream

import (
	"testing"
	"time"

	"github.com/imustream/imustream/sensor/sim"
)

// TestPruneGap: refused sends further apart than PruneGap never add up to
// a run long enough to prune (a receiver that was away for a moment keeps
// its stream), while refusals closer together prune once they have gone on
// for PruneAfter.
func TestPruneGap(t *testing.T) {
	const pruneAfter = 8 * time.Second
	good := newReceiver(t)
	dead := closedPort(t)
	subs := NewSubscribers()
	mustStart(t, subs, good.addr(), 0)
	mustStart(t, subs, dead, 0)
	deadSub := live(subs, dead)[0]
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, PruneAfter: pruneAfter})

	// Ticks 6 s apart on the sender's clock: each send is refused (the
	// ICMP error of the one before) and sent again, so refusals come 6 s
	// apart, more than PruneGap.
	const apart = 6 * time.Second
	deadline := start
	ticks := 0
	for ; ticks < 40; ticks++ {
		s.tick(deadline, deadline)
		deadline += int64(apart)
		if d := good.nextSamples(); d.Seq != uint32(ticks) {
			t.Fatalf("good subscriber: seq %d, want %d", d.Seq, ticks)
		}
	}
	refused := deadSub.SendErrors.Load()
	if len(live(subs, dead)) != 1 {
		t.Fatalf("pruned after %d refused sends %v apart (PruneGap %v)", refused, apart, PruneGap)
	}
	if refused < 10 {
		t.Fatalf("only %d refused sends in %d ticks: the port is not refusing", refused, ticks)
	}
	// After another gap, at 200 Hz: the run starts afresh and prunes
	// after PruneAfter.
	deadline += int64(apart)
	from := deadline
	for i := 0; i < 10_000 && len(live(subs, dead)) > 0; i++ {
		deadline = s.tick(deadline, deadline)
	}
	if len(live(subs, dead)) != 0 {
		t.Fatal("not pruned once refusals came close together")
	}
	if span := time.Duration(deadline - from); span < pruneAfter || span > pruneAfter+time.Second {
		t.Errorf("pruned after %v of close refusals, want %v", span, pruneAfter)
	}
	if st := s.Stats(); st.Pruned != 1 {
		t.Errorf("Pruned %d, want 1", st.Pruned)
	}
}
