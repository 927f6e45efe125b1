package stream

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
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

func dialUDP(target netip.AddrPort, local netip.Addr) (*sendConn, error) {
	family, sa, err := sockaddr(target)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("stream: socket: %w", err)
	}
	if local = sourceFor(target, local); local.IsValid() {
		_, lsa, err := sockaddr(netip.AddrPortFrom(local, 0))
		if err == nil {
			err = unix.Bind(fd, lsa)
		}
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("stream: bind %s: %w", local, err)
		}
	}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stream: connect %s: %w", target, err)
	}
	c := &sendConn{}
	c.fd.Store(int32(fd))
	return c, nil
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
