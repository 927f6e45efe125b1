package telemetry

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
)

// threadSchedule is what applySchedule did to one sender thread.
type threadSchedule struct {
	cpu      int // pinned to this CPU; -1: not pinned
	changed  bool
	pinErr   error
	fifoErr  error
	fifoPrio int
}

// lockMemory locks the process's memory as Config.LockMemory asks, or
// says why it could not.
func (s *Sender) lockMemory() {
	if err := lockMemory(); err != nil {
		s.log.Warn("memory not locked: a tick may wait for a page fault; grant CAP_IPC_LOCK or an unlimited RLIMIT_MEMLOCK (systemd: LimitMEMLOCK=infinity)", "err", err)
		return
	}
	s.memLocked.Store(true)
}

// applySchedule gives the calling thread, locked by its waker, the
// real-time settings of the Config and the CPU (none for -1). changed
// reports whether the thread's scheduling changed: such a thread must
// never go back to the runtime, which would run other goroutines on it.
func (s *Sender) applySchedule(cpu int) threadSchedule {
	t := threadSchedule{cpu: -1}
	if err := setTimerSlack(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		s.log.Debug("timer slack unchanged", "err", err)
	}
	if p := s.cfg.RTPriority; p > 0 {
		if t.fifoErr = SetFIFO(p); t.fifoErr == nil {
			t.fifoPrio, t.changed = p, true
		}
	}
	if cpu >= 0 && (t.fifoPrio > 0 || !s.cfg.PinOnlyRealtime) {
		if t.pinErr = PinThread(cpu); t.pinErr == nil {
			t.cpu, t.changed = cpu, true
		}
	}
	return t
}

// logSchedule logs, once for all sender threads, how they are scheduled
// and what to grant when the system refused.
func (s *Sender) logSchedule(threads []threadSchedule) {
	var pinned []int
	prio := 0
	var pinErr, fifoErr error
	for _, t := range threads {
		if t.cpu >= 0 {
			pinned = append(pinned, t.cpu)
		}
		if t.pinErr != nil && pinErr == nil {
			pinErr = t.pinErr
		}
		if t.fifoErr != nil && fifoErr == nil {
			fifoErr = t.fifoErr
		}
		if t.fifoPrio > 0 {
			prio = t.fifoPrio
		}
	}
	s.rtPrio.Store(int32(prio))
	if pinErr != nil {
		s.log.Warn("sender thread not pinned to its CPU", "cpus", s.cfg.CPUs, "err", pinErr)
	}
	switch p := s.cfg.RTPriority; {
	case fifoErr == nil:
	case errors.Is(fifoErr, errors.ErrUnsupported):
		s.log.Info("real-time priority not available on this system, sending at normal priority")
	case errors.Is(fifoErr, fs.ErrPermission):
		s.log.Warn(fmt.Sprintf("real-time priority not permitted, sending at normal priority: under load ticks may be a millisecond or more late; "+
			"grant CAP_SYS_NICE (systemd: AmbientCapabilities=CAP_SYS_NICE) or RLIMIT_RTPRIO ≥ %d (systemd: LimitRTPRIO=%[1]d)", p), "err", fifoErr)
	default:
		s.log.Warn("real-time priority not applied, sending at normal priority", "err", fifoErr)
	}
	policy := "normal"
	if prio > 0 {
		policy = fmt.Sprintf("SCHED_FIFO %d", prio)
	}
	attrs := []any{"policy", policy, "mlock", s.memLocked.Load()}
	if pinned != nil {
		attrs = append(attrs, "cpus", fmt.Sprint(pinned))
	}
	if len(threads) > 1 {
		attrs = append(attrs, "threads", len(threads))
	}
	s.log.Log(nil, slog.LevelInfo, "sender thread scheduled", attrs...)
}
