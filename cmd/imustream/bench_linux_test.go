package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mustListenTS opens a timestamping socket, or skips the test where the
// system has no SO_TIMESTAMPNS (qemu-user emulation, for one).
func mustListenTS(t *testing.T) *tsConn {
	t.Helper()
	rx, err := listenTS(netip.MustParseAddrPort("127.0.0.1:0"))
	if errors.Is(err, unix.ENOPROTOOPT) {
		t.Skipf("no kernel receive timestamps here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close() })
	return rx
}

// TestTimestampReceiver checks that every datagram read on loopback comes
// with its kernel receive time, in order, on the wall clock.
func TestTimestampReceiver(t *testing.T) {
	rx := mustListenTS(t)
	tx, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(rx.addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	var prev int64
	for i := range 50 {
		before := time.Now().UnixNano()
		msg := fmt.Sprintf("datagram %d", i)
		if _, err := tx.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		b, from, ts, err := rx.read(time.Now().Add(10 * time.Second))
		after := time.Now().UnixNano()
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		if string(b) != msg || from != tx.LocalAddr().(*net.UDPAddr).AddrPort() {
			t.Fatalf("datagram %d: got %q from %v", i, b, from)
		}
		// The stamp is taken between the send and the read, on
		// CLOCK_REALTIME (a clock step during the test would fail it).
		if ts < before || ts > after {
			t.Errorf("datagram %d: stamp %d outside [%d, %d]", i, ts, before, after)
		}
		if ts < prev {
			t.Errorf("datagram %d: stamp %d before the previous one %d", i, ts, prev)
		}
		prev = ts
	}
}

// cmsg builds one control message with data.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func TestRxTimestampParse(t *testing.T) {
	ts := unix.Timespec{Sec: 1767225600, Nsec: 123456789}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts))
	other := cmsg(unix.SOL_IP, unix.IP_TTL, []byte{64, 0, 0, 0})
	stamp := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, raw)
	for _, tc := range []struct {
		name string
		oob  []byte
		want int64
		err  bool
	}{
		{"alone", stamp, 1767225600123456789, false},
		{"after another", append(append([]byte{}, other...), stamp...), 1767225600123456789, false},
		{"none", other, 0, true},
		{"empty", nil, 0, true},
		{"truncated", stamp[:len(stamp)-len(raw)/2-4], 0, true},
	} {
		got, err := rxTimestamp(tc.oob)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%s: rxTimestamp = %d, %v; want %d, error %v", tc.name, got, err, tc.want, tc.err)
		}
	}
	if _, err := rxTimestamp(other); !errors.Is(err, errNoTimestamp) {
		t.Errorf("without a stamp: %v, want errNoTimestamp", err)
	}
}

// TestBenchJSON runs a short bench with every option and checks the
// report; it asserts no timing figure, only that everything was measured
// and nothing lost.
func TestBenchJSON(t *testing.T) {
	mustListenTS(t) // the bench needs them
	if testing.Short() {
		t.Skip("runs the daemon for seconds")
	}
	stdout, stderr, code := runCmd(t, "bench", "--duration", "2s", "--warmup", "500ms", "--json",
		"--cycles", "5", "--baseline", "--load", "1", "--flood", "1000", "--floor")
	if code != 0 {
		t.Fatalf("bench exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The fields a consumer reads, by their JSON names.
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, stdout)
	}
	for _, path := range []string{
		"machine.cpu", "machine.cpus", "machine.kernel", "loadavg_before", "other_cpu_percent", "steal_ms", "config.duration_s", "config.rate_hz", "command",
		"product.sched", "product.datagrams", "product.samples", "product.lost", "product.end_seen",
		"product.interval_dev.p50_us", "product.interval_dev.p99_us", "product.interval_dev.p99_9_us", "product.interval_dev.max_us",
		"product.grid_lateness.p99_us", "product.reported_late.max_us", "product.one_way_latency.p50_us",
		"product.cpu_percent", "product.rss_kib", "product.gc_cycles", "product.flagged_skipped",
		"baseline.interval_dev.p99_us", "baseline.lost", "baseline.cpu_percent",
		"daemon_status.skipped", "daemon_status.drop_not_allowed", "flood_sent",
		"flood_on.interval_dev.p99_us", "flood_off.interval_dev.p99_us", "flood_on.flagged_skipped",
		"start_to_first.n", "start_to_first.p99_us", "stop_to_end.max_us",
		"floor.threads", "floor.interval_dev.p99_us", "floor.late.max_us", "floor.thread_late_max_us",
	} {
		var v any = raw
		for _, k := range strings.Split(path, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = m[k]
		}
		if v == nil {
			t.Errorf("JSON lacks %s", path)
		}
	}
	var r benchResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*streamResult{&r.Product, r.Baseline} {
		if s == nil {
			t.Fatal("no baseline in the report")
		}
		if s.Datagrams == 0 || s.Lost != 0 || !s.EndSeen || s.Interval.N == 0 || s.RSSKiB == 0 {
			t.Errorf("%s: %d datagrams, %d lost, end seen %v, %d intervals, RSS %d KiB; want datagrams, 0 lost, the end, intervals, an RSS",
				s.Name, s.Datagrams, s.Lost, s.EndSeen, s.Interval.N, s.RSSKiB)
		}
	}
	if r.StartToFirst.N != 5 || r.StopToEnd.N != 5 {
		t.Errorf("start/stop cycles: %d and %d, want 5", r.StartToFirst.N, r.StopToEnd.N)
	}
	// The floor ran for the measurement less 100 ms: 2 s at 200 Hz.
	if f := r.Floor; f == nil || f.Threads < 1 || f.Late.N != 380 || f.Interval.N != 379 || len(f.ThreadLateMax) != f.Threads {
		t.Errorf("floor %+v: want ≥ 1 thread, 380 ticks, 379 intervals, a worst wake-up per thread", f)
	} else if f.Late.P50 < 0 {
		t.Errorf("floor: ticks start %.1f µs before their deadline at p50: the first thread awake must spin to it", -f.Late.P50)
	}
	if r.FloodSent == 0 || r.DaemonStatus["drop_not_allowed"] == "0" {
		t.Errorf("flood: %d sent, daemon dropped %s; want both > 0", r.FloodSent, r.DaemonStatus["drop_not_allowed"])
	}
}

// TestBenchLeavesNoChild checks that the load and daemon processes are
// gone after a bench.
func TestBenchLeavesNoChild(t *testing.T) {
	mustListenTS(t) // the bench needs them
	if testing.Short() {
		t.Skip("runs the daemon for a second")
	}
	_, stderr, code := runCmd(t, "bench", "--duration", "500ms", "--warmup", "0s", "--cycles", "1", "--load", "2", "--baseline")
	if code != 0 {
		t.Fatalf("bench exit %d\n%s", code, stderr)
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		b, err := os.ReadFile("/proc/" + p.Name() + "/cmdline")
		if err == nil && strings.HasPrefix(string(b), bin+"\x00") {
			t.Errorf("process %s still runs: %q", p.Name(), strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
}
