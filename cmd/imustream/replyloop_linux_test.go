package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestNoReplyLoopNetns is the attack review's reply loop as the review ran
// it: two daemons, real processes, in a network namespace the test makes,
// and one forged datagram from a raw socket there, with daemon B's address
// and port (or A's own) as its source, sent to daemon A. Before the fix a
// 20-byte "err unknown-command" made A and B answer each other at tens of
// thousands of packets a second. Every UDP datagram the namespace's stack
// takes in or sends is counted (/proc/PID/net/snmp): after a seed at most
// two are exchanged (the seed and one shorter reply), and the daemons use
// next to no CPU.
func TestNoReplyLoopNetns(t *testing.T) {
	if emulated {
		t.Skip("under qemu-user: raw sockets and /proc/PID/net are the host's")
	}
	ns := "imustream-l" + strconv.Itoa(os.Getpid())
	ip := netnsAdd(t, ns)
	ip("-n", ns, "link", "set", "lo", "up")
	a := netip.MustParseAddrPort("127.0.0.1:7601")
	b := netip.MustParseAddrPort("127.0.0.1:7602")
	var pids []int
	for _, addr := range []netip.AddrPort{a, b} {
		p := startProc(t, exec.Command("ip", "netns", "exec", ns, bin, "run", "--sim", "--listen", addr.String(), "--announce=false", "--rt-priority", "0"))
		pids = append(pids, p.cmd.Process.Pid)
	}
	var raw int
	if err := inNetns(ns, func() (err error) {
		raw, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
		return err
	}); err != nil {
		t.Fatalf("raw socket in %s: %v", ns, err)
	}
	defer unix.Close(raw)

	malformed := "frobnicate the daemon with a command it does not know\n"
	for _, seed := range []struct {
		name     string
		from, to netip.AddrPort
		payload  string
	}{
		{"err from B to A", b, a, "err unknown-command\n"},
		{"ok from B to A", b, a, "ok ping\n"},
		{"id and err from B to A", b, a, "id=7 err bad-request\n"},
		{"malformed from B to A", b, a, malformed},
		{"err from A to itself", a, a, "err unknown-command\n"},
		{"malformed from A to itself", a, a, malformed},
	} {
		in0, out0 := udpCounters(t, pids[0])
		cpu0 := cpuNanos(t, pids...)
		pkt := forgedUDP(seed.from, seed.to, []byte(seed.payload))
		if err := unix.Sendto(raw, pkt, 0, &unix.SockaddrInet4{Addr: seed.to.Addr().As4()}); err != nil {
			t.Fatalf("%s: sending: %v", seed.name, err)
		}
		time.Sleep(time.Second)
		in1, out1 := udpCounters(t, pids[0])
		cpu := time.Duration(cpuNanos(t, pids...) - cpu0)
		in, out := in1-in0, out1-out0
		t.Logf("%s: %d datagrams in, %d out in the next second; daemons' CPU %v", seed.name, in, out, cpu)
		if in < 1 {
			t.Errorf("%s: the forged datagram never arrived (%d in): the test proves nothing", seed.name, in)
		}
		if in > 2 || out > 1 {
			t.Errorf("%s: %d datagrams in and %d out after one forged datagram; want at most 2 and 1: a reply loop", seed.name, in, out)
		}
		if cpu > 200*time.Millisecond {
			t.Errorf("%s: the daemons used %v of CPU in the second after it: a loop", seed.name, cpu)
		}
	}
}

// forgedUDP is an IPv4 datagram from src to dst carrying payload, for a
// raw socket (IPPROTO_RAW: the header is ours; the kernel fills in its
// checksum). The UDP checksum is 0: none, which IPv4 allows.
func forgedUDP(src, dst netip.AddrPort, payload []byte) []byte {
	pkt := make([]byte, 28+len(payload))
	pkt[0] = 0x45
	binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
	pkt[8] = 64
	pkt[9] = unix.IPPROTO_UDP
	s, d := src.Addr().As4(), dst.Addr().As4()
	copy(pkt[12:], s[:])
	copy(pkt[16:], d[:])
	binary.BigEndian.PutUint16(pkt[20:], src.Port())
	binary.BigEndian.PutUint16(pkt[22:], dst.Port())
	binary.BigEndian.PutUint16(pkt[24:], uint16(8+len(payload)))
	copy(pkt[28:], payload)
	return pkt
}

// udpCounters reads InDatagrams and OutDatagrams of the network
// namespace process pid is in.
func udpCounters(t *testing.T, pid int) (in, out uint64) {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/snmp", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = fields
			continue
		}
		for i, v := range fields {
			n, _ := strconv.ParseUint(v, 10, 64)
			switch names[i] {
			case "InDatagrams":
				in = n
			case "OutDatagrams":
				out = n
			}
		}
		return in, out
	}
	t.Fatalf("no Udp counters in /proc/%d/net/snmp", pid)
	return 0, 0
}

// cpuNanos sums the time every thread of the processes ran, from the
// scheduler's accounting.
func cpuNanos(t *testing.T, pids ...int) int64 {
	t.Helper()
	var sum int64
	for _, pid := range pids {
		stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
		if err != nil || len(stats) == 0 {
			t.Fatalf("no threads of %d: %v", pid, err)
		}
		for _, p := range stats {
			b, err := os.ReadFile(p)
			if err != nil {
				continue // a thread that ended
			}
			if f := strings.Fields(string(b)); len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				sum += n
			}
		}
	}
	return sum
}
