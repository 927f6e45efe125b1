//go:build !linux

package rt

import "sync"

// Event is a flag that one goroutine sets and another waits for (on Linux
// a futex, whose waker wakes the waiting thread itself).
//
// The zero Event is ready to use.
type Event struct {
	once sync.Once
	ch   chan struct{}
}

func (e *Event) init() { e.once.Do(func() { e.ch = make(chan struct{}, 1) }) }

// Set sets the flag and wakes the waiter, if one waits.
func (e *Event) Set() {
	e.init()
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

// Wait blocks until the flag is set, then clears it.
func (e *Event) Wait() {
	e.init()
	<-e.ch
}
