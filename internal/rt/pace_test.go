package rt

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/rt/rttest"
)

// TestPacerYields runs a sender thread's pacing at several rates on a
// clock that wakes exactly on time, with each tick's work taking workNs,
// and checks what the pacing is for: the thread never goes maxRun without
// yielding (the scheduler would preempt it at 10 ms), the yields inside a
// wait end at least yieldGuard before its deadline, and fast rates yield
// only every few ticks.
func TestPacerYields(t *testing.T) {
	const workNs = 30_000
	for _, tc := range []struct {
		rateHz        int
		maxYieldsTick float64 // yields per tick, at most
	}{
		{1, 126}, {7, 18}, {100, 2}, {125, 1}, {200, 1}, {1000, 0.25}, {8000, 1.0 / 32},
	} {
		t.Run(fmt.Sprintf("%dHz", tc.rateHz), func(t *testing.T) {
			p := int64(time.Second) / int64(tc.rateHz)
			clk := &rttest.FakeClock{Mono: 1_000_000_000}
			var yields []int64
			pc := &Pacer{clock: clk, sleep: clk.SleepUntil, yield: func() { yields = append(yields, clk.Mono) }, real: true, turn: new(atomic.Bool)}
			ticks := int(3 * time.Second / time.Duration(p)) // 3 s of ticks
			ticks = max(ticks, 3)
			d := clk.Mono
			for range ticks {
				clk.Mono += workNs
				pc.AfterWork()
				before := len(yields)
				d += p
				woke := pc.SleepUntil(d)
				if woke != d {
					t.Fatalf("woke at %d, want the deadline %d", woke, d)
				}
				for _, y := range yields[before:] {
					if d-y < yieldGuard {
						t.Fatalf("a yield inside the wait at %d, %v before its deadline (want ≥ %v)", y, time.Duration(d-y), time.Duration(yieldGuard))
					}
				}
			}
			if len(yields) == 0 {
				t.Fatal("no yields")
			}
			for i := 1; i < len(yields); i++ {
				if gap := yields[i] - yields[i-1]; gap > maxRun+workNs {
					t.Fatalf("yields %d and %d are %v apart, want ≤ %v", i-1, i, time.Duration(gap), time.Duration(maxRun+workNs))
				}
			}
			if last := d - yields[len(yields)-1]; last > maxRun {
				t.Errorf("last yield %v before the last deadline, want ≤ %v", time.Duration(last), time.Duration(maxRun))
			}
			if per := float64(len(yields)) / float64(ticks); per > tc.maxYieldsTick {
				t.Errorf("%.3f yields per tick, want ≤ %.3f", per, tc.maxYieldsTick)
			}
		})
	}
}

// TestPacerNoSlicesForFakeClocks: a clock that does not really sleep gets
// no slices (they only matter in real time), so a test clock sees one
// SleepUntil per deadline.
func TestPacerNoSlicesForFakeClocks(t *testing.T) {
	if pc := NewPacers(MonoClock{}, 1)[0]; !pc.real {
		t.Error("MonoClock: no slices")
	}
	clk := &rttest.FakeClock{}
	pc := NewPacers(clk, 1)[0]
	if pc.real {
		t.Fatal("fakeClock: slices")
	}
	pc.SleepUntil(time.Second.Nanoseconds())
	if clk.Sleeps != 1 {
		t.Errorf("%d SleepUntil calls for one deadline a second away, want 1", clk.Sleeps)
	}
}

// TestPacersTakeTurns: while one thread of a schedule is yielding, another
// does not yield; a slice that finds the turn taken tries again before
// its deadline instead of giving up.
func TestPacersTakeTurns(t *testing.T) {
	clk := &rttest.FakeClock{Mono: 1_000_000_000}
	ps := NewPacers(clk, 2)
	a, b := ps[0], ps[1]
	var bYields []int64
	b.yield = func() { bYields = append(bYields, clk.Mono) }
	b.real = true
	a.yield = func() {
		// b's work ends while a is in the scheduler.
		b.AfterWork()
		if len(bYields) != 0 {
			t.Error("b yielded while a was yielding")
		}
	}
	clk.Mono += yieldGuard
	a.AfterWork()
	if a.yielded != clk.Mono {
		t.Fatalf("a did not yield (yielded %d, now %d)", a.yielded, clk.Mono)
	}
	// The turn is free again: b yields after its next work.
	b.AfterWork()
	if len(bYields) != 1 {
		t.Fatalf("b yields after a's turn: %d, want 1", len(bYields))
	}

	// A slice whose yield finds the turn taken retries yieldRetry later.
	b.yielded = clk.Mono
	deadline := clk.Mono + 2*maxRun // one slice, with room to retry
	a.turn.Store(true)
	held := 0
	var slept []int64
	b.sleep = func(d int64) int64 {
		slept = append(slept, d)
		if held++; held == 3 {
			a.turn.Store(false) // a's yield ends during b's second retry
		}
		return clk.SleepUntil(d)
	}
	b.SleepUntil(deadline)
	if len(bYields) != 2 {
		t.Fatalf("b yielded %d times in total, want 2", len(bYields))
	}
	if len(slept) < 3 || slept[1]-slept[0] != yieldRetry || slept[2]-slept[1] != yieldRetry {
		t.Errorf("sleeps %v: want the slice end, then retries %v apart", slept, time.Duration(yieldRetry))
	}
	if slept[len(slept)-1] != deadline {
		t.Errorf("last sleep to %d, want the deadline %d", slept[len(slept)-1], deadline)
	}
}

func TestPacerLead(t *testing.T) {
	real, fake := NewPacers(MonoClock{}, 1)[0], NewPacers(&rttest.FakeClock{}, 1)[0]
	for _, tc := range []struct {
		p    *Pacer
		prio int
		want int64
	}{
		{real, 50, 40_000},
		{real, 0, 0}, // normal priority: no spin
		{fake, 0, 40_000},
	} {
		if got := tc.p.Lead(ThreadSchedule{FIFOPrio: tc.prio}, 40*time.Microsecond, 1_000_000); got != tc.want {
			t.Errorf("real clock %v, FIFO %d: lead %d, want %d", tc.p.real, tc.prio, got, tc.want)
		}
	}
	// Capped at a tenth of the period.
	if got := real.Lead(ThreadSchedule{FIFOPrio: 50}, time.Second, 125_000); got != 12_500 {
		t.Errorf("8 kHz, spin 1 s: lead %d, want 12500", got)
	}
}
