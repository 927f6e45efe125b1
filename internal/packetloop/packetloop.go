// Package packetloop is the life cycle the daemon's packet servers share,
// the command server (control) and the rig front-end (rig): Serve reads
// one socket until its context ends or Shutdown is called, with the
// contract of net/http's Server.Shutdown; the read deadline trick that
// ends a blocked read is miekg/dns's.
package packetloop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Loop serves one socket once. Its zero value is not usable: use New.
type Loop struct {
	name   string // prefix of its errors
	closed error  // what Serve returns after Shutdown or its context

	mu     sync.Mutex // guards conn
	conn   net.PacketConn
	done   chan struct{} // closed when Serve returns
	ending atomic.Bool   // Shutdown was called or Serve's context ended
}

// New returns a Loop whose errors start with name and whose Serve returns
// closed when it was asked to end.
func New(name string, closed error) *Loop {
	return &Loop{name: name, closed: closed, done: make(chan struct{})}
}

// Serve calls read for one packet and then handle with read's length,
// until ctx ends or Shutdown is called; it then returns the Loop's closed
// error. A read timeout is retried; any other read error ends the loop and
// is returned wrapped. Serve does not close conn: the caller owns it (it
// may come from systemd's socket activation).
func (l *Loop) Serve(ctx context.Context, conn net.PacketConn, read func() (int, error), handle func(n int)) error {
	l.mu.Lock()
	if l.conn != nil {
		l.mu.Unlock()
		return fmt.Errorf("%s: Serve called twice", l.name)
	}
	l.conn = conn
	l.mu.Unlock()
	defer close(l.done)
	// Shut down before it began: unblock found no socket to wake.
	if l.ending.Load() {
		return l.closed
	}
	stop := context.AfterFunc(ctx, l.unblock)
	defer stop()
	for {
		n, err := read()
		if l.ending.Load() {
			return l.closed
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return l.closed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("%s: read: %w", l.name, err)
		}
		handle(n)
	}
}

// Conn returns the socket Serve reads, nil before Serve.
func (l *Loop) Conn() net.PacketConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conn
}

// unblock makes Serve return: a read deadline in the past wakes the read.
func (l *Loop) unblock() {
	l.ending.Store(true)
	if c := l.Conn(); c != nil {
		_ = c.SetReadDeadline(time.Now())
	}
}

// Shutdown stops Serve: the packet being handled is finished, no further
// one is read, and Shutdown waits for Serve to return. It returns
// ctx.Err() if ctx ends first, nil otherwise. The socket stays open for
// its owner to close.
func (l *Loop) Shutdown(ctx context.Context) error {
	l.unblock()
	if l.Conn() == nil {
		return nil
	}
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
