package rt

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Event is a flag that one goroutine sets and one thread waits for in the
// kernel (a futex). Set's system call wakes the waiting thread itself: an
// idle sender thread woken through the Go scheduler (a channel) runs only
// once the setting goroutine has blocked, and then by a hand-off between
// threads of the scheduler's, which put the reply to a start and two or
// three thread wake-ups before a stream's first datagram.
//
// The zero Event is ready to use.
type Event struct{ v atomic.Uint32 }

// futex(2) operations (linux/futex.h), which x/sys/unix does not name.
const futexWaitPrivate, futexWakePrivate = 0 | 128, 1 | 128

// Set sets the flag and wakes the waiter, if one waits.
func (e *Event) Set() {
	e.v.Store(1)
	_, _, _ = unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&e.v)),
		futexWakePrivate, 1, 0, 0, 0)
}

// Wait blocks until the flag is set, then clears it. The thread gives its
// P back to the scheduler while it waits (see futexWaitBlocking).
func (e *Event) Wait() {
	for e.v.Swap(0) == 0 {
		futexWaitBlocking(&e.v)
	}
}

//go:linkname entersyscallblock runtime.entersyscallblock
func entersyscallblock()

//go:linkname exitsyscall runtime.exitsyscall
func exitsyscall()

// futexWaitBlocking waits on v while it is 0, as a system call that gives
// up its P on entry (as the runtime does for calls known to block), not
// as syscall.Syscall: a P left with a thread in a system call is looked at
// by the runtime's monitor, which holds the thread's way out of the call
// while it does (see sleepRaw), and a waiting thread keeps no P that the
// rest of the process or the collector would wait for. On the way out the
// thread takes an idle P (the daemon has one per sender thread beyond the
// CPUs'), or else waits for the scheduler to give it one.
//
//go:nosplit
//go:noinline
func futexWaitBlocking(v *atomic.Uint32) {
	entersyscallblock()
	_, _, _ = unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(v)),
		futexWaitPrivate, 0, 0, 0, 0)
	exitsyscall()
}
