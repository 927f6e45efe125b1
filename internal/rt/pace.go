package rt

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Why a sender thread yields to the Go scheduler on purpose.
//
// The scheduler preempts a goroutine it has seen running for 10 ms, and to
// the scheduler a sender thread never stops running: it sleeps in the
// kernel, never in the scheduler. Preempting a goroutine locked to its
// thread hands the thread's P to another thread and back, through threads
// of normal priority, at a moment the scheduler picks: most often just
// after a wake-up, in the middle of a tick. The P taken away during the sleep also sent every wake-up through
// the runtime's slow path, which wakes its monitor thread on another CPU.
// (Measured with the kernel's tracer, load 2 at 200 Hz: about 9 such
// preemptions a second, 12 µs typical and 30 µs at p90 each, and a futex
// wake-up in nearly every tick.) So each sender thread yields at moments
// of its own choosing instead: after its work, and in long waits at least
// every maxRun, never closer than yieldGuard to the deadline it waits for.
const (
	maxRun     = 8 * int64(time.Millisecond) // under the scheduler's 10 ms
	yieldGuard = maxRun / 2
)

// Pacer sleeps one thread locked to its OS thread (a sender thread, or the
// bench's floor probe, which must be scheduled the same way) to its
// deadlines, yielding as above.
type Pacer struct {
	clock   Clock
	sleep   func(deadline int64) int64 // sleepRaw for MonoClock
	yield   func()                     // runtime.Gosched; tests record the calls
	yielded int64                      // when this thread last yielded
	// real is false for a clock that does not really sleep (tests): the
	// scheduler's preemption the slices avoid needs real time to pass, and
	// such a clock does not move while a thread spins on it.
	real bool
	// turn is shared by the Pacers of one sender. Two threads handing
	// their Ps back and forth through the scheduler at the same moment
	// were traced stalling each other for 43 ms under load, so one yields
	// at a time; the other tries again on its next tick or slice, which
	// also spreads their yields apart.
	turn *atomic.Bool
}

// NewPacers returns a Pacer for each of n threads that keep one schedule.
func NewPacers(clock Clock, n int) []*Pacer {
	turn := new(atomic.Bool)
	ps := make([]*Pacer, n)
	for i := range ps {
		p := &Pacer{clock: clock, sleep: clock.SleepUntil, yield: runtime.Gosched, turn: turn}
		if _, real := clock.(MonoClock); real {
			p.sleep, p.real = sleepRaw, true
		}
		ps[i] = p
	}
	return ps
}

// tryYield yields unless another thread of the schedule is yielding, and
// reports whether it did.
func (p *Pacer) tryYield(now int64) bool {
	if !p.turn.CompareAndSwap(false, true) {
		return false
	}
	p.yield()
	p.turn.Store(false)
	p.yielded = now
	return true
}

// AfterWork yields if the thread has gone yieldGuard without: often enough
// that a wait shorter than maxRun needs no slices, and seldom enough at high
// rates (every 4th tick at 1 kHz) that the yields cost little.
func (p *Pacer) AfterWork() {
	if now := p.clock.Now(); now-p.yielded >= yieldGuard {
		p.tryYield(now)
	}
}

// SleepUntil sleeps to deadline, in slices ending in a yield when the wait
// is longer than maxRun, and returns the time it woke.
func (p *Pacer) SleepUntil(deadline int64) int64 {
	for p.real {
		end, ok := nextSlice(p.yielded, deadline)
		if !ok {
			break
		}
		now := p.sleep(end)
		// Another thread's turn: retry shortly while there is room before
		// the deadline; failing that, go on without (one preemption by the
		// scheduler at worst).
		for !p.tryYield(now) {
			if now+yieldRetry > deadline-yieldGuard {
				p.yielded = now
				break
			}
			now = p.sleep(now + yieldRetry)
		}
	}
	return p.sleep(deadline)
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

// yieldRetry is how long a slice waits for another thread's yield to end.
const yieldRetry = 200 * int64(time.Microsecond)

// nextSlice returns the end of the next slice of a wait for deadline by a
// thread that last yielded at yielded, or false when it can sleep straight
// to the deadline.
func nextSlice(yielded, deadline int64) (int64, bool) {
	if deadline-yielded <= maxRun {
		return 0, false
	}
	return min(yielded+maxRun, deadline-yieldGuard), true
}
