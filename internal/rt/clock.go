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

// WallAt returns CLOCK_REALTIME (ns since the Unix epoch) at the
// CLOCK_MONOTONIC instant mono, a moment ago, from one reading of both
// clocks (Stamp): a sample's t_wall_ns is then the instant of its
// t_mono_ns even when its thread was held up between the two (by the
// host, 2.5 ms once), as reading the wall clock at that point would not.
func WallAt(mono int64) int64 {
	m, w := Stamp()
	return w - (m - mono)
}
