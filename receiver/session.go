package receiver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/telemetry"
)

// Send puts a command on the wire: through a control.Client, waiting for
// the reply, or on a raw socket.
type Send func(ctx context.Context, cmd control.Command) error

// Session is the receiver's side of one subscription's life: start, lease
// refresh, stop, and the wait for the end-of-stream datagram that says
// everything sent has arrived. It owns no socket: send puts its commands on
// the wire, and whoever reads the datagrams hands each to Observe. record
// uses it with a control.Client; the bench with its own timestamping
// socket.
type Session struct {
	send   Send
	lease  time.Duration
	target string // start's target: "" for the sending socket itself

	ended   chan struct{}
	endOnce sync.Once
	latest  atomic.Uint64 // 1<<32 | the session of the latest samples, 0 before any
}

// RefreshEvery is how often Keep refreshes a lease of d: three times per
// lease, so that one lost refresh is covered by the next.
func RefreshEvery(d time.Duration) time.Duration { return d / 3 }

// NewSession returns a session that asks for the stream to target (""
// means the socket the commands leave from) with lease, which must lie in
// control.MinLease..control.MaxLease.
func NewSession(send Send, target string, lease time.Duration) (*Session, error) {
	if lease < control.MinLease || lease > control.MaxLease {
		return nil, fmt.Errorf("receiver: lease %s outside %s..%s", lease, control.MinLease, control.MaxLease)
	}
	return &Session{send: send, lease: lease, target: target, ended: make(chan struct{})}, nil
}

// Start asks for the stream, or refreshes its lease.
func (s *Session) Start(ctx context.Context) error {
	if err := s.send(ctx, control.Command{Verb: control.VerbStart, Target: s.target, Lease: s.lease}); err != nil {
		return fmt.Errorf("receiver: start: %w", err)
	}
	return nil
}

// Keep refreshes the lease every RefreshEvery(lease) until ctx ends or the
// stream ends; a failed refresh goes to onErr (nil: ignored) and the next
// one tries again.
func (s *Session) Keep(ctx context.Context, onErr func(error)) {
	t := time.NewTicker(RefreshEvery(s.lease))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.ended:
			return
		case <-t.C:
			if err := s.Start(ctx); err != nil && onErr != nil && ctx.Err() == nil {
				onErr(err)
			}
		}
	}
}

// Observe looks at one received datagram: an end-of-stream ends the
// session, unless it is of an earlier stream than the samples received
// last (a late one, from before the daemon restarted the stream). Safe to
// call from the reader goroutine while others wait.
func (s *Session) Observe(b []byte) {
	h, err := telemetry.ParseHeader(b)
	switch {
	case err != nil:
	case h.Type == telemetry.TypeSamples:
		s.latest.Store(1<<32 | uint64(h.Session))
	case h.Type == telemetry.TypeEnd:
		if l := s.latest.Load(); l != 0 && uint32(l) != h.Session {
			return
		}
		s.endOnce.Do(func() { close(s.ended) })
	}
}

// Ended is closed once an end-of-stream datagram was observed.
func (s *Session) Ended() <-chan struct{} { return s.ended }

// stopIDs numbers the sessions' stop requests.
var stopIDs atomic.Uint64

// ErrNoEnd is returned by Stop when no end-of-stream datagram came in
// time: samples sent just before the stop may be missing.
var ErrNoEnd = errors.New("receiver: no end of stream after stop")

// Stop ends the stream and waits up to wait for its end-of-stream
// datagram, so that the samples in flight are received too. The stop is
// sent again (same request id, so the daemon runs it once) every 200 ms
// until the end arrives, in case a busy socket dropped it. A stream that
// already ended needs no stop.
func (s *Session) Stop(ctx context.Context, wait time.Duration) error {
	select {
	case <-s.ended:
		return nil
	default:
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	// Its own id per session: the daemon answers a repeated id from its
	// reply cache, and a second session on the same socket (view's stop
	// and start) must stop its stream, not get the first one's reply.
	cmd := control.Command{ID: "stop-" + strconv.FormatUint(stopIDs.Add(1), 10), Verb: control.VerbStop, Target: s.target}
	resend := time.NewTicker(200 * time.Millisecond)
	defer resend.Stop()
	var sendErr error
	for {
		if err := s.send(ctx, cmd); err != nil {
			if _, refused := errors.AsType[*control.ReplyError](err); refused {
				return fmt.Errorf("receiver: stop: %w", err) // e.g. the lease ran out
			}
			sendErr = err
		}
		select {
		case <-s.ended:
			return nil
		case <-ctx.Done():
			// A daemon that did not answer in time (a busy machine) is no
			// failure of the recording: the stream ends by its lease.
			if sendErr != nil && !errors.Is(sendErr, context.DeadlineExceeded) {
				return fmt.Errorf("receiver: stop: %w", sendErr)
			}
			return ErrNoEnd
		case <-resend.C:
		}
	}
}
