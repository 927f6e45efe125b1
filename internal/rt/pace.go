package rt

import (
	"sync/atomic"
	"time"
)

// How a sender thread meets the Go scheduler.
//
// To the scheduler a sender thread never stops running: it sleeps in the
// kernel through a raw system call (sleepRaw), never in the scheduler. The
// runtime's monitor asks a goroutine it has seen running for 10 ms to
// yield: it marks it, which takes effect at the goroutine's next function
// call, and signals its thread (SIGURG). The signal cuts the sleep short,
// so the mark takes effect right then, in the middle of the sleep, at the
// first call after it; the Pacer then sleeps on to the deadline. On a
// thread locked to its goroutine such a yield hands the thread's P to
// another thread and back: the daemon runs those threads at real-time
// priority too (rt.ScheduleProcess), so busy processes do not hold it up.
// A yield of the Pacer's own after every tick, as it once did, doubled
// the sender's CPU per tick at 200 Hz (docs/performance.md); the
// runtime's own, about every 10 to 20 ms, is the least there is.

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
	// Interrupted counts the sleeps a signal cut short: about one for
	// each time the runtime had the thread yield.
	Interrupted atomic.Uint64
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
