package stream

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSendConn: the sender's own sockets reach IPv4 and IPv6 loopback
// (a zone given by name or number), report a refused port as
// ECONNREFUSED, and refuse writes after Close.
func TestSendConn(t *testing.T) {
	lo, err := net.InterfaceByIndex(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ network, ip, zone string }{
		{"udp4", "127.0.0.1", ""},
		{"udp6", "::1", ""},
		{"udp6", "::1", lo.Name},
		{"udp6", "::1", strconv.Itoa(lo.Index)},
	} {
		t.Run(tc.ip+"%"+tc.zone, func(t *testing.T) {
			rx, err := net.ListenUDP(tc.network, &net.UDPAddr{IP: net.ParseIP(tc.ip)})
			if err != nil {
				t.Skipf("no %s loopback here: %v", tc.network, err) // IPv6 may be off in a container
			}
			defer rx.Close()
			ap := rx.LocalAddr().(*net.UDPAddr).AddrPort()
			ap = netip.AddrPortFrom(ap.Addr().WithZone(tc.zone), ap.Port())
			c, err := dialUDP(ap, netip.Addr{}, newSpareSocket())
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("imustream")
			if n, err := c.Write(msg); err != nil || n != len(msg) {
				t.Fatalf("Write = %d, %v", n, err)
			}
			buf := make([]byte, 64)
			_ = rx.SetReadDeadline(time.Now().Add(rxTimeout))
			n, _, err := rx.ReadFromUDP(buf)
			if err != nil || !bytes.Equal(buf[:n], msg) {
				t.Fatalf("received %q, %v; want %q", buf[:n], err, msg)
			}
			// Nobody listens any more: the kernel's port-unreachable comes
			// back as ECONNREFUSED on a later write.
			rx.Close()
			var werr error
			for range 100 {
				if _, werr = c.Write(msg); werr != nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
			if !errors.Is(werr, syscall.ECONNREFUSED) {
				t.Errorf("write to a closed port: %v, want ECONNREFUSED", werr)
			}
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if _, err := c.Write(msg); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Write after Close: %v, want net.ErrClosed", err)
			}
			if err := c.Close(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("second Close: %v, want net.ErrClosed", err)
			}
		})
	}
	if _, err := dialUDP(netip.MustParseAddrPort("[fe80::1%no-such-interface]:9"), netip.Addr{}, newSpareSocket()); err == nil {
		t.Error("unknown zone: no error")
	}
}

// TestSpareSocket: a spare is made like the last socket taken and taken
// only by a socket of its family and source; one that does not fit is
// closed, and so is the spare when its set goes.
func TestSpareSocket(t *testing.T) {
	sp := newSpareSocket()
	sp.refill() // nothing taken yet: nothing to make
	if sp.fd != -1 {
		t.Fatalf("spare %d before any socket was taken", sp.fd)
	}
	lo := netip.MustParseAddr("127.0.0.1")
	a, err := sp.take(syscall.AF_INET, lo)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(a)
	sp.refill()
	spare := sp.fd
	if spare < 0 {
		t.Fatal("no spare after refill")
	}
	if got := boundTo(t, spare); got.Addr() != lo || got.Port() == 0 {
		t.Errorf("spare bound to %v, want 127.0.0.1 and a port", got)
	}
	b, err := sp.take(syscall.AF_INET, lo)
	if err != nil || b != spare {
		t.Fatalf("take = %d, %v; want the spare %d", b, err, spare)
	}
	defer syscall.Close(b)
	sp.refill()
	other := sp.fd
	c, err := sp.take(syscall.AF_INET, netip.MustParseAddr("127.0.0.2"))
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(c)
	// (The closed spare's number may come back as c's.)
	if boundTo(t, c).Addr() != netip.MustParseAddr("127.0.0.2") {
		t.Errorf("take for 127.0.0.2 gave %d bound to %v (spare was %d)", c, boundTo(t, c), other)
	}
	if isOpen(other) && other != c {
		t.Errorf("the spare that did not fit (%d) is still open", other)
	}
	sp.refill()
	last := sp.fd
	sp.close()
	if sp.fd != -1 || isOpen(last) {
		t.Errorf("close left the spare %d open", last)
	}
}

// TestStartTakesSpare: a set's second start sends from the socket made
// after its first.
func TestStartTakesSpare(t *testing.T) {
	subs := NewSubscribers()
	subs.SetSource(netip.MustParseAddr("127.0.0.1"))
	rx1, rx2 := newReceiver(t), newReceiver(t)
	first, _, err := subs.Start(rx1.addr(), 0, time.Second, 0, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	spare := boundTo(t, subs.spare.fd)
	second, _, err := subs.Start(rx2.addr(), 0, time.Second, 0, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if second.Source != spare {
		t.Errorf("second stream sends from %v, want the spare's %v (first: %v)", second.Source, spare, first.Source)
	}
	for _, sub := range subs.List() {
		sub.conn.Close()
	}
	subs.spare.close()
}

// boundTo is the address socket fd sends from (sendConn.localAddr).
func boundTo(t *testing.T, fd int) netip.AddrPort {
	t.Helper()
	c := &sendConn{}
	c.fd.Store(int32(fd))
	a := c.localAddr()
	if !a.IsValid() {
		t.Fatalf("socket %d: no local address", fd)
	}
	return a
}

func isOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}
