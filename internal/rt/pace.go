package rt

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	_ "unsafe" // go:linkname
)

// How a sender thread meets the Go scheduler.
//
// To the scheduler a sender thread never stops running: it sleeps in the
// kernel through a raw system call (sleepRaw), never in the scheduler. The
// runtime's monitor asks a goroutine it has seen running for 10 ms to
// yield: it marks it, which takes effect at the goroutine's next function
// call, and signals its thread (SIGURG), which cuts the sleep short. On a
// thread locked to its goroutine such a yield hands the thread's P to
// another thread and back: four threads woken, every 10 to 20 ms, which
// cost the daemon about half the CPU of a minimal C loop's whole tick at
// 200 Hz (docs/performance.md). A yield of the Pacer's own after every
// tick, as it once did, cost more still.
//
// So a sender thread declines (Hold). It blocks SIGURG, so the request's
// signal stays pending on the thread and is not sent again (the runtime
// sends none while one is pending). It sleeps with its P pinned (procPin,
// a count of runtime locks held, under which the runtime does not
// preempt), looks on waking whether it was asked (yieldRequested), and
// makes one call while still pinned (declinePreempt), where the request
// is seen and put off. The monitor asks every 10 ms at most; asked at two
// wake-ups in a row, the thread is being asked again and again, as the
// runtime does while it waits to stop the world (every 100 µs), and it
// yields. While the collector marks, which it spins until it has scanned
// this thread's stack, the thread is not held. And at least every
// YieldEvery it yields after its tick. With a period of holdPeriod or
// more the monitor asks at every wake-up and holding saves nothing: such
// threads are not held.

// YieldEvery is the longest a held thread goes without yielding when
// asked: the runtime runs the timers a P holds (those of the goroutines
// that ran on it before the sender) when the P schedules, or when an idle
// thread steals them; in a busy process a P that never schedules strands
// them (seen: a 6.7 s sleep that took 30 s).
const YieldEvery = 200 * int64(time.Millisecond)

// holdPeriod is the shortest period at which holding a thread saves
// nothing: the runtime's monitor asks every 10 ms.
const holdPeriod = 10 * int64(time.Millisecond)

// Pacer sleeps one thread locked to its OS thread (a sender thread, or the
// bench's floor probe, which must be scheduled the same way) to its
// deadlines.
type Pacer struct {
	clock Clock
	// sleep sleeps once towards deadline and returns the time it woke:
	// before deadline when a signal cut it short. sleepRaw for MonoClock.
	sleep func(deadline int64) int64
	// real is false for a clock that does not really sleep (tests): it
	// does not move while a thread spins on it.
	real bool
	// held: the thread declines the runtime's requests to yield (Hold);
	// blocked: SIGURG is blocked on it (held, and no collection marking);
	// asked: it was asked when it last woke.
	held, blocked, asked bool
	owe                  bool  // it yields before its next sleep
	yielded              int64 // the deadline it last owed a yield at
	// Interrupted counts the sleeps a signal cut short: about one for
	// each time the runtime had the thread yield. Yielded counts the
	// yields of a held thread.
	Interrupted, Yielded atomic.Uint64
}

// Hold makes the calling thread, locked to its goroutine, decline the
// runtime's requests to yield while it sleeps (see the top of this
// file), until Release, when it sleeps for a period shorter than
// holdPeriod. A thread that goes back to the runtime must be released
// first (Release after a Hold that did nothing does nothing).
func (p *Pacer) Hold(period int64) error {
	if !p.real || period >= holdPeriod {
		return nil
	}
	if !canSeeYieldRequests {
		return fmt.Errorf("rt: hold a sender thread: %w on this architecture", errors.ErrUnsupported)
	}
	if err := setPreemptSignal(true); err != nil {
		return err
	}
	p.held, p.blocked = true, true
	return nil
}

// Release undoes Hold.
func (p *Pacer) Release() {
	p.held = false
	p.block(false)
}

// block blocks or unblocks SIGURG on the thread, if that changes it.
func (p *Pacer) block(b bool) {
	if p.blocked != b && setPreemptSignal(b) == nil {
		p.blocked = b
	}
}

