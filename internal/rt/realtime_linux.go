package rt

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// setFIFO gives the calling thread (pid 0 in sched_setattr means the
// thread, not the process) SCHED_FIFO at prio. Reset-on-fork keeps any
// thread or process cloned from it at normal priority.
func setFIFO(prio int) error {
	attr := unix.SchedAttr{
		Policy:   unix.SCHED_FIFO,
		Priority: uint32(prio),
		Flags:    unix.SCHED_FLAG_RESET_ON_FORK,
	}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		return fmt.Errorf("rt: sched_setattr SCHED_FIFO %d: %w", prio, err)
	}
	return nil
}

// setTimerSlack makes the calling thread's sleeps end on their deadline:
// by default the kernel may defer a normal thread's wake-up by up to 50 µs
// to batch it with others. RT threads have no slack anyway.
func setTimerSlack() error {
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("rt: PR_SET_TIMERSLACK: %w", err)
	}
	return nil
}

// pinThread restricts the calling thread to cpu.
func pinThread(cpu int) error {
	var set unix.CPUSet
	if cpu < 0 || cpu >= len(set)*64 {
		return fmt.Errorf("rt: CPU %d out of range", cpu)
	}
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("rt: sched_setaffinity CPU %d: %w", cpu, err)
	}
	return nil
}

// errMemlockLimit refuses mlockall when the lock could not cover the
// process's future growth.
var errMemlockLimit = errors.New("rt: RLIMIT_MEMLOCK is finite and CAP_IPC_LOCK is missing")

// LockMemory locks the process's pages in RAM as they are first touched
// (MCL_ONFAULT): the hot path's pages stay resident after its first tick,
// while the runtime's large untouched reservations are not faulted in
// (without ONFAULT the daemon's RSS grows from 6 MB to over 100 MB). With a
// finite RLIMIT_MEMLOCK a later heap growth would fail inside the Go
// runtime, which aborts the process, so it is only done when the limit
// cannot bite.
func LockMemory() error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim); err != nil {
		return fmt.Errorf("rt: getrlimit: %w", err)
	}
	if lim.Cur != unix.RLIM_INFINITY && !hasCap(unix.CAP_IPC_LOCK) {
		return fmt.Errorf("%w (limit %d KiB)", errMemlockLimit, lim.Cur>>10)
	}
	if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE | unix.MCL_ONFAULT); err != nil {
		return fmt.Errorf("rt: mlockall: %w", err)
	}
	return nil
}

func hasCap(c int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}
