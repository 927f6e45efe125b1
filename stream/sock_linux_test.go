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
			c, err := dialUDP(ap, netip.Addr{})
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
	if _, err := dialUDP(netip.MustParseAddrPort("[fe80::1%no-such-interface]:9"), netip.Addr{}); err == nil {
		t.Error("unknown zone: no error")
	}
}
