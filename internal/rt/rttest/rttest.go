// Package rttest has test support for code paced by an rt.Clock: a clock
// whose sleeps return at once, so tests of the schedule run in no time.
package rttest

// FakeClock is an rt.Clock that never sleeps: SleepUntil returns at once,
// as if it woke on the deadline plus Late(i) for the i-th call.
type FakeClock struct {
	Mono   int64                            // the clock's time, ns
	Late   func(i int) int64                // nil: always on time
	OnWake func(i int, deadline, now int64) // nil: nothing
	Sleeps int                              // SleepUntil calls so far
}

// Now returns the clock's time.
func (c *FakeClock) Now() int64 { return c.Mono }

// SleepUntil moves the clock to deadline (a deadline already past does not
// sleep, like clock_nanosleep), adds Late and calls OnWake.
func (c *FakeClock) SleepUntil(deadline int64) int64 {
	i := c.Sleeps
	c.Sleeps++
	c.Mono = max(c.Mono, deadline)
	if c.Late != nil {
		c.Mono += c.Late(i)
	}
	if c.OnWake != nil {
		c.OnWake(i, deadline, c.Mono)
	}
	return c.Mono
}
