package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/imustream/imustream/internal/bench"
	"github.com/imustream/imustream/internal/daemon"
)

// skipWithoutTimestamps skips a test whose bench said the system has no
// kernel receive timestamps (qemu-user emulation, for one), or that runs
// where the bench does not.
func skipWithoutTimestamps(t *testing.T, stderr string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the bench needs Linux")
	}
	if strings.Contains(stderr, "SO_TIMESTAMPNS: protocol not available") {
		t.Skipf("no kernel receive timestamps here: %s", stderr)
	}
}

// TestBenchDefaults: the bench's defaults for the daemon's flags are the
// daemon's, so that its command lines leave out what run would default.
func TestBenchDefaults(t *testing.T) {
	if d := bench.DefaultConfig(); d.RTPriority != daemon.DefaultRTPriority || d.Spin != daemon.DefaultSpin {
		t.Errorf("bench.DefaultConfig: --rt-priority %d, --spin %v; run's defaults are %d and %v",
			d.RTPriority, d.Spin, daemon.DefaultRTPriority, daemon.DefaultSpin)
	}
}

// TestNoTemplate: imustream does not link text/template, whose reflection
// keeps the linker from dropping unused methods (it cost 1.1 MB of the
// stripped binary and 1.1 MiB of the idle daemon's RSS): perfdoc
// (internal/bench/perfdoc) renders docs/performance.md from the JSON of
// bench --suite.
func TestNoTemplate(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the dependencies")
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/imustream/imustream/internal/bench") {
		t.Fatalf("go list -deps lacks internal/bench: %q", deps)
	}
	for _, p := range []string{"text/template", "html/template"} {
		if slices.Contains(deps, p) {
			t.Errorf("imustream links %s", p)
		}
	}
}

// TestBenchChildUsage: the hidden child commands take the command lines
// the bench writes, and refuse others with a usage error.
func TestBenchChildUsage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the bench needs Linux")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{bench.BaselineCommand, "--rate", "200"}, "--to HOST:PORT is missing"},
		{[]string{bench.BaselineCommand, "--to", "127.0.0.1:1", "--rate", "0"}, "--rate 1..10000"},
		{[]string{bench.FloorCommand, "--ticks", "1"}, "--ticks ≥ 2"},
		{[]string{bench.FloorCommand, "--cpu", "x"}, `invalid value "x" for flag -cpu`},
		{[]string{bench.SpinCommand, "now"}, `unexpected argument "now"`},
	} {
		_, stderr, code := runCmd(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("imustream %q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestBenchJSON runs a short bench with every option and checks the
// report; it asserts no timing figure, only that everything was measured
// and nothing lost.
func TestBenchJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon for seconds")
	}
	if emulated {
		t.Skip("under qemu-user: the bench starts its children from os.Executable, which only qemu can run, and the kernel's receive timestamps are not emulated")
	}
	stdout, stderr, code := runCmd(t, "bench", "--duration", "2s", "--warmup", "500ms", "--json",
		"--cycles", "5", "--baseline", "--load", "1", "--flood", "1000", "--floor")
	skipWithoutTimestamps(t, stderr)
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
	var r bench.Result
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*bench.StreamResult{&r.Product, r.Baseline} {
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
	// The floor ran for the measurement less 100 ms: 2 s at 200 Hz, 380
	// deadlines; a busy machine may hold it past some of them.
	if f := r.Floor; f == nil || f.Threads < 1 || f.Late.N < 190 || f.Late.N > 380 || f.Interval.N != f.Late.N-1 || len(f.ThreadLateMax) != f.Threads {
		t.Errorf("floor %+v: want ≥ 1 thread, 190 to 380 ticks, an interval between each two, a worst wake-up per thread", f)
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
	if testing.Short() {
		t.Skip("runs the daemon for a second")
	}
	if emulated {
		t.Skip("under qemu-user: the bench starts its children from os.Executable, which only qemu can run, and the kernel's receive timestamps are not emulated")
	}
	_, stderr, code := runCmd(t, "bench", "--duration", "500ms", "--warmup", "0s", "--cycles", "1", "--load", "2", "--baseline")
	skipWithoutTimestamps(t, stderr)
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
