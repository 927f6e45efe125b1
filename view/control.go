package view

import "github.com/imustream/imustream/view/pagemsg"

// Op is what a page asks of the view over its WebSocket; package pagemsg
// parses it (kept apart so its fuzz target links little).
type Op = pagemsg.Op

const (
	OpStart = pagemsg.OpStart // start the stream (a new run)
	OpStop  = pagemsg.OpStop  // stop it
)

// MaxControl bounds a page's control message.
const MaxControl = pagemsg.MaxControl

// Errors of ParseControl.
var (
	ErrControlTooLong = pagemsg.ErrControlTooLong
	ErrControlBad     = pagemsg.ErrControlBad
)

// ParseControl decodes a page's control message, {"op":"start"} or
// {"op":"stop"}; unknown fields are refused.
func ParseControl(b []byte) (Op, error) { return pagemsg.ParseControl(b) }
