//go:build !linux

package stream

import (
	"net"
	"net/netip"
)

// sendConn is a subscriber's connected UDP socket (see sock_linux.go for
// why Linux keeps it out of the network poller).
type sendConn struct{ *net.UDPConn }

func (c *sendConn) localAddr() netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

func dialUDP(target netip.AddrPort, local netip.Addr) (*sendConn, error) {
	var laddr *net.UDPAddr
	if local = sourceFor(target, local); local.IsValid() {
		laddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0))
	}
	c, err := net.DialUDP("udp", laddr, net.UDPAddrFromAddrPort(target))
	if err != nil {
		return nil, err
	}
	return &sendConn{c}, nil
}
