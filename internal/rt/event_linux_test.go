package rt

import (
	"runtime"
	"testing"
	"time"
)

// TestEventWait: a thread waiting on an Event, held as a sender thread is,
// sleeps in the kernel without holding up the collector, is woken by Set,
// and finds a Set that came before it waited.
func TestEventWait(t *testing.T) {
	var e Event
	e.Set()
	e.Set()
	e.Wait() // set before: returns at once, and clears the flag

	type result struct {
		switches uint64
		err      error
	}
	waiting, done := make(chan struct{}), make(chan result)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		pc := NewPacers(MonoClock{}, 1)[0]
		var r result
		if r.err = pc.Hold(5_000_000); r.err != nil {
			done <- r
			return
		}
		defer pc.Release()
		sw0 := voluntarySwitches(t)
		close(waiting)
		e.Wait()
		r.switches = voluntarySwitches(t) - sw0
		done <- r
	}()
	<-waiting
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
	select {
	case r := <-done:
		t.Fatalf("Wait returned before Set (%v)", r.err)
	default:
	}
	e.Set()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		// It blocked once, and may have waited once more for a P on its
		// way out; a waiter woken by the collector or the monitor would
		// count more.
		if r.switches > 3 {
			t.Errorf("the waiting thread switched out %d times in its wait, want at most 3", r.switches)
		}
		t.Logf("voluntary switches during the wait: %d", r.switches)
	case <-time.After(30 * time.Second):
		t.Fatal("Set did not wake the waiter")
	}
}
