package rt

// Clock is the sender's seam to time: it reads CLOCK_MONOTONIC and sleeps to
// absolute deadlines on it. Absolute deadlines keep the grid fixed over hours:
// a late wake-up does not push later ticks back.
type Clock interface {
	// Now returns CLOCK_MONOTONIC in ns.
	Now() int64
	// SleepUntil blocks until the monotonic clock reaches deadline (ns) and
	// returns the time it woke.
	SleepUntil(deadline int64) int64
}
