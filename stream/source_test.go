package stream

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestSourceFor(t *testing.T) {
	a := netip.MustParseAddr
	ap := netip.MustParseAddrPort
	for _, c := range []struct {
		target netip.AddrPort
		local  netip.Addr
		want   netip.Addr
	}{
		{ap("127.0.0.1:9"), a("127.0.1.5"), a("127.0.1.5")},
		{ap("127.0.0.1:9"), a("::ffff:127.0.1.5"), a("127.0.1.5")},
		{ap("127.0.0.1:9"), a("0.0.0.0"), netip.Addr{}},
		{ap("127.0.0.1:9"), a("::"), netip.Addr{}},
		{ap("127.0.0.1:9"), netip.Addr{}, netip.Addr{}},
		{ap("[::1]:9"), a("127.0.1.5"), netip.Addr{}},     // another family
		{ap("192.0.2.7:9"), a("127.0.1.5"), netip.Addr{}}, // loopback cannot reach the LAN
		{ap("127.0.0.1:9"), a("192.0.2.1"), a("192.0.2.1")},
		{ap("192.0.2.7:9"), a("192.0.2.1"), a("192.0.2.1")},
		{ap("[::1]:9"), a("::1"), a("::1")},
	} {
		if got := sourceFor(c.target, c.local); got != c.want {
			t.Errorf("sourceFor(%s, %s) = %s, want %s", c.target, c.local, got, c.want)
		}
	}
}

// TestSetSourceSendsFrom: with SetSource, a stream's datagrams leave from
// that address, and Source (the start reply's src=) says so.
func TestSetSourceSendsFrom(t *testing.T) {
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	s := NewSubscribers()
	s.SetSource(netip.MustParseAddr("127.0.1.7"))
	sub, _, err := s.Start(rx.LocalAddr().(*net.UDPAddr).AddrPort(), time.Second, time.Second, 0, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.conn.Close()
	if _, err := sub.conn.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	rx.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, from, err := rx.ReadFromUDPAddrPort(make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	if from.Addr().Unmap() != netip.MustParseAddr("127.0.1.7") || from != sub.Source {
		t.Errorf("datagram from %s, Source %s; want both 127.0.1.7", from, sub.Source)
	}
}
