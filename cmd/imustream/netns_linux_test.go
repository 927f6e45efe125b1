package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imustream/imustream/control"
)

// netnsPair makes two network namespaces joined by a veth pair on a
// private /30, 10.200.0.1 (daemon side) and 10.200.0.2 (receiver side),
// and removes them when the test ends. The addresses exist only inside
// the namespaces: nothing the test sends can leave them. It skips the
// test where namespaces cannot be made.
func netnsPair(t *testing.T) (daemonNS, rxNS string, ip func(args ...string)) {
	t.Helper()
	suffix := strconv.Itoa(os.Getpid())
	daemonNS, rxNS = "imustream-d"+suffix, "imustream-r"+suffix
	ip = netnsAdd(t, daemonNS, rxNS)
	ip("-n", daemonNS, "link", "add", "vd", "type", "veth", "peer", "name", "vr", "netns", rxNS)
	for _, side := range []struct{ ns, dev, addr string }{{daemonNS, "vd", "10.200.0.1/30"}, {rxNS, "vr", "10.200.0.2/30"}} {
		ip("-n", side.ns, "addr", "add", side.addr, "dev", side.dev)
		ip("-n", side.ns, "link", "set", side.dev, "up")
		ip("-n", side.ns, "link", "set", "lo", "up")
	}
	return daemonNS, rxNS, ip
}

