//go:build linux

package netemu

import (
	"encoding/binary"
	"testing"
)

// The checksum written makes the one's complement sum of the pseudo
// header and the datagram all ones, as a receiver checks it.
func TestFixUDPChecksum(t *testing.T) {
	payload := []byte("ok id=1 time rx=1 tx=2 rx_wall=3 tx_wall=4\n") // odd length
	f := make([]byte, 14+20+8+len(payload))
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0], ip[9] = 0x45, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	copy(ip[12:], []byte{10, 201, 0, 1, 10, 201, 0, 2})
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], 7600)
	binary.BigEndian.PutUint16(udp[2:], 50514)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	udp[6], udp[7] = 0xde, 0xad // a partial checksum, as offload leaves it
	copy(udp[8:], payload)
	fixUDPChecksum(f)
	var sum uint32
	add := func(b []byte) {
		for ; len(b) >= 2; b = b[2:] {
			sum += uint32(binary.BigEndian.Uint16(b))
		}
		if len(b) == 1 {
			sum += uint32(b[0]) << 8
		}
	}
	add(ip[12:20])
	sum += 17 + uint32(len(udp))
	add(udp)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	if sum != 0xffff || binary.BigEndian.Uint16(udp[6:]) == 0 {
		t.Fatalf("checksum %04x: sum %04x, want ffff", binary.BigEndian.Uint16(udp[6:]), sum)
	}
	// Not IPv4 UDP: left alone.
	arp := make([]byte, 60)
	binary.BigEndian.PutUint16(arp[12:], 0x0806)
	arp[40] = 1
	fixUDPChecksum(arp)
	if arp[40] != 1 {
		t.Error("an ARP frame was changed")
	}
}
