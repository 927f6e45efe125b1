package rt

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/rt/rttest"
	"golang.org/x/sys/unix"
)

// interrupting returns a sleep for a Pacer on clk that is cut short at
// each of at (a signal arriving then) and otherwise ends on its deadline.
func interrupting(clk *rttest.FakeClock, at ...int64) func(int64) int64 {
	return func(d int64) int64 {
		for len(at) > 0 && at[0] <= clk.Mono {
			at = at[1:]
		}
		if len(at) > 0 && at[0] < d {
			clk.Mono, at = at[0], at[1:]
			return clk.Mono
		}
		return clk.SleepUntil(d)
	}
}

// TestPacerSleepsOnWhenInterrupted: a sleep cut short by a signal sleeps
// on to its deadline, and is counted.
func TestPacerSleepsOnWhenInterrupted(t *testing.T) {
	const d = 1_000_000_000 + 5_000_000
	for _, tc := range []struct {
		name string
		at   []int64
	}{
		{"no signal", nil},
		{"one", []int64{d - 3_000_000}},
		{"two", []int64{d - 4_000_000, d - 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &rttest.FakeClock{Mono: 1_000_000_000}
			pc := &Pacer{clock: clk, sleep: interrupting(clk, tc.at...), real: true}
			if woke := pc.SleepUntil(d); woke != d {
				t.Fatalf("woke at %d, want the deadline %d", woke, d)
			}
			if n := pc.Interrupted.Load(); n != uint64(len(tc.at)) {
				t.Errorf("Interrupted %d, want %d", n, len(tc.at))
			}
		})
	}
}

// TestPacerFakeClock: a clock that does not really sleep gets one
// SleepUntil per deadline.
func TestPacerFakeClock(t *testing.T) {
	if pc := NewPacers(MonoClock{}, 1)[0]; !pc.real {
		t.Error("MonoClock: not real")
	}
	clk := &rttest.FakeClock{}
	pc := NewPacers(clk, 1)[0]
	if pc.real {
		t.Fatal("FakeClock: real")
	}
	pc.SleepUntil(time.Second.Nanoseconds())
	if clk.Sleeps != 1 {
		t.Errorf("%d SleepUntil calls for one deadline, want 1", clk.Sleeps)
	}
}

