package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strconv"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/telemetry"
)

// daemonStatus returns the daemon's status fields.
func daemonStatus(ctl netip.AddrPort) (map[string]string, error) {
	cl, err := control.Dial(ctl.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rep, err := cl.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: status: %w", err)
	}
	m := make(map[string]string, len(rep.Fields))
	for _, f := range rep.Fields {
		m[f.Key] = f.Value
	}
	return m, nil
}

// cycler runs start/stop cycles on a socket.
type cycler struct {
	rx      *tsConn
	ctl     netip.AddrPort
	dg      telemetry.Datagram
	session uint32 // the latest stream's
	resent  int
}

// The cycles send a command again every cycleResend until its datagram
// comes, and give up after cycleGiveUp.
const cycleResend, cycleGiveUp = 200 * time.Millisecond, 5 * time.Second

// startStopCycles measures, n times, a start command to the kernel
// arrival of the new stream's first datagram, and a stop command to the
// arrival of its end-of-stream datagram. A command is sent again, with
// the same request id, every cycleResend until its datagram comes (a
// flood can fill the daemon's socket buffer): the time counts from the
// first send, and resent counts the repeats.
//
// The cycles run on a thread at the priority of the daemon's command path
// (SCHED_FIFO daemon.RuntimePriority) where the system allows: on a rig
// the client runs on another machine, here it shares the CPUs the load
// keeps busy, and a start's time taken and then held up behind a busy
// process before its send counted that wait against the daemon.
func startStopCycles(ctx context.Context, rx *tsConn, ctl netip.AddrPort, n int, period int64) (first, last []int64, resent int, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if rt.SetThreadPriority(daemon.RuntimePriority) == nil {
		defer func() { _ = rt.SetThreadPriority(0) }() // normal again before the thread goes back
	}
	cy := &cycler{rx: rx, ctl: ctl}
	for i := range n {
		if ctx.Err() != nil {
			return nil, nil, 0, ctx.Err()
		}
		// The sender needs a tick to drop the last subscriber; a random
		// pause also spreads the starts over the tick phase.
		time.Sleep(time.Duration(2*period + rand.Int64N(2*period)))
		id := "c" + strconv.Itoa(i)
		d, err := cy.do(control.Command{ID: id + "a", Verb: control.VerbStart, Lease: 5 * time.Second}, telemetry.TypeSamples)
		if err != nil {
			return nil, nil, 0, err
		}
		first = append(first, d)
		if d, err = cy.do(control.Command{ID: id + "o", Verb: control.VerbStop}, telemetry.TypeEnd); err != nil {
			return nil, nil, 0, err
		}
		last = append(last, d)
	}
	return first, last, cy.resent, nil
}

// do sends c until a datagram of type typ (of a new session for samples)
// arrives, and returns the time from the first send.
func (cy *cycler) do(c control.Command, typ telemetry.Type) (int64, error) {
	msg := []byte(c.String() + "\n")
	t0 := time.Now()
	end := t0.Add(cycleGiveUp)
	for next := t0; ; {
		if now := time.Now(); !now.Before(next) {
			if now.After(end) {
				return 0, fmt.Errorf("bench: start/stop cycle: no %v datagram %s after %s", typ, cycleGiveUp, c.Verb)
			}
			if next != t0 {
				cy.resent++
			}
			if _, err := cy.rx.WriteToUDPAddrPort(msg, cy.ctl); err != nil {
				return 0, fmt.Errorf("bench: %w", err)
			}
			next = next.Add(cycleResend)
		}
		b, _, ts, err := cy.rx.read(next)
		if isTimeout(err) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if !telemetry.Is(b) || telemetry.Parse(b, &cy.dg) != nil || cy.dg.Type != typ ||
			typ == telemetry.TypeSamples && cy.dg.Session == cy.session {
			continue
		}
		cy.session = cy.dg.Session
		return ts - t0.UnixNano(), nil
	}
}

// floorOutcome waits for the floor probe and reads its result.
func floorOutcome(f *child) (*FloorResult, error) {
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("bench: floor probe still running:\n%s", f.stderrTail())
	}
	if f.err != nil {
		return nil, fmt.Errorf("bench: floor probe: %w:\n%s", f.err, f.stderrTail())
	}
	var r FloorResult
	if err := json.Unmarshal(f.stdout.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("bench: floor probe's output: %w", err)
	}
	return &r, nil
}
