package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/netemu"
)

// delayedLink makes three network namespaces: the daemon's (vd,
// 10.201.0.1), the receiver's (vr, 10.201.0.2) and one between them
// whose two interfaces are joined with 5 ms ± 1 ms of delay each way:
// tc netem where the kernel has it, else a netemu.Bridge (the same delay,
// drawn the same way, in user space). It says which it used.
func delayedLink(t *testing.T) (daemonNS, rxNS, how string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces (CI runs as root); time sync across a delayed link NOT tested")
	}
	ipPath, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("needs the ip command (iproute2); time sync across a delayed link NOT tested")
	}
	run := func(name string, args ...string) error {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
		}
		return nil
	}
	ip := func(args ...string) {
		t.Helper()
		if err := run(ipPath, args...); err != nil {
			t.Fatal(err)
		}
	}
	suffix := strconv.Itoa(os.Getpid())
	daemonNS, rxNS = "imustream-sd"+suffix, "imustream-sr"+suffix
	midNS := "imustream-sm" + suffix
	for _, ns := range []string{daemonNS, rxNS, midNS} {
		if err := run(ipPath, "netns", "add", ns); err != nil {
			t.Skipf("cannot create a network namespace here (%v); time sync across a delayed link NOT tested", err)
		}
		t.Cleanup(func() { _ = run(ipPath, "netns", "del", ns) })
	}
	ip("-n", daemonNS, "link", "add", "vd", "type", "veth", "peer", "name", "md", "netns", midNS)
	ip("-n", rxNS, "link", "add", "vr", "type", "veth", "peer", "name", "mr", "netns", midNS)
	for _, s := range []struct{ ns, dev, addr string }{{daemonNS, "vd", "10.201.0.1/24"}, {rxNS, "vr", "10.201.0.2/24"}} {
		ip("-n", s.ns, "addr", "add", s.addr, "dev", s.dev)
		ip("-n", s.ns, "link", "set", s.dev, "up")
		ip("-n", s.ns, "link", "set", "lo", "up")
	}
	for _, dev := range []string{"md", "mr"} {
		ip("-n", midNS, "link", "set", dev, "up")
	}
	tc, terr := exec.LookPath("tc")
	if terr == nil {
		terr = run(tc, "-n", midNS, "qdisc", "add", "dev", "md", "root", "netem", "delay", "5ms", "1ms")
	}
	if terr == nil {
		if err := run(tc, "-n", midNS, "qdisc", "add", "dev", "mr", "root", "netem", "delay", "5ms", "1ms"); err != nil {
			t.Fatal(err)
		}
		ip("-n", midNS, "link", "add", "br0", "type", "bridge")
		ip("-n", midNS, "link", "set", "md", "master", "br0")
		ip("-n", midNS, "link", "set", "mr", "master", "br0")
		ip("-n", midNS, "link", "set", "br0", "up")
		return daemonNS, rxNS, "tc netem delay 5ms 1ms on both sides of a bridge"
	}
	br, err := netemu.Start(midNS, "md", "mr", 5*time.Millisecond, time.Millisecond, uint64(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(br.Close)
	return daemonNS, rxNS, fmt.Sprintf("a user-space bridge delaying 5 ms ± 1 ms each way (tc netem unavailable: %v)", terr)
}

// TestTimeSyncDelayedLink: daemon and recorder in two namespaces joined
// by a link of 5 ms ± 1 ms each way. Both namespaces share the kernel's
// clocks, so a sample's t_wall_ns is the truth its t_pc_ns estimates; the
// recorder knows only the exchanges. The bounds are generous for a busy
// machine; the figures measured are in the notes.
func TestTimeSyncDelayedLink(t *testing.T) {
	if emulated {
		t.Skip("under qemu: network namespaces and timing are the host's")
	}
	daemonNS, rxNS, how := delayedLink(t)
	const device = "10.201.0.1:7600"
	startProc(t, exec.Command("ip", "netns", "exec", daemonNS, bin, "run", "--sim", "--listen", device, "--allow", "10.201.0.2/32"))
	seconds := 6
	if v := os.Getenv("IMUSTREAM_SYNC_SECONDS"); v != "" {
		seconds, _ = strconv.Atoi(v)
	}
	out := filepath.Join(t.TempDir(), "run.csv")
	rec := exec.Command("ip", "netns", "exec", rxNS, bin, "record", "--device", device, "--duration", strconv.Itoa(seconds)+"s", "--out", out, "--retries", "10")
	summary, err := rec.CombinedOutput()
	f, ferr := os.Open(out)
	if ferr != nil {
		t.Fatalf("record: %v, %v\n%s", err, ferr, summary)
	}
	if err != nil {
		// A busy machine can hold the stop's reply past its second: the
		// rows are in place all the same, and they are what is measured.
		t.Logf("record: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 100 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	var all, settled, signed []int64
	first := int64(0)
	for _, r := range rows[1:] {
		pc, err1 := strconv.ParseInt(r[col["t_pc_ns"]], 10, 64)
		wall, err2 := strconv.ParseInt(r[col["t_wall_ns"]], 10, 64)
		mono, err3 := strconv.ParseInt(r[col["t_mono_ns"]], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("row %v", r)
		}
		if first == 0 {
			first = mono
		}
		e := max(pc-wall, wall-pc)
		signed = append(signed, pc-wall)
		all = append(all, e)
		if mono-first >= int64(2*time.Second) {
			settled = append(settled, e)
		}
	}
	slices.Sort(all)
	slices.Sort(settled)
	slices.Sort(signed)
	q := func(s []int64, p float64) time.Duration { return time.Duration(s[int(p*float64(len(s)-1))]) }
	t.Logf("%s; %d samples: |t_pc − t_wall| p50 %v p99 %v max %v; after the first 2 s p99 %v max %v; t_pc − t_wall from %v to %v, median %v\n%s",
		how, len(all), q(all, 0.5), q(all, 0.99), q(all, 1), q(settled, 0.99), q(settled, 1), q(signed, 0), q(signed, 1), q(signed, 0.5), summary)
	if p99 := q(all, 0.99); p99 > 1500*time.Microsecond {
		t.Errorf("p99 %v across a link of 5 ms ± 1 ms", p99)
	}
	if worst := q(settled, 1); worst > 2*time.Millisecond {
		t.Errorf("after 2 s an error of %v", worst)
	}
	if !strings.Contains(string(summary), "time sync      offset") {
		t.Errorf("the summary does not show the time sync:\n%s", summary)
	}
}
