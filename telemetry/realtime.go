package telemetry

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
)

// applySchedule gives the calling thread, locked by Run, the real-time
// settings of the Config and logs the outcome once. It reports whether the
// thread's scheduling changed: such a thread must never go back to the
// runtime, which would run other goroutines on it.
func (s *Sender) applySchedule() (changed bool) {
	c := &s.cfg
	if c.LockMemory {
		if err := lockMemory(); err != nil {
			s.log.Warn("memory not locked: a tick may wait for a page fault; grant CAP_IPC_LOCK or an unlimited RLIMIT_MEMLOCK (systemd: LimitMEMLOCK=infinity)", "err", err)
		} else {
			s.memLocked.Store(true)
		}
	}
	if err := setTimerSlack(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		s.log.Debug("timer slack unchanged", "err", err)
	}
	var pinned []int
	if len(c.CPUs) > 0 {
		if err := pinThread(c.CPUs); err != nil {
			s.log.Warn("sender thread not pinned to its CPU", "cpus", c.CPUs, "err", err)
		} else {
			pinned, changed = c.CPUs, true
		}
	}
	if c.RTPriority > 0 {
		err := setFIFO(c.RTPriority)
		switch {
		case err == nil:
			s.rtPrio.Store(int32(c.RTPriority))
			changed = true
		case errors.Is(err, errors.ErrUnsupported):
			s.log.Info("real-time priority not available on this system, sending at normal priority")
		case errors.Is(err, fs.ErrPermission):
			s.log.Warn(fmt.Sprintf("real-time priority not permitted, sending at normal priority: under load ticks may be a millisecond or more late; "+
				"grant CAP_SYS_NICE (systemd: AmbientCapabilities=CAP_SYS_NICE) or RLIMIT_RTPRIO ≥ %d (systemd: LimitRTPRIO=%[1]d)", c.RTPriority), "err", err)
		default:
			s.log.Warn("real-time priority not applied, sending at normal priority", "err", err)
		}
	}
	policy := "normal"
	if p := s.rtPrio.Load(); p > 0 {
		policy = fmt.Sprintf("SCHED_FIFO %d", p)
	}
	attrs := []any{"policy", policy, "mlock", s.memLocked.Load()}
	if pinned != nil {
		attrs = append(attrs, "cpus", fmt.Sprint(pinned))
	}
	s.log.Log(nil, slog.LevelInfo, "sender thread scheduled", attrs...)
	return changed
}
