package telemetry

import (
	"errors"

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

func monoNow() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// WallNow returns CLOCK_REALTIME in ns since the Unix epoch.
func WallNow() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_REALTIME, &ts)
	return ts.Nano()
}
