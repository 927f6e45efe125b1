// Package pagemsg parses what the view's page sends over its WebSocket:
// {"op":"start"} or {"op":"stop"}. It has no I/O and imports only the
// standard library, so its fuzz target's binary stays small (Go's fuzzer
// snapshots the coverage counters of every package linked in, per input).
package pagemsg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Op is what a page asks of the view over its WebSocket.
type Op string

const (
	OpStart Op = "start" // start the stream (a new run)
	OpStop  Op = "stop"  // stop it
)

// MaxControl bounds a page's control message.
const MaxControl = 256

// Errors of ParseControl.
var (
	ErrControlTooLong = errors.New("pagemsg: control message too long")
	ErrControlBad     = errors.New("pagemsg: control message is not {\"op\":\"start\"|\"stop\"}")
)

// ParseControl decodes a page's control message, {"op":"start"} or
// {"op":"stop"}; unknown fields are refused.
func ParseControl(b []byte) (Op, error) {
	if len(b) > MaxControl {
		return "", ErrControlTooLong
	}
	var m struct {
		Op *string `json:"op"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&m); err != nil {
		return "", fmt.Errorf("%w: %w", ErrControlBad, err)
	}
	if d.More() {
		return "", fmt.Errorf("%w: more after the object", ErrControlBad)
	}
	if m.Op == nil {
		return "", fmt.Errorf("%w: no op", ErrControlBad)
	}
	switch op := Op(*m.Op); op {
	case OpStart, OpStop:
		return op, nil
	}
	return "", fmt.Errorf("%w: op %q", ErrControlBad, *m.Op)
}
