package stream

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sendConn is a subscriber's connected, non-blocking UDP socket, kept out
// of Go's network poller. The poller registers every net.Conn with epoll,
// and the kernel then wakes the poller's thread from inside the sender's
// own write (the sent buffer's release signals "writable"): a wake-up of
// another CPU in every tick, before the datagram reaches the wire. No
// goroutine ever waits on this socket, so it needs no poller.
type sendConn struct {
	fd atomic.Int32 // -1 once closed
}

// dialUDP connects a socket to target that sends from local (see
// sourceFor), taking spare's socket if it is one that fits.
func dialUDP(target netip.AddrPort, local netip.Addr, spare *spareSocket) (*sendConn, error) {
	family, sa, err := sockaddr(target)
	if err != nil {
		return nil, err
	}
	fd, err := spare.take(family, sourceFor(target, local))
	if err != nil {
		return nil, err
	}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stream: connect %s: %w", target, err)
	}
	c := &sendConn{}
	c.fd.Store(int32(fd))
	return c, nil
}

// spareSocket is a socket made and bound ahead of the next subscriber:
// the two system calls were 40 of the 210 µs (medians) from a start's
// arrival to its stream's first datagram under load 2 on the machine of
// docs/performance.md, and made after a start is answered they cost the
// next one nothing. It is made like the last one taken, once a socket has
// been.
type spareSocket struct {
	mu     sync.Mutex
	fd     int // -1: none
	family int
	local  netip.Addr // bound to; invalid: not bound
}

func newSpareSocket() *spareSocket { return &spareSocket{fd: -1} }

// take returns a socket of family bound to local (invalid: not bound):
// the spare if it is such a one, else a new one.
func (sp *spareSocket) take(family int, local netip.Addr) (int, error) {
	sp.mu.Lock()
	fd, fits := sp.fd, sp.fd >= 0 && sp.family == family && sp.local == local
	sp.fd, sp.family, sp.local = -1, family, local
	sp.mu.Unlock()
	if fits {
		return fd, nil
	}
	if fd >= 0 {
		unix.Close(fd)
	}
	return newSocket(family, local)
}

// refill makes a spare like the last socket taken if there is none.
func (sp *spareSocket) refill() {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.fd >= 0 || sp.family == 0 {
		return
	}
	if fd, err := newSocket(sp.family, sp.local); err == nil {
		sp.fd = fd
	}
}

// close closes the spare (runtime.AddCleanup, when its Subscribers goes).
func (sp *spareSocket) close() {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.fd >= 0 {
		unix.Close(sp.fd)
		sp.fd = -1
	}
}

// newSocket returns a non-blocking UDP socket of family bound to local
// (invalid: not bound).
func newSocket(family int, local netip.Addr) (int, error) {
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("stream: socket: %w", err)
	}
	if local.IsValid() {
		_, lsa, err := sockaddr(netip.AddrPortFrom(local, 0))
		if err == nil {
			err = unix.Bind(fd, lsa)
		}
		if err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("stream: bind %s: %w", local, err)
		}
	}
	return fd, nil
}

// sockaddr is a's socket address and family.
func sockaddr(target netip.AddrPort) (int, unix.Sockaddr, error) {
	a := target.Addr()
	switch {
	case a.Is4():
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(target.Port()), Addr: a.As4()}, nil
	case a.Is6():
		sa6 := &unix.SockaddrInet6{Port: int(target.Port()), Addr: a.As16()}
		if z := a.Zone(); z != "" {
			if n, err := strconv.ParseUint(z, 10, 32); err == nil {
				sa6.ZoneId = uint32(n)
			} else if ifi, err := net.InterfaceByName(z); err == nil {
				sa6.ZoneId = uint32(ifi.Index)
			} else {
				return 0, nil, fmt.Errorf("stream: zone of %s: %w", target, err)
			}
		}
		return unix.AF_INET6, sa6, nil
	}
	return 0, nil, fmt.Errorf("stream: no address to stream to in %s", target)
}

// Write sends b as one datagram. A full send queue fails at once with
// EAGAIN (the datagram is dropped, as the network would) instead of
// holding up the tick. The error is the bare errno, which does not
// allocate; the caller adds context when it logs.
func (c *sendConn) Write(b []byte) (int, error) {
	fd := c.fd.Load()
	if fd < 0 {
		return 0, net.ErrClosed
	}
	// A raw system call: a non-blocking send returns in microseconds, and
	// the runtime's syscall bookkeeping would let the scheduler take this
	// thread's P meanwhile and make it wait for one on the way out.
	p := unsafe.Pointer(unsafe.SliceData(b))
	n, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(p), uintptr(len(b)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// Close closes the socket. Only the sender closes, after its last write.
func (c *sendConn) Close() error {
	fd := c.fd.Swap(-1)
	if fd < 0 {
		return net.ErrClosed
	}
	return unix.Close(int(fd))
}

// localAddr is the address the socket sends from.
func (c *sendConn) localAddr() netip.AddrPort {
	sa, err := unix.Getsockname(int(c.fd.Load()))
	if err != nil {
		return netip.AddrPort{}
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return netip.AddrPort{}
}
