package bench

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/imustream/imustream/internal/rt"
	"golang.org/x/sys/unix"
)

func TestTopPriority(t *testing.T) {
	ts := []threadSched{{1, 0, 0}, {2, 1, 1}, {3, 50, 1}, {4, 1, 1}, {5, 50, 1}}
	var got []int
	for _, s := range topPriority(ts) {
		got = append(got, s.tid)
	}
	if !slices.Equal(got, []int{3, 5}) {
		t.Errorf("top priority threads %v, want [3 5]", got)
	}
	if top := topPriority(ts[:1]); len(top) != 0 {
		t.Errorf("normal priority only: %v, want none", top)
	}
}

// TestRTThreads: with the process at SCHED_FIFO 1 but for one thread at 2
// (as a daemon whose sender is real-time), the sender threads are that one.
func TestRTThreads(t *testing.T) {
	type thread struct {
		tid, prio int
		err       error
	}
	ready, done := make(chan thread, 2), make(chan struct{})
	defer close(done)
	for _, prio := range []int{1, 2} {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			err := rt.SetThreadPriority(prio)
			ready <- thread{unix.Gettid(), prio, err}
			<-done
			_ = rt.SetThreadPriority(0)
		}()
	}
	want := 0
	for range 2 {
		th := <-ready
		if th.err != nil {
			t.Skipf("SCHED_FIFO not permitted (%v); TestRTThreads not run", th.err)
		}
		if th.prio == 2 {
			want = th.tid
		}
	}
	if got := rtThreads(os.Getpid()); !slices.Equal(got, []int{want}) {
		t.Errorf("rtThreads %v, want [%d]", got, want)
	}
	if s := readSched(os.Getpid()); !strings.HasPrefix(s, "SCHED_FIFO 2 (1 of ") {
		t.Errorf("readSched %q, want SCHED_FIFO 2 (1 of …)", s)
	}
}
