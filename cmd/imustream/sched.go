package main

import (
	"flag"
	"fmt"
	"strconv"
)

// DefaultRTPriority is the sender thread's SCHED_FIFO priority unless
// --rt-priority says otherwise. It preempts every ordinary thread, yet only
// equals (never starves) the interrupt threads of a PREEMPT_RT kernel (50),
// which the stream's network and I²C traffic depend on.
const DefaultRTPriority = 50

// schedFlags are the daemon's real-time settings for the sender thread.
type schedFlags struct {
	rtPriority int
	cpu        int
	mlock      bool
}

func (s *schedFlags) register(fs *flag.FlagSet) {
	s.rtPriority, s.cpu = DefaultRTPriority, -1
	fs.Var(&intRange{&s.rtPriority, 0, 99}, "rt-priority",
		"SCHED_FIFO priority of the sender thread, 1..99; 0: normal priority. Falls back to normal priority, with a warning, when not permitted (needs CAP_SYS_NICE or LimitRTPRIO)")
	fs.Var(&intRange{&s.cpu, -1, 1023}, "cpu", "pin the sender thread to this CPU; -1: any CPU")
	fs.BoolVar(&s.mlock, "mlock", false, "lock the daemon's memory (mlockall) so no tick waits for paging; needs CAP_IPC_LOCK or LimitMEMLOCK=infinity")
}

// cpus is the sender's CPU set: none for -1.
func (s *schedFlags) cpus() []int {
	if s.cpu < 0 {
		return nil
	}
	return []int{s.cpu}
}

// intRange is an int flag that rejects values outside [min, max].
type intRange struct {
	p        *int
	min, max int
}

func (r *intRange) String() string {
	if r.p == nil {
		return "0"
	}
	return strconv.Itoa(*r.p)
}

func (r *intRange) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q is not an integer", v)
	}
	if n < r.min || n > r.max {
		return fmt.Errorf("%d out of range %d..%d", n, r.min, r.max)
	}
	*r.p = n
	return nil
}
