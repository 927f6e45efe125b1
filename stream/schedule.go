package stream

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/imustream/imustream/internal/rt"
)

// lockMemory locks the process's memory as Config.LockMemory asks, or
// says why it could not.
func (s *Sender) lockMemory() {
	if err := rt.LockMemory(); err != nil {
		s.log.Warn("memory not locked: a tick may wait for a page fault; grant CAP_IPC_LOCK or an unlimited RLIMIT_MEMLOCK (systemd: LimitMEMLOCK=infinity)", "err", err)
		return
	}
	s.memLocked.Store(true)
}

// logSchedule logs, once for all sender threads, how they are scheduled
// and what to grant when the system refused.
func (s *Sender) logSchedule(threads []rt.ThreadSchedule, pacers []*rt.Pacer) {
	var pinned []int
	prio := 0
	var slackErr, pinErr, fifoErr, holdErr error
	var lead int64
	for i, t := range threads {
		if t.CPU >= 0 {
			pinned = append(pinned, t.CPU)
		}
		slackErr = cmp.Or(slackErr, t.SlackErr)
		pinErr = cmp.Or(pinErr, t.PinErr)
		fifoErr = cmp.Or(fifoErr, t.FIFOErr)
		holdErr = cmp.Or(holdErr, t.HoldErr)
		if t.FIFOPrio > 0 {
			prio = t.FIFOPrio
		}
		lead = max(lead, pacers[i].Lead(t, s.cfg.Spin, s.period))
	}
	s.rtPrio.Store(int32(prio))
	if slackErr != nil {
		s.log.Debug("timer slack unchanged", "err", slackErr)
	}
	if holdErr != nil {
		s.log.Warn("sender thread yields to the Go scheduler every 10 to 20 ms, which costs CPU", "err", holdErr)
	}
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
	if lead > 0 {
		attrs = append(attrs, "spin", time.Duration(lead))
	}
	s.log.Log(nil, slog.LevelInfo, "sender thread scheduled", attrs...)
}
