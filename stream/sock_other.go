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

// spareSocket is where Linux keeps a socket made ahead of the next
// subscriber's (see sock_linux.go); here there is none.
type spareSocket struct{}

func newSpareSocket() *spareSocket { return &spareSocket{} }
func (*spareSocket) refill()       {}
func (*spareSocket) close()        {}

func dialUDP(target netip.AddrPort, local netip.Addr, _ *spareSocket) (*sendConn, error) {
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
