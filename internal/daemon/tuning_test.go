package daemon

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestTuning: without GOGC or GOMEMLIMIT in the environment the daemon
// collects only at HeapLimit; with either set, the environment rules. Each
// sender thread gets a P of its own, and stop puts everything back.
func TestTuning(t *testing.T) {
	restore := func() { debug.SetGCPercent(100); debug.SetMemoryLimit(math.MaxInt64) }
	defer restore()
	procs := runtime.GOMAXPROCS(0)
	for _, tc := range []struct {
		env     string
		percent int
		limit   int64
	}{{"", -1, HeapLimit}, {"GOGC", 100, math.MaxInt64}, {"GOMEMLIMIT", 100, math.MaxInt64}} {
		restore()
		t.Setenv("GOGC", "")
		t.Setenv("GOMEMLIMIT", "")
		if tc.env != "" {
			t.Setenv(tc.env, "50") // read by the tuning only; the runtime read its own at start
		}
		tu := &tuning{senderThreads: 2}
		tu.start()
		p, l := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
		debug.SetGCPercent(p)
		if p != tc.percent || l != tc.limit {
			t.Errorf("%s set: GC percent %d, memory limit %d; want %d, %d", tc.env, p, l, tc.percent, tc.limit)
		}
		if got := runtime.GOMAXPROCS(0); got != procs+2 {
			t.Errorf("GOMAXPROCS %d with two sender threads, want %d", got, procs+2)
		}
		tu.stop()
		if p, l, n := debug.SetGCPercent(100), debug.SetMemoryLimit(-1), runtime.GOMAXPROCS(0); p != 100 || l != math.MaxInt64 || n != procs {
			t.Errorf("after stop: GC percent %d, memory limit %d, GOMAXPROCS %d; want 100, %d, %d", p, l, n, int64(math.MaxInt64), procs)
		}
	}
	var off *tuning // the tuning off: nothing changes
	off.start()
	off.stop()
}
