package rt

import (
	"errors"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MonoClock sleeps with clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), which
// the kernel wakes with high-resolution timers instead of the Go runtime's
// millisecond-grained timer wheel.
type MonoClock struct{}

// Now returns CLOCK_MONOTONIC in ns.
func (MonoClock) Now() int64 { return monoNow() }

// SleepUntil sleeps to an absolute CLOCK_MONOTONIC deadline.
func (MonoClock) SleepUntil(deadline int64) int64 {
	ts := unix.NsecToTimespec(deadline)
	for {
		err := unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	return monoNow()
}

// sleepRaw sleeps once towards deadline as a raw system call, for a sender
// thread (see Pacer), and returns the time it woke: early when a signal
// interrupted it. The Go scheduler goes on seeing the thread as running.
// In a system call proper, Go 1.26's monitor thread (sysmon) holds the
// thread's way out of the call on each of its passes while it looks at
// it; a real-time thread that wakes then spins until the monitor lets go,
// on the CPU the monitor, at lower priority, may need to do so. Traced
// here once as a 59 ms stall of both sender threads. The cost: the thread
// keeps its P while it sleeps (the daemon adds one per sender thread).
func sleepRaw(deadline int64) int64 {
	nanosleepAbs(deadline)
	return monoNow()
}

// nanosleepAbs is one clock_nanosleep to deadline, a raw system call.
//
//go:nosplit
func nanosleepAbs(deadline int64) {
	ts := unix.NsecToTimespec(deadline)
	_, _, _ = unix.RawSyscall6(unix.SYS_CLOCK_NANOSLEEP, unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME,
		uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
}

// sleepHeld sleeps once towards deadline as sleepRaw does, pinned, and
// reports whether the runtime had asked the goroutine to yield when it
// woke: with no stack check between (nosplit, raw system call), the
// request is still unseen.
//
//go:nosplit
func sleepHeld(deadline int64) bool {
	nanosleepAbs(deadline)
	return yieldRequested()
}

// monoNow reads CLOCK_MONOTONIC as the Go runtime does, through the vDSO:
// a system call (unix.ClockGettime) would take the sender thread through
// the scheduler's syscall entry and exit twice more per tick.
func monoNow() int64 { return monoBase + int64(time.Since(monoRef)) }

// monoRef and monoBase tie the runtime's monotonic clock, which counts from
// an unexported origin, to CLOCK_MONOTONIC. monoBase is read after monoRef,
// so monoNow is never behind CLOCK_MONOTONIC, which a tick relies on to
// find its deadline passed; it is ahead by at most the gap between the two
// readings, the smallest of a few tries (well under a microsecond).
var monoRef, monoBase = calibrateMono()

func calibrateMono() (time.Time, int64) {
	var ref time.Time
	var base int64
	gap := time.Duration(1<<63 - 1)
	for range 16 {
		r := time.Now()
		var ts unix.Timespec
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
		if g := time.Since(r); g < gap {
			ref, base, gap = r, ts.Nano(), g
		}
	}
	return ref, base
}

// Stamp reads CLOCK_MONOTONIC and CLOCK_REALTIME at one instant (one
// vDSO read): the clocks of a sample's t_mono_ns and t_wall_ns.
func Stamp() (mono, wall int64) {
	t := time.Now()
	return monoBase + int64(t.Sub(monoRef)), t.UnixNano()
}
