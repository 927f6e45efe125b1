package rt

import (
	"errors"
)

// ThreadSchedule is what ScheduleThread did to a thread.
type ThreadSchedule struct {
	CPU      int // pinned to this CPU; -1: not pinned
	FIFOPrio int // SCHED_FIFO priority; 0: normal priority
	// Changed reports whether the thread's scheduling changed: such a
	// thread must never go back to the runtime, which would run other
	// goroutines on it.
	Changed                            bool
	SlackErr, FIFOErr, PinErr, HoldErr error
}

// ScheduleThread schedules the calling thread as a sender thread: a timer
// slack of 1 ns, SCHED_FIFO at prio (none for 0) and pinned to cpu (none
// for -1; with pinOnlyRealtime only if it got prio, see
// Config.PinOnlyRealtime). The thread must be locked to its goroutine
// (runtime.LockOSThread) and, if Changed, never unlocked. The bench's
// floor probe schedules its threads with it too, so that they are
// scheduled exactly as the sender's.
func ScheduleThread(cpu, prio int, pinOnlyRealtime bool) ThreadSchedule {
	t := ThreadSchedule{CPU: -1}
	if err := setTimerSlack(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		t.SlackErr = err
	}
	if prio > 0 {
		if t.FIFOErr = setFIFO(prio); t.FIFOErr == nil {
			t.FIFOPrio, t.Changed = prio, true
		}
	}
	if cpu >= 0 && (t.FIFOPrio > 0 || !pinOnlyRealtime) {
		if t.PinErr = pinThread(cpu); t.PinErr == nil {
			t.CPU, t.Changed = cpu, true
		}
	}
	return t
}
