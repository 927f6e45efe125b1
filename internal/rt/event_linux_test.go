package rt

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestEventWait: a thread waiting on an Event, held as a sender thread is,
// sleeps in the kernel without holding up the collector or being woken by
// it, is woken by Set, and finds a Set that came before it waited.
func TestEventWait(t *testing.T) {
	var e Event
	e.Set()
	e.Set()
	e.Wait() // set before: returns at once, and clears the flag

	tids, done := make(chan int, 1), make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		pc := NewPacers(MonoClock{}, 1)[0]
		if err := pc.Hold(5_000_000); err != nil {
			done <- err
			return
		}
		defer pc.Release()
		tids <- unix.Gettid()
		e.Wait()
		done <- nil
	}()
	var tid int
	select {
	case tid = <-tids:
	case err := <-done:
		t.Fatal(err)
	}
	// Once it sleeps, count what wakes it.
	deadline := time.Now().Add(10 * time.Second)
	for taskState(t, tid) != "S" {
		if time.Now().After(deadline) {
			t.Fatalf("the waiting thread is in state %q after 10 s, want S", taskState(t, tid))
		}
		time.Sleep(time.Millisecond)
	}
	sw0 := taskSwitches(t, tid)
	// The waiter has given its P back: the collector, which stops every
	// goroutine that holds one, completes.
	for range 3 {
		gcDone := make(chan struct{})
		go func() { runtime.GC(); close(gcDone) }()
		select {
		case <-gcDone:
		case <-time.After(30 * time.Second):
			t.Fatal("a collection did not complete while a thread waited on an Event")
		}
	}
	time.Sleep(200 * time.Millisecond)
	sw1 := taskSwitches(t, tid)
	select {
	case err := <-done:
		t.Fatalf("Wait returned before Set (%v)", err)
	default:
	}
	// Under qemu-user (make test-arm sets QEMU_CPU) the emulator's own
	// threads and signals wake guest threads.
	if sw1 != sw0 && os.Getenv("QEMU_CPU") == "" {
		t.Errorf("the waiting thread was woken %d times by 3 collections and 200 ms, want 0", sw1-sw0)
	}
	e.Set()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Set did not wake the waiter")
	}
}

// taskState is the state letter of thread tid of this process.
func taskState(t *testing.T, tid int) string {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// pid (comm) state ...: comm may hold spaces, the state follows its ')'.
	_, rest, _ := strings.Cut(string(b), ") ")
	state, _, _ := strings.Cut(rest, " ")
	return state
}

// taskSwitches is the voluntary context switches of thread tid.
func taskSwitches(t *testing.T, tid int) uint64 {
	v := statusField(t, "/proc/self/task/"+strconv.Itoa(tid)+"/status", "voluntary_ctxt_switches")
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("thread %d's voluntary switches %q: %v", tid, v, err)
	}
	return n
}
