package daemon

import (
	"os"
	"runtime"
	"runtime/debug"

	"github.com/imustream/imustream/internal/rt"
)

// HeapLimit is the heap size at which the daemon collects garbage, unless
// GOGC or GOMEMLIMIT in its environment say otherwise.
const HeapLimit = 32 << 20

// tuning is the runtime tuning component: process-wide Go settings the
// sender wants, applied by start and undone by stop. A nil *tuning (the
// tuning is off) does nothing.
//
// It gives each sender thread a P of its own beyond the CPUs' worth, so
// that a thread waking from its sleep finds a free P instead of waiting
// for the Go scheduler to hand it one, from threads that run at normal
// priority behind any busy process. The sender threads hold their P only
// for a tick's few microseconds, so the rest of the daemon still runs on
// about a P per CPU.
//
// And it makes garbage collections rare: the stream allocates nothing,
// only commands do (about 2 KB for a status), and a collection is a moment
// at which a sender thread can wait for the runtime's normal-priority
// threads (one tick 112 ms late was seen in a minute of 2000 status
// commands a second and 93 collections). Collecting only at HeapLimit
// (GOGC=off with a memory limit) instead of at 4 MB and every two minutes
// means one collection per hours of normal control traffic, for a few tens
// of MiB of memory.
//
// And, with the sender at real-time priority, it puts the rest of the
// process at RuntimePriority: the command goroutine and the runtime's
// threads then run ahead of busy processes of normal priority, yet never
// ahead of a sender thread (see rt.ScheduleProcess). It needs the same
// permission as the sender's priority.
type tuning struct {
	senderThreads int
	rtPrio        int // the rest of the process's SCHED_FIFO priority; 0: leave it

	procs       int // GOMAXPROCS before start
	gcPercent   int
	memLimit    int64
	gcUntouched bool
	rtThreads   int   // threads given rtPrio by start
	rtErr       error // why they could not be
}

// RuntimePriority is the SCHED_FIFO priority of the daemon's threads other
// than the sender's when those run at real-time priority: the lowest.
const RuntimePriority = 1

func (t *tuning) start() {
	if t == nil {
		return
	}
	if t.rtPrio > 0 {
		t.rtThreads, t.rtErr = rt.ScheduleProcess(t.rtPrio)
	}
	t.procs = runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + max(1, t.senderThreads))
	t.gcUntouched = os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != ""
	if !t.gcUntouched {
		t.gcPercent = debug.SetGCPercent(-1)
		t.memLimit = debug.SetMemoryLimit(HeapLimit)
	}
}

func (t *tuning) stop() {
	if t == nil {
		return
	}
	if t.rtThreads > 0 {
		_, _ = rt.ScheduleProcess(0)
	}
	runtime.GOMAXPROCS(t.procs)
	if !t.gcUntouched {
		debug.SetGCPercent(t.gcPercent)
		debug.SetMemoryLimit(t.memLimit)
	}
}
