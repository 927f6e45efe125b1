// Package sdnotify is the daemon side of systemd's notify protocol
// (sd_notify(3)): newline-separated VAR=value states such as READY=1,
// STATUS=… and WATCHDOG=1, each sent as one datagram to the unix socket
// named by $NOTIFY_SOCKET. It is the few lines of libsystemd a Type=notify
// service needs, without cgo or a dependency.
package sdnotify

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// Notifier sends states to the service manager. A nil *Notifier (no
// NOTIFY_SOCKET: not started by systemd) discards them, so callers need no
// checks.
type Notifier struct {
	addr *net.UnixAddr
}

// FromEnv returns the Notifier for $NOTIFY_SOCKET, or nil when it is
// unset.
func FromEnv() *Notifier {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil
	}
	return New(name)
}

// New returns a Notifier for the socket at path. A path starting with '@'
// names a Linux abstract socket, as systemd writes it (the net package
// turns the '@' into the leading NUL byte).
func New(path string) *Notifier {
	return &Notifier{addr: &net.UnixAddr{Name: path, Net: "unixgram"}}
}

// Notify sends state, e.g. "READY=1\nSTATUS=streaming". Each call dials
// afresh: systemd re-creates the socket when it re-executes itself, and a
// message every second or so makes the cost irrelevant.
func (n *Notifier) Notify(state string) error {
	if n == nil {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	return nil
}

// WatchdogInterval returns $WATCHDOG_USEC, the longest systemd waits
// between two WATCHDOG=1 before it restarts the service, or 0 when the
// watchdog is off or $WATCHDOG_PID names another process.
func WatchdogInterval() (time.Duration, error) {
	if p := os.Getenv("WATCHDOG_PID"); p != "" {
		pid, err := strconv.Atoi(p)
		if err != nil {
			return 0, fmt.Errorf("sdnotify: WATCHDOG_PID %q: %w", p, err)
		}
		if pid != os.Getpid() {
			return 0, nil
		}
	}
	s := os.Getenv("WATCHDOG_USEC")
	if s == "" {
		return 0, nil
	}
	us, err := strconv.ParseInt(s, 10, 64)
	if err != nil || us <= 0 {
		return 0, fmt.Errorf("sdnotify: WATCHDOG_USEC %q is not a positive number of µs", s)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Check reports whether the service is healthy and a one-line status.
type Check func() (healthy bool, status string)

// Watch runs until ctx ends. Every interval it calls check, sends
// STATUS=status when the status changed, and, if watchdog is set, sends
// WATCHDOG=1 when healthy. An unhealthy service is simply not vouched for:
// once no WATCHDOG=1 has arrived for the unit's WatchdogSec, systemd
// restarts it. Send errors go to onErr (if not nil) and do not stop the
// loop: systemd may be re-executing.
func (n *Notifier) Watch(ctx context.Context, interval time.Duration, watchdog bool, check Check, onErr func(error)) {
	if n == nil {
		return
	}
	if interval <= 0 {
		panic("sdnotify: Watch needs a positive interval")
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var last string
	for {
		ok, status := check()
		msg := ""
		if status != last {
			msg = "STATUS=" + status + "\n"
			last = status
		}
		if ok && watchdog {
			msg += "WATCHDOG=1\n"
		}
		if msg != "" {
			if err := n.Notify(msg); err != nil && onErr != nil {
				onErr(err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
