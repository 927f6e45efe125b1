package control

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPktDst(t *testing.T) {
	v4 := func(local, dst [4]byte) []byte {
		return unix.PktInfo4(&unix.Inet4Pktinfo{Ifindex: 1, Spec_dst: local, Addr: dst})
	}
	v6 := func(a netip.Addr, ifindex uint32) []byte {
		return unix.PktInfo6(&unix.Inet6Pktinfo{Addr: a.As16(), Ifindex: ifindex})
	}
	other := unix.UnixRights(0) // another control message before it
	for _, c := range []struct {
		name string
		oob  []byte
		want string
	}{
		{"none", nil, "invalid IP"},
		{"unicast", v4([4]byte{127, 0, 1, 5}, [4]byte{127, 0, 1, 5}), "127.0.1.5"},
		{"broadcast: the interface's address", v4([4]byte{192, 0, 2, 1}, [4]byte{255, 255, 255, 255}), "192.0.2.1"},
		{"after another message", append(append([]byte{}, other...), v4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 1})...), "10.0.0.1"},
		{"multicast", v6(netip.MustParseAddr("ff02::fb"), 2), "invalid IP"},
		{"IPv6", v6(netip.MustParseAddr("::1"), 1), "::1"},
		{"v4-mapped", v6(netip.MustParseAddr("::ffff:127.0.1.5"), 1), "127.0.1.5"},
		{"link-local", v6(netip.MustParseAddr("fe80::1"), 3), "fe80::1%3"},
		{"truncated", v4([4]byte{1, 2, 3, 4}, [4]byte{1, 2, 3, 4})[:20], "invalid IP"},
	} {
		if got := pktDst(c.oob).String(); got != c.want {
			t.Errorf("%s: pktDst = %s, want %s", c.name, got, c.want)
		}
	}
}

// FuzzPktDst: any control messages give no address or a unicast one that
// pktSrc encodes; never a panic.
func FuzzPktDst(f *testing.F) {
	f.Add(unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: [4]byte{127, 0, 1, 5}, Addr: [4]byte{127, 0, 1, 5}}))
	f.Add(unix.PktInfo6(&unix.Inet6Pktinfo{Addr: netip.MustParseAddr("fe80::1").As16(), Ifindex: 2}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, oob []byte) {
		a := pktDst(oob)
		if !a.IsValid() {
			return
		}
		if a.IsMulticast() || a.IsUnspecified() || a.Is4In6() {
			t.Fatalf("pktDst gave %s", a)
		}
		if len(pktSrc(a)) == 0 {
			t.Fatalf("pktSrc(%s) is empty", a)
		}
	})
}
