// Package dropq is a bounded queue of messages between a producer that
// must never wait (the receive path) and a consumer that may be slow (a
// browser or a Foxglove client over a WebSocket): when it is full the
// oldest message makes room for the newest, and the drop is counted.
package dropq

import (
	"sync"
	"sync/atomic"
)

// Queue holds up to its capacity of messages. Push and Take are safe
// from different goroutines; one consumer waits on Ready.
type Queue struct {
	mu     sync.Mutex
	buf    [][]byte // ring
	head   int      // index of the oldest
	n      int
	ready  chan struct{} // one token while non-empty
	closed chan struct{}
	once   sync.Once

	dropped atomic.Uint64
	pushed  atomic.Uint64
}

// New returns a queue of capacity messages (at least 1).
func New(capacity int) *Queue {
	return &Queue{buf: make([][]byte, max(capacity, 1)), ready: make(chan struct{}, 1), closed: make(chan struct{})}
}

// Push appends m, dropping the oldest message when the queue is full. It
// never blocks. It reports whether a message was dropped.
func (q *Queue) Push(m []byte) (dropped bool) {
	q.mu.Lock()
	if q.n == len(q.buf) {
		q.buf[q.head] = nil
		q.head = (q.head + 1) % len(q.buf)
		q.n--
		dropped = true
	}
	q.buf[(q.head+q.n)%len(q.buf)] = m
	q.n++
	q.mu.Unlock()
	q.pushed.Add(1)
	if dropped {
		q.dropped.Add(1)
	}
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return dropped
}

// Take moves every queued message into dst (appended) and returns it.
func (q *Queue) Take(dst [][]byte) [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	for ; q.n > 0; q.n-- {
		dst = append(dst, q.buf[q.head])
		q.buf[q.head] = nil
		q.head = (q.head + 1) % len(q.buf)
	}
	return dst
}

// Ready has a token when messages may be waiting.
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// Close tells the consumer that no more messages come; Done is closed.
func (q *Queue) Close() { q.once.Do(func() { close(q.closed) }) }

// Done is closed by Close.
func (q *Queue) Done() <-chan struct{} { return q.closed }

// Dropped counts the messages dropped to make room; Pushed all pushed.
func (q *Queue) Dropped() uint64 { return q.dropped.Load() }
func (q *Queue) Pushed() uint64  { return q.pushed.Load() }
