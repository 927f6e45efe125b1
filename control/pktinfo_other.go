//go:build !linux

package control

import (
	"net"
	"net/netip"
)

const pktInfoOOB = 0

// enablePktInfo: replies leave from the address the system picks.
func enablePktInfo(*net.UDPConn) bool { return false }

func pktDst([]byte) netip.Addr { return netip.Addr{} }

func pktSrc(netip.Addr) []byte { return nil }
