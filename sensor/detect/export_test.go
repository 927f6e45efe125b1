package detect

import "periph.io/x/conn/v3/i2c"

// For the trace tests, which are external because they replay with
// detecttest, and detecttest imports detect.
var (
	Session       = session
	ReplaySession = replaySession
	ErrNACK       = errNACK
)

// GY91 is gy91 for the external tests.
func GY91() i2c.Bus { return gy91() }
