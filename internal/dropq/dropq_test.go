package dropq

import (
	"fmt"
	"sync"
	"testing"
)

func TestDropsOldest(t *testing.T) {
	q := New(3)
	for i := range 5 {
		q.Push([]byte{byte(i)})
	}
	got := q.Take(nil)
	if fmt.Sprint(got) != "[[2] [3] [4]]" || q.Dropped() != 2 || q.Pushed() != 5 {
		t.Fatalf("took %v, dropped %d, pushed %d; want [[2] [3] [4]], 2, 5", got, q.Dropped(), q.Pushed())
	}
	if got := q.Take(nil); len(got) != 0 {
		t.Fatalf("second take %v, want nothing", got)
	}
}

// TestConcurrent: what a consumer takes plus what was dropped is what was
// pushed, in order.
func TestConcurrent(t *testing.T) {
	q := New(16)
	const n = 20000
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			q.Push([]byte{byte(i >> 8), byte(i)})
		}
		q.Close()
	})
	var took int
	last := -1
	check := func(ms [][]byte) {
		for _, m := range ms {
			v := int(m[0])<<8 | int(m[1])
			if v <= last {
				t.Fatalf("message %d after %d", v, last)
			}
			last = v
			took++
		}
	}
	for done := false; !done; {
		select {
		case <-q.Ready():
		case <-q.Done():
			done = true
		}
		check(q.Take(nil))
	}
	check(q.Take(nil))
	wg.Wait()
	if uint64(took)+q.Dropped() != n {
		t.Fatalf("took %d + dropped %d != pushed %d", took, q.Dropped(), n)
	}
}