// netnsAdd makes the network namespaces named, removed when the test
// ends, and returns a runner of ip(8) that fails the test on an error. It
// skips the test where namespaces cannot be made.
func netnsAdd(t *testing.T, names ...string) (ip func(args ...string)) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("%s needs root to create network namespaces (CI runs as root): NOT run", t.Name())
	}
	ipPath, err := exec.LookPath("ip")
	if err != nil {
		t.Skipf("%s needs the ip command (iproute2) to create network namespaces: NOT run", t.Name())
	}
	run := func(args ...string) error {
		out, err := exec.Command(ipPath, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	for _, ns := range names {
		if err := run("netns", "add", ns); err != nil {
			t.Skipf("cannot create a network namespace here (%v): %s NOT run", err, t.Name())
		}
		t.Cleanup(func() {
			if err := run("netns", "del", ns); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
	}
	return func(args ...string) {
		t.Helper()
		if err := run(args...); err != nil {
			t.Fatal(err)
		}
	}
}

// inNetns runs f on a thread inside network namespace ns: a socket f
// opens stays there. The test's other threads never change namespace.
func inNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// The thread stays locked and ends with this goroutine, so no
			// other goroutine runs in the wrong namespace.
			errc <- fmt.Errorf("setns back: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// listenIn opens a UDP socket inside network namespace ns.
func listenIn(ns, addr string) (*net.UDPConn, error) {
	var c *net.UDPConn
	err := inNetns(ns, func() (err error) {
		c, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
		return err
	})
	if err != nil && c != nil {
		c.Close()
		c = nil
	}
	return c, err
}

// TestNetworkDownAndUp: the daemon's link goes down and comes back. Sends
// fail while it is down and are counted; the stream resumes by itself,
// same session, no restart, and the receiver is not pruned. The daemon
// runs as a real process in its own namespace.
func TestNetworkDownAndUp(t *testing.T) {
	daemonNS, rxNS, ip := netnsPair(t)
	const device = "10.200.0.1:7600"
	cmd := exec.Command("ip", "netns", "exec", daemonNS, bin, "run", "--sim", "--listen", device, "--allow", "10.200.0.2/32")
	d := startProc(t, cmd)

	rxConn, err := listenIn(rxNS, "10.200.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	ctlConn, err := listenIn(rxNS, "10.200.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	rx := &udpPeer{t: t, conn: rxConn, dev: netip.MustParseAddrPort(device)}
	ctl := &udpPeer{t: t, conn: ctlConn, dev: rx.dev}
	t.Cleanup(func() { rxConn.Close(); ctlConn.Close() })
	stream := receive(rx)
	ask := func(line string) control.Reply {
		t.Helper()
		ctl.send([]byte(line))
		buf := make([]byte, 2048)
		_ = ctl.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := ctl.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		r, err := control.ParseReply(buf[:n])
		if err != nil || !r.OK {
			t.Fatalf("%q: %q %v", line, buf[:n], err)
		}
		return r
	}
	ask("id=1 start :" + strconv.Itoa(int(rx.addr().Port())) + "\n")
	stream.wait(t, 100)
	before := ask("id=2 status\n")

	ip("-n", daemonNS, "link", "set", "vd", "down")
	wentDown := time.Now()
	down := stream.count()
	time.Sleep(time.Second)
	ip("-n", daemonNS, "link", "set", "vd", "up")
	downFor := time.Since(wentDown)
	stream.wait(t, down+200)
	after := ask("id=3 status\n")

	get := func(r control.Reply, k string) uint64 {
		v, _ := r.Get(k)
		base := 10
		if k == "session" {
			base = 16
		}
		n, err := strconv.ParseUint(v, base, 64)
		if err != nil {
			t.Fatalf("status %s=%q", k, v)
		}
		return n
	}
	if get(after, "session") != get(before, "session") {
		t.Errorf("session %x became %x: the stream restarted", get(before, "session"), get(after, "session"))
	}
	sendErrors := get(after, "send_errors") - get(before, "send_errors")
	if sendErrors == 0 {
		t.Error("no send errors counted while the link was down")
	}
	if get(after, "pruned") != 0 || get(after, "subscribers") != 1 {
		t.Errorf("pruned=%d subscribers=%d, want 0 and 1", get(after, "pruned"), get(after, "subscribers"))
	}

	stream.mu.Lock()
	seqs, sessions := append([]uint32(nil), stream.samples...), append([]uint32(nil), stream.session...)
	stream.mu.Unlock()
	lost := 0
	for i := 1; i < len(seqs); i++ {
		if sessions[i] != sessions[0] {
			t.Fatalf("session changed at sample %d", i)
		}
		if d := int32(seqs[i] - seqs[i-1]); d <= 0 {
			t.Fatalf("seq %d after %d", seqs[i], seqs[i-1])
		} else {
			lost += int(d) - 1
		}
	}
	if lost < int(sendErrors) {
		t.Errorf("%d samples lost but %d sends failed: a failed send lost nothing?", lost, sendErrors)
	}
	t.Logf("link down %v: %d sends failed and counted, %d samples lost, stream resumed in session %08x",
		downFor.Round(time.Millisecond), sendErrors, lost, sessions[0])
	// The log says so about once a second, not once per failed send.
	if n, limit := strings.Count(d.stderr.String(), "send failed"), int(downFor/time.Second)+2; n > limit {
		t.Errorf("%d \"send failed\" log lines for %d failed sends in %v, want at most %d", n, sendErrors, downFor, limit)
	}

	// A second subscriber whose port is closed, across the link: unlike
	// loopback, the receiving host rate-limits its ICMP errors (about one
	// a second after a burst), and the subscriber must still be pruned,
	// while the first stream goes on untouched.
	closed, err := listenIn(rxNS, "10.200.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.LocalAddr().(*net.UDPAddr).Port
	closed.Close()
	ask("id=4 start 10.200.0.2:" + strconv.Itoa(closedPort) + "\n")
	began := time.Now()
	var st control.Reply
	for i := 0; ; i++ {
		st = ask("id=p" + strconv.Itoa(i) + " status\n")
		if get(st, "pruned") == 1 {
			break
		}
		if time.Since(began) > time.Minute {
			t.Fatalf("closed port not pruned after %v: send_errors %d", time.Since(began), get(st, "send_errors")-get(after, "send_errors"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if get(st, "subscribers") != 1 {
		t.Errorf("subscribers=%d after pruning, want 1", get(st, "subscribers"))
	}
	n := stream.count()
	stream.wait(t, n+50)
	stream.mu.Lock()
	seqs = append(seqs[:0], stream.samples...)
	stream.mu.Unlock()
	lostNow := 0
	for i := 1; i < len(seqs); i++ {
		lostNow += int(seqs[i]-seqs[i-1]) - 1
	}
	if lostNow != lost {
		t.Errorf("the first stream lost %d more samples while the other subscriber was refused", lostNow-lost)
	}
	t.Logf("closed port across the link: pruned after %v, %d refused sends", time.Since(began).Round(100*time.Millisecond),
		get(st, "send_errors")-get(after, "send_errors"))

	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		d.done <- err
		if err != nil {
			t.Errorf("daemon exit after SIGTERM: %v\n%s", err, d.stderr)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("daemon ignored SIGTERM:\n%s", d.stderr)
	}
	deadline := time.Now().Add(2 * time.Second)
	for stream.endCount() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := stream.endCount(); n != 1 {
		t.Errorf("%d end-of-stream datagrams after SIGTERM, want 1", n)
	}
}
