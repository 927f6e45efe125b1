//go:build !linux

package rt

import "time"

// MonoClock on other systems uses the Go runtime's timers: good enough for a
// control PC running the daemon for development, not for a precise stream.
type MonoClock struct{}

var monoStart = time.Now()

func monoNow() int64 { return int64(time.Since(monoStart)) + 1 }

// Now returns a monotonic time in ns.
func (MonoClock) Now() int64 { return monoNow() }

// SleepUntil sleeps to an absolute deadline on Now's clock.
func (MonoClock) SleepUntil(deadline int64) int64 {
	if d := deadline - monoNow(); d > 0 {
		time.Sleep(time.Duration(d))
	}
	return monoNow()
}

func sleepRaw(deadline int64) int64 { return MonoClock{}.SleepUntil(deadline) }

// Stamp reads Now's clock and the wall clock at one instant.
func Stamp() (mono, wall int64) {
	t := time.Now()
	return int64(t.Sub(monoStart)) + 1, t.UnixNano()
}

// sleepHeld is never called here: Hold fails (setPreemptSignal).
func sleepHeld(deadline int64) bool { sleepRaw(deadline); return false }
