// Package detecttest plays back, in tests, the I²C traces that
// detect.ProbeBus records (`imustream probe --record`): see detect.Trace
// for the format.
//
// A Replay is an i2c.Bus that checks every transaction against the trace,
// so a test that runs today's code on it fails where the code no longer
// does what the recorded session did.
package detecttest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"github.com/imustream/imustream/sensor/detect"
)

// ReadTrace loads a trace file.
func ReadTrace(path string) (*detect.Trace, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("detecttest: %w", err)
	}
	var t detect.Trace
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("detecttest: trace %s: %w", path, err)
	}
	if t.Format != detect.TraceFormat {
		return nil, fmt.Errorf("detecttest: trace %s: format %q; want %q", path, t.Format, detect.TraceFormat)
	}
	return &t, nil
}

// Replay is an i2c.Bus that plays a trace back: the successful
// transactions through Playback, which checks each against the recording,
// and the failed ones by returning their recorded error.
type Replay struct {
	Playback *i2ctest.Playback

	mu  sync.Mutex
	ops []detect.Op
	pos int
}

// NewReplay returns a bus that plays t back. Playback.DontPanic is set: a
// mismatch is an error, not a panic.
func NewReplay(t *detect.Trace) *Replay {
	r := &Replay{Playback: &i2ctest.Playback{DontPanic: true}, ops: t.Ops}
	for _, op := range t.Ops {
		if op.Err == "" {
			r.Playback.Ops = append(r.Playback.Ops, i2ctest.IO{Addr: op.Addr, W: op.W, R: op.R})
		}
	}
	return r
}

func (r *Replay) String() string { return "replay" }

// Tx implements i2c.Bus.
func (r *Replay) Tx(addr uint16, w, rd []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pos < len(r.ops) && r.ops[r.pos].Err != "" {
		op := r.ops[r.pos]
		if op.Addr != addr || !bytes.Equal(op.W, w) || op.RLen != len(rd) {
			return fmt.Errorf("detecttest: replay op %d: got addr %#02x w % x read %d bytes; recorded failed addr %#02x w % x read %d", r.pos, addr, w, len(rd), op.Addr, []byte(op.W), op.RLen)
		}
		r.pos++
		return errors.New(op.Err)
	}
	r.pos++
	return r.Playback.Tx(addr, w, rd)
}

// SetSpeed implements i2c.Bus.
func (r *Replay) SetSpeed(physic.Frequency) error { return nil }

// Close reports an error unless every recorded transaction was replayed.
func (r *Replay) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pos != len(r.ops) {
		return fmt.Errorf("detecttest: replay used %d of %d transactions", r.pos, len(r.ops))
	}
	return r.Playback.Close()
}

var _ i2c.BusCloser = (*Replay)(nil)