//go:linkname writeBarrier runtime.writeBarrier
var writeBarrier struct {
	enabled bool
	pad     [3]byte
	alignme uint64
}

// gcMarking reports whether the garbage collector is marking (its write
// barrier is on): it then stops each goroutine to scan its stack and
// spins until it has.
func gcMarking() bool { return writeBarrier.enabled }

//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// declinePreempt is a call with a stack check: made while pinned, it puts
// off a pending request to yield (the runtime's stack-check path sees the
// pin and clears the request's trap).
//
//go:noinline
func declinePreempt(n int) int {
	if n <= 0 {
		return 0
	}
	return declinePreempt(n-1) + 1
}

// NewPacers returns a Pacer for each of n threads that keep one schedule.
func NewPacers(clock Clock, n int) []*Pacer {
	ps := make([]*Pacer, n)
	for i := range ps {
		p := &Pacer{clock: clock, sleep: clock.SleepUntil}
		if _, real := clock.(MonoClock); real {
			p.sleep, p.real = sleepRaw, true
		}
		ps[i] = p
	}
	return ps
}

// SleepUntil sleeps to deadline and returns the time it woke.
func (p *Pacer) SleepUntil(deadline int64) int64 {
	if !p.held {
		return p.sleepTo(deadline)
	}
	if gcMarking() {
		// The collector spins until it has stopped this thread: its
		// requests come through, signal and all, until it is done.
		p.block(false)
		return p.sleepTo(deadline)
	}
	if p.owe {
		// Owed since the last wake-up: yield now, the tick done and the
		// next deadline ahead, not on waking, which would delay a tick.
		p.owe = false
		p.Yielded.Add(1)
		runtime.Gosched()
	}
	p.block(true)
	procPin()
	asked := sleepHeld(deadline)
	if asked && (p.asked || gcMarking()) {
		// The monitor asks every 10 ms at most; a thread asked at two
		// wake-ups in a row is being asked again and again, as the
		// runtime does while it waits to stop the world (every 100 µs).
		// Asked while the collector marks, it is the collector, which
		// waits to scan this goroutine's stack. Either way it yields,
		// at the first stack check unpinned.
		p.asked = false
		p.Yielded.Add(1)
		procUnpin()
		return p.sleepTo(deadline)
	}
	if asked && deadline-p.yielded >= YieldEvery {
		p.owe, p.yielded = true, deadline
	}
	p.asked = asked
	declinePreempt(1)
	for {
		now := monoNow()
		if now >= deadline {
			procUnpin()
			return now
		}
		p.Interrupted.Add(1) // a signal cut the sleep short
		sleepHeld(deadline)
		declinePreempt(1)
	}
}

func (p *Pacer) sleepTo(deadline int64) int64 {
	for {
		now := p.sleep(deadline)
		if now >= deadline || !p.real {
			return now
		}
		p.Interrupted.Add(1)
	}
}

// Lead returns how long before each deadline a thread scheduled as t wakes
// to spin, for a schedule of period ns that asks for spin: at most a tenth
// of the period. A thread at normal priority does not spin: the kernel's
// fair scheduler then preempts it for a busy process's time slice (under
// load 2 that took the p99 from 55 to 2480 µs).
func (p *Pacer) Lead(t ThreadSchedule, spin time.Duration, period int64) int64 {
	if t.FIFOPrio == 0 && p.real {
		return 0
	}
	return min(int64(spin), period/10)
}

// Spin busy-waits from now, a little before deadline, to deadline and
// returns the time it ends. A wake-up's delay varies by tens of µs (the
// timer interrupt, leaving a halted virtual CPU, the kernel's switch to
// the thread); a thread that sleeps to a moment before its deadline and
// spins the rest starts its tick on time whenever the delay was shorter
// than that lead.
func (p *Pacer) Spin(now, deadline int64) int64 {
	if !p.real {
		if now < deadline {
			now = p.clock.SleepUntil(deadline)
		}
		return now
	}
	for now < deadline {
		now = p.clock.Now()
	}
	return now
}
