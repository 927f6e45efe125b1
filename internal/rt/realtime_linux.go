package rt

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

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

// SetThreadPriority gives the calling thread SCHED_FIFO at prio, or back
// SCHED_OTHER for 0. The thread must be locked to its goroutine.
func SetThreadPriority(prio int) error {
	if prio > 0 {
		return setFIFO(prio)
	}
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		return fmt.Errorf("rt: sched_setattr SCHED_OTHER: %w", err)
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

// ScheduleProcess gives every thread of the process SCHED_FIFO at prio,
// or back SCHED_OTHER for prio 0. Threads the Go runtime starts later
// are cloned from these and inherit it. It returns how many threads it
// changed.
//
// For the daemon, prio is below the sender threads' (which raise
// themselves above it): the rest of the process, the command goroutine
// and the runtime's own threads, then never waits behind busy processes of
// normal priority. Without it a start command waited 4.9 ms at p99 under
// two busy processes, and a sender thread handing its P to the scheduler
// waited for such a thread too.
func ScheduleProcess(prio int) (int, error) {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL}
	if prio > 0 {
		attr.Policy, attr.Priority = unix.SCHED_FIFO, uint32(prio)
	}
	done := map[int]bool{}
	// A thread started while the list is read may have been cloned from
	// one not yet changed: read it again until nothing is new.
	for {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return len(done), fmt.Errorf("rt: %w", err)
		}
		fresh := 0
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			fresh++
			done[tid] = true
			if err := unix.SchedSetAttr(tid, &attr, 0); err != nil && !errors.Is(err, unix.ESRCH) {
				return len(done), fmt.Errorf("rt: sched_setattr thread %d: %w", tid, err)
			}
		}
		if fresh == 0 {
			return len(done), nil
		}
	}
}

// TrimExecutable unmaps from the process the pages of the executable's
// code and constant data that are resident: start-up (the packages' init,
// flags, config) touched far more of them than streaming runs, and they
// count in its RSS (4 MiB of the daemon's 10). What runs next is mapped
// back on first touch, from the page cache. Written pages (data, heap)
// are left alone.
func TrimExecutable() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("rt: %w", err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return fmt.Errorf("rt: %w", err)
	}
	for line := range strings.Lines(string(maps)) {
		f := strings.Fields(line)
		if len(f) < 6 || f[5] != exe || strings.Contains(f[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(a), uintptr(b-a), unix.MADV_DONTNEED); e != 0 {
			return fmt.Errorf("rt: madvise %s: %w", f[0], e)
		}
	}
	return nil
}
