package control

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// pktInfoOOB is room for an IP_PKTINFO or IPV6_PKTINFO control message.
const pktInfoOOB = 64

// enablePktInfo asks the kernel to say, with each datagram c receives, the
// address it came to, and reports whether it will. Only a socket on the
// wildcard address needs it: its replies would otherwise leave from the
// address the kernel picks by route, which need not be the one the client
// sent to (127.0.0.1 for a command to 127.0.1.5), and a client takes
// replies and telemetry only from the address it talks to.
func enablePktInfo(c *net.UDPConn) bool {
	ua, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok || !ua.IP.IsUnspecified() {
		return false
	}
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	on := false
	_ = raw.Control(func(fd uintptr) {
		// A dual-stack socket gets IPv4 datagrams' with IP_PKTINFO and
		// IPv6 ones' with IPV6_PKTINFO; each family refuses the other's.
		if unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1) == nil {
			on = true
		}
		if unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1) == nil {
			on = true
		}
	})
	return on
}

// pktDst is the local address a datagram came to, from its control
// messages: the interface's own address for a broadcast; none for a
// multicast, which no reply may come from.
func pktDst(oob []byte) netip.Addr {
	for len(oob) > 0 {
		level, typ, data, rest, ok := nextCmsg(oob)
		if !ok {
			return netip.Addr{}
		}
		oob = rest
		switch {
		case level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			// struct in_pktinfo: ifindex, spec_dst (the local address), addr
			a := netip.AddrFrom4([4]byte(data[4:8]))
			if a.IsUnspecified() || a.IsMulticast() {
				return netip.Addr{}
			}
			return a
		case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			// struct in6_pktinfo: addr, ifindex
			a := netip.AddrFrom16([16]byte(data[:16]))
			if a.Is4In6() {
				a = a.Unmap()
			}
			if a.IsUnspecified() || a.IsMulticast() {
				return netip.Addr{}
			}
			if a.Is6() && a.IsLinkLocalUnicast() {
				a = a.WithZone(strconv.FormatUint(uint64(binary.NativeEndian.Uint32(data[16:])), 10))
			}
			return a
		}
	}
	return netip.Addr{}
}

// pktSrc is the control message that makes a datagram leave from src.
func pktSrc(src netip.Addr) []byte {
	if src.Is4() {
		return unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: src.As4()})
	}
	info := &unix.Inet6Pktinfo{Addr: src.As16()}
	if z := src.Zone(); z != "" {
		if n, err := strconv.ParseUint(z, 10, 32); err == nil {
			info.Ifindex = uint32(n)
		}
	}
	return unix.PktInfo6(info)
}
