package rt

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// exeResident returns the resident kB of this test binary's read-only
// mappings and of its written ones.
func exeResident(t *testing.T) (readOnly, written int) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var ours, ro bool
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 6 && strings.Contains(f[0], "-"):
			ours, ro = f[5] == exe, !strings.Contains(f[1], "w")
		case ours && len(f) >= 2 && f[0] == "Rss:":
			kb, _ := strconv.Atoi(f[1])
			if ro {
				readOnly += kb
			} else {
				written += kb
			}
		}
	}
	return readOnly, written
}

// TestTrimExecutable: the executable's resident code and constants shrink
// to what runs after the trim; its written pages stay (dropping those
// would lose their contents).
func TestTrimExecutable(t *testing.T) {
	ro0, w0 := exeResident(t)
	if ro0 == 0 {
		t.Skip("no resident pages of the executable found in /proc/self/smaps; TestTrimExecutable not run")
	}
	if err := TrimExecutable(); err != nil {
		t.Fatal(err)
	}
	ro1, w1 := exeResident(t)
	t.Logf("read-only %d -> %d kB, written %d -> %d kB", ro0, ro1, w0, w1)
	if ro1 >= ro0 {
		t.Errorf("read-only pages %d kB before the trim, %d kB after: not trimmed", ro0, ro1)
	}
	if w1 < w0 {
		t.Errorf("written pages %d kB before the trim, %d kB after: data was dropped", w0, w1)
	}
}

// TestWallAt: the wall time of a monotonic instant a moment ago is that
// instant's, not the present's: a thread held up between reading the two
// clocks (here 20 ms) still stamps a sample with one instant.
func TestWallAt(t *testing.T) {
	mono, wall := Stamp()
	time.Sleep(20 * time.Millisecond)
	if d := WallAt(mono) - wall; d > int64(time.Millisecond) || d < -int64(time.Millisecond) {
		t.Errorf("WallAt of an instant 20 ms ago is %v from its wall time, want within 1 ms", time.Duration(d))
	}
}
