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

func dialUDP(target netip.AddrPort) (*sendConn, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(target))
	if err != nil {
		return nil, err
	}
	return &sendConn{c}, nil
}
