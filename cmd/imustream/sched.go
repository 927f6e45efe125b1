package main

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imustream/imustream/internal/daemon"
)

// DefaultRTPriority is the sender thread's SCHED_FIFO priority unless
// --rt-priority says otherwise. It preempts every ordinary thread, yet only
// equals (never starves) the interrupt threads of a PREEMPT_RT kernel (50),
// which the stream's network and I²C traffic depend on.
const DefaultRTPriority = 50

// DefaultSpin is how long before each deadline the sender threads wake to
// busy-wait the rest of the way unless --spin says otherwise.
const DefaultSpin = 50 * time.Microsecond

// schedFlags are the daemon's real-time settings for the sender threads.
type schedFlags struct {
	rtPriority int
	cpu        cpuList
	mlock      bool
	spin       time.Duration
}

func (s *schedFlags) register(fs *flag.FlagSet) {
	s.rtPriority, s.cpu = DefaultRTPriority, cpuList{auto: true}
	fs.Var(&intRange{&s.rtPriority, 0, 99}, "rt-priority",
		"SCHED_FIFO priority of the sender threads, 1..99; 0: normal priority. Falls back to normal priority, with a warning, when not permitted (needs CAP_SYS_NICE or LimitRTPRIO)")
	fs.Var(&s.cpu, "cpu", "CPUs for the sender: one thread pinned to each, the first awake at a deadline does the tick, so one CPU held up does not delay the stream; "+
		"a list like 2,3, auto (the last two CPUs the daemon may use, if it may use two; threads without RT priority are then left unpinned) or none (one thread on any CPU)")
	fs.DurationVar(&s.spin, "spin", DefaultSpin, "at real-time priority, wake this long before each deadline and busy-wait the rest, so a wake-up delayed by less still starts the tick on time; costs up to this much CPU per tick, at most a tenth of the period; 0: sleep to the deadline")
	fs.BoolVar(&s.mlock, "mlock", false, "lock the daemon's memory (mlockall) so no tick waits for paging; needs CAP_IPC_LOCK or LimitMEMLOCK=infinity")
}

// cpus is the sender's CPU list: none for one unpinned thread.
func (s *schedFlags) cpus() ([]int, error) {
	list, _, err := daemon.SenderCPUs(s.cpu.list, s.cpu.auto)
	return list, err
}

// cpuList is the --cpu flag.
type cpuList struct {
	auto bool
	list []int
}

func (c cpuList) String() string {
	switch {
	case c.auto:
		return "auto"
	case len(c.list) == 0:
		return "none"
	}
	s := make([]string, len(c.list))
	for i, n := range c.list {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// MarshalText and UnmarshalText write and read the list as the flag
// takes it, for bench --json.
func (c cpuList) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

func (c *cpuList) UnmarshalText(b []byte) error { return c.Set(string(b)) }

func (c *cpuList) Set(v string) error {
	switch v = strings.TrimSpace(v); v {
	case "auto":
		*c = cpuList{auto: true}
		return nil
	case "none", "-1":
		*c = cpuList{}
		return nil
	}
	var list []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > 1023 {
			return fmt.Errorf("%q is not auto, none or a list of CPU numbers 0..1023", v)
		}
		if slices.Contains(list, n) {
			return fmt.Errorf("CPU %d twice in %q", n, v)
		}
		list = append(list, n)
	}
	*c = cpuList{list: list}
	return nil
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
