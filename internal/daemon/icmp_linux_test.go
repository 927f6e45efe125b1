package daemon_test

import (
	"encoding/binary"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// icmpUnreachable is an ICMP port unreachable message quoting a UDP
// datagram from src to dst, as a router or host would send back to src.
func icmpUnreachable(src, dst netip.AddrPort) []byte {
	ip := make([]byte, 20)
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], 20+8+64)
	ip[8] = 64
	ip[9] = unix.IPPROTO_UDP
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	copy(ip[12:], s4[:])
	copy(ip[16:], d4[:])
	binary.BigEndian.PutUint16(ip[10:], checksum(ip))
	udp := make([]byte, 8)
	binary.BigEndian.PutUint16(udp[0:], src.Port())
	binary.BigEndian.PutUint16(udp[2:], dst.Port())
	binary.BigEndian.PutUint16(udp[4:], 8+64)
	msg := append([]byte{3, 3, 0, 0, 0, 0, 0, 0}, ip...) // type 3, code 3
	msg = append(msg, udp...)
	binary.BigEndian.PutUint16(msg[2:], checksum(msg))
	return msg
}

func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// TestForgedICMPHarmless: ICMP is unauthenticated. 10,000 forged "port
// unreachable" messages, one at a time, aimed at a live subscriber's
// stream (25 of them used to end it) do not end a reading, lease-refreshing subscriber, and
// it loses no sample. The messages do reach the daemon's socket: its sends
// to the subscriber are refused meanwhile, and counted.
func TestForgedICMPHarmless(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("forging ICMP needs a raw socket, and a raw socket needs root")
	}
	raw, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
	if err != nil {
		t.Skipf("raw ICMP socket: %v", err)
	}
	defer unix.Close(raw)

	d := startDaemon(t, daemonOpts{})
	rx := newPeer(t, d, "127.0.0.1")
	var s received
	rx.send("id=s0 start lease=3s\n")
	r := rx.reply("s0", s.add)
	src, err := netip.ParseAddrPort(func() string { v, _ := r.Get("src"); return v }())
	if err != nil {
		t.Fatalf("start reply without src=: %+v", r)
	}
	const forged = 10_000
	msg := icmpUnreachable(src, rx.addr())
	to := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	done := make(chan error, 1)
	go func() {
		for range forged {
			if err := unix.Sendto(raw, msg, 0, to); err != nil {
				done <- err
				return
			}
			// One at a time, ~10,000/s, across lease refreshes: each
			// forged message must cost nothing. (A burst dense enough to
			// land between each of the daemon's back-to-back tries can
			// cost a sample, as any flood can; under qemu the forger and
			// the tries run at the same speed and such bursts form.)
			// A busy wait: time.Sleep rounds 100 µs up to about 1 ms.
			for t0 := time.Now(); time.Since(t0) < 100*time.Microsecond; {
			}
		}
		done <- nil
	}()
	refreshes := 0
	nextRefresh := time.Now().Add(time.Second)
	deadline := time.Now().Add(60 * time.Second)
	for sent := false; !sent || len(s.seqs) < 600; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("sending forged ICMP: %v", err)
			}
			sent = true
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d samples in 60 s", len(s.seqs))
		}
		// Seconds, not one: on a busy machine this test's process may
		// not run for a while; the lease (3 s) is what must not lapse.
		pk, ok := rx.next(5 * time.Second)
		if !ok {
			t.Fatalf("the stream stopped after %d samples", len(s.seqs))
		}
		if pk.dg != nil {
			s.add(pk.dg)
		}
		if time.Now().After(nextRefresh) { // a lease refresh each second, as a client does
			refreshes++
			nextRefresh = nextRefresh.Add(time.Second)
			rx.send("id=r" + strconv.Itoa(refreshes) + " start lease=3s\n")
		}
	}
	if s.end != nil {
		t.Fatalf("the stream ended: %+v", s.end)
	}
	contiguous(t, s.seqs)
	st := d.Stats()
	if st.Pruned != 0 || len(d.Targets()) != 1 {
		t.Errorf("pruned %d, %d targets: the forged ICMP ended the stream", st.Pruned, len(d.Targets()))
	}
	if st.SendErrors == 0 {
		t.Error("no send was refused: the forged ICMP never reached the daemon, the test proves nothing")
	}
	t.Logf("%d forged ICMP messages: %d samples, 0 lost, %d sends refused, pruned %d", forged, len(s.seqs), st.SendErrors, st.Pruned)
}
