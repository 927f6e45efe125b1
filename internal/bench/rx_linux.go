package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// tsConn is a UDP socket that reports each datagram's kernel receive time
// (SO_TIMESTAMPNS). On loopback the kernel stamps a datagram when the
// sender's write hands it to the network stack, so the stamp is the
// sender's timing, untouched by how late this process gets to read it.
type tsConn struct {
	*net.UDPConn
	buf, oob []byte
}

// errNoTimestamp means a datagram came without its receive time.
var errNoTimestamp = errors.New("bench: datagram without SO_TIMESTAMPNS control message")

// listenTS opens a timestamping socket on addr ("127.0.0.1:0").
func listenTS(addr netip.AddrPort) (*tsConn, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, fmt.Errorf("bench: listen %s: %w", addr, err)
	}
	raw, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
		// Seconds of stream, so a reader starved by --load loses nothing;
		// with CAP_NET_ADMIN the FORCE variant is not capped by rmem_max.
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("bench: SO_TIMESTAMPNS: %w", err)
	}
	return &tsConn{UDPConn: c, buf: make([]byte, 65536), oob: make([]byte, 128)}, nil
}

// addr is the socket's local address.
func (c *tsConn) addr() netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// read returns the next datagram (valid until the next read), its sender
// and its kernel receive time in CLOCK_REALTIME ns. A zero deadline waits
// forever.
func (c *tsConn) read(deadline time.Time) ([]byte, netip.AddrPort, int64, error) {
	if err := c.SetReadDeadline(deadline); err != nil {
		return nil, netip.AddrPort{}, 0, fmt.Errorf("bench: %w", err)
	}
	n, oobn, _, from, err := c.ReadMsgUDPAddrPort(c.buf, c.oob)
	if err != nil {
		return nil, from, 0, err
	}
	ts, err := rxTimestamp(c.oob[:oobn])
	return c.buf[:n], from, ts, err
}

// rxTimestamp finds SCM_TIMESTAMPNS among the control messages; it does
// not allocate.
func rxTimestamp(oob []byte) (int64, error) {
	for len(oob) > 0 {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return 0, fmt.Errorf("bench: control message: %w", err)
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS {
			// A struct timespec of the platform's word size.
			switch len(data) {
			case 16:
				return int64(binary.NativeEndian.Uint64(data))*1e9 + int64(binary.NativeEndian.Uint64(data[8:])), nil
			case 8:
				return int64(int32(binary.NativeEndian.Uint32(data)))*1e9 + int64(int32(binary.NativeEndian.Uint32(data[4:]))), nil
			}
			return 0, fmt.Errorf("bench: timestamp of %d bytes", len(data))
		}
		oob = rest
	}
	return 0, errNoTimestamp
}

// isTimeout says whether err is a read deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