// TestPacerUnderTheRuntime runs a real sender thread's sleeps, 5 ms each
// for 300 ms, locked to its thread as the sender's are. What the Pacer
// relies on: the runtime asks the thread to yield every 10 to 20 ms with
// a signal that cuts the sleep short, and each sleep still ends at or
// after its deadline.
func TestPacerUnderTheRuntime(t *testing.T) {
	if os.Getenv("QEMU_CPU") != "" {
		t.Skip("under qemu-user (make test-arm sets QEMU_CPU) signals reach sleeping threads differently; TestPacerUnderTheRuntime not run")
	}
	type result struct {
		interrupted, sleeps uint64
		early               int64
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		pc := NewPacers(MonoClock{}, 1)[0]
		d := MonoClock{}.Now()
		var r result
		for range 60 {
			d += 5_000_000
			if woke := pc.SleepUntil(d); woke < d {
				r.early = max(r.early, d-woke)
			}
			r.sleeps++
		}
		r.interrupted = pc.Interrupted.Load()
		done <- r
	}()
	r := <-done
	if r.early > 0 {
		t.Errorf("a sleep ended %d ns before its deadline", r.early)
	}
	if r.interrupted == 0 {
		t.Errorf("none of %d sleeps of 5 ms was interrupted: the runtime no longer signals a goroutine it has seen running for 10 ms", r.sleeps)
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

// TestPacerHoldUnderTheRuntime runs a held sender thread's sleeps, 5 ms
// each for 300 ms, as TestPacerUnderTheRuntime does: the runtime's
// requests to yield then neither cut a sleep short nor make the thread
// block outside its sleeps (each such yield blocks it twice). A collection
// of the garbage collector, which must stop the thread, still completes.
func TestPacerHoldUnderTheRuntime(t *testing.T) {
	if os.Getenv("QEMU_CPU") != "" {
		t.Skip("under qemu-user (make test-arm sets QEMU_CPU) signals reach sleeping threads differently; TestPacerHoldUnderTheRuntime not run")
	}
	type result struct {
		interrupted, sleeps, switches, yielded uint64
		early                                  int64
		blocked, released                      bool
		err                                    error
	}
	done := make(chan result)
	gcs := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		pc := NewPacers(MonoClock{}, 1)[0]
		var r result
		// A period of holdPeriod or more: nothing to save, not held.
		if err := pc.Hold(holdPeriod); err != nil || urgBlocked(t) || pc.held {
			t.Errorf("Hold(%d): err %v, SIGURG blocked %v, held %v: want nothing done", holdPeriod, err, urgBlocked(t), pc.held)
		}
		if r.err = pc.Hold(5_000_000); r.err != nil {
			done <- r
			return
		}
		r.blocked = urgBlocked(t)
		sw0 := voluntarySwitches(t)
		d := MonoClock{}.Now()
		for range 60 {
			d += 5_000_000
			if woke := pc.SleepUntil(d); woke < d {
				r.early = max(r.early, d-woke)
			}
			r.sleeps++
		}
		r.switches = voluntarySwitches(t) - sw0
		r.interrupted = pc.Interrupted.Load()
		// Go on sleeping, held, while the collector runs.
		for {
			select {
			case <-gcs:
				pc.Release()
				r.released = !urgBlocked(t)
				r.yielded = pc.Yielded.Load()
				done <- r
				return
			default:
			}
			d += 5_000_000
			pc.SleepUntil(d)
		}
	}()
	time.Sleep(400 * time.Millisecond)
	for range 3 {
		start := time.Now()
		gcDone := make(chan struct{})
		go func() { runtime.GC(); close(gcDone) }()
		select {
		case <-gcDone:
			t.Logf("a collection with a held thread took %v", time.Since(start))
		case <-time.After(30 * time.Second):
			t.Fatal("a collection did not complete in 30 s: the held thread never let the world stop")
		}
	}
	close(gcs)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !r.blocked || !r.released {
		t.Errorf("SIGURG blocked after Hold %v (want true), unblocked after Release %v (want true)", r.blocked, r.released)
	}
	if r.early > 0 {
		t.Errorf("a sleep ended %d ns before its deadline", r.early)
	}
	if r.interrupted != 0 {
		t.Errorf("%d of %d sleeps were cut short by a signal", r.interrupted, r.sleeps)
	}
	// One block per sleep; a few to spare for page faults and the like.
	if r.switches > r.sleeps+10 {
		t.Errorf("the thread blocked %d times for %d sleeps: it still yields to the scheduler", r.switches, r.sleeps)
	}
	// Each collection stops the thread; between its sleeps the thread
	// runs for well under a microsecond, so it is stopped by yielding.
	if r.yielded == 0 {
		t.Error("3 collections and the held thread never yielded: it does not see the runtime's requests")
	}
	t.Logf("%d sleeps, %d blocks, %d interrupted; %d yields for 3 collections", r.sleeps, r.switches, r.interrupted, r.yielded)
}

// threadStatus returns the value of field in the calling thread's
// /proc status.
func threadStatus(t *testing.T, field string) string {
	return statusField(t, "/proc/thread-self/status", field)
}

// statusField is field's value in a /proc status file.
func statusField(t *testing.T, path, field string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Errorf("no %s in %s", field, path)
	return ""
}

func voluntarySwitches(t *testing.T) uint64 {
	n, _ := strconv.ParseUint(threadStatus(t, "voluntary_ctxt_switches"), 10, 64)
	return n
}

// urgBlocked reports whether SIGURG is in the calling thread's mask.
func urgBlocked(t *testing.T) bool {
	mask, err := strconv.ParseUint(threadStatus(t, "SigBlk"), 16, 64)
	return err == nil && mask&(1<<(unix.SIGURG-1)) != 0
}
