package main

import (
	"flag"
	"time"

	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/internal/daemon"
)

// DefaultRTPriority is the sender thread's SCHED_FIFO priority unless
// --rt-priority says otherwise. It preempts every ordinary thread, yet only
// equals (never starves) the interrupt threads of a PREEMPT_RT kernel (50),
// which the stream's network and I²C traffic depend on.
const DefaultRTPriority = 50

// DefaultSpin is how long before each deadline the sender threads wake to
// busy-wait the rest of the way unless --spin says otherwise: none. A
// spin is CPU spent on every tick, and what it buys in cadence is smaller
// than what it costs (docs/performance.md, "What it costs").
const DefaultSpin = 0

// schedFlags are the daemon's real-time settings for the sender threads.
type schedFlags struct {
	rtPriority int
	cpu        daemon.CPUs
	mlock      bool
	spin       time.Duration
}

func (s *schedFlags) register(fs *flag.FlagSet) {
	s.rtPriority, s.cpu = DefaultRTPriority, daemon.CPUs{Auto: true}
	fs.Var(&cli.IntRange{P: &s.rtPriority, Min: 0, Max: 99}, "rt-priority",
		"SCHED_FIFO `PRIORITY` of the sender threads, 1..99, the rest of the daemon then runs at SCHED_FIFO 1; 0: normal priority. Falls back to normal priority, with a warning, when not permitted (needs CAP_SYS_NICE or LimitRTPRIO)")
	fs.Var(&s.cpu, "cpu", "`CPUS` for the sender: auto (one thread on the last CPU the daemon may use, away from the Pi's interrupts on CPU 0, if it may use two or more; left unpinned without RT priority), "+
		"none (one thread on any CPU) or a list like 2,3 (a thread pinned to each, the first awake at a deadline does the tick, so one CPU held up does not delay the stream, for a wake-up of each thread per tick)")
	fs.DurationVar(&s.spin, "spin", DefaultSpin, "at real-time priority, wake `DURATION` before each deadline and busy-wait the rest, so a wake-up delayed by less still starts the tick on time; costs up to this much CPU per tick, at most a tenth of the period; 0: sleep to the deadline")
	fs.BoolVar(&s.mlock, "mlock", false, "lock the daemon's memory (mlockall) so no tick waits for paging; needs CAP_IPC_LOCK or LimitMEMLOCK=infinity")
}
