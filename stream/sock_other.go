//go:build !linux

package stream

import (
	"net"
	"net/netip"
)

// sendConn is a subscriber's connected UDP socket (see sock_linux.go for
// why Linux keeps it out of the network poller).
type sendConn = net.UDPConn

func dialUDP(target netip.AddrPort) (*sendConn, error) {
	return net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(target))
}
