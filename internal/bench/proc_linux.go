package bench

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// userHZ is the unit of the CPU times in /proc/PID/stat; the kernel fixes
// it at 100 for user space on every architecture this runs on.
const userHZ = 100

// cpuSample is a process's CPU time at a moment: user + system in userHZ
// ticks (/proc/PID/stat, what the machine's window is compared with), and
// the scheduler's own run time of all its threads in ns
// (/proc/PID/task/*/schedstat). utime and stime are sampled at the
// scheduler tick and mislead for threads that run 20 µs at a time; the
// run time is counted at every switch.
type cpuSample struct {
	at    time.Time
	ticks uint64
	ns    uint64
}

// statFields returns the fields of a /proc stat file after the command
// name, which may contain spaces: f[0] is field 3 (state) of proc(5).
func statFields(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil, fmt.Errorf("bench: %s: no command name", path)
	}
	return strings.Fields(string(b[i+1:])), nil
}

// readCPU reads pid's CPU time.
func readCPU(pid int) (cpuSample, error) {
	f, err := statFields(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return cpuSample{}, fmt.Errorf("bench: %w", err)
	}
	if len(f) < 13 {
		return cpuSample{}, fmt.Errorf("bench: /proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64) // utime, field 14
	st, err2 := strconv.ParseUint(f[12], 10, 64) // stime, field 15
	if err1 != nil || err2 != nil {
		return cpuSample{}, fmt.Errorf("bench: /proc/%d/stat: bad CPU times", pid)
	}
	ns, err := runTime(pid)
	if err != nil {
		return cpuSample{}, err
	}
	return cpuSample{at: time.Now(), ticks: ut + st, ns: ns}, nil
}

// runTime sums the first field of the schedstat of pid's threads: the ns
// they have run. A thread that exits between two readings takes its share
// with it; the processes measured keep theirs for the whole run.
func runTime(pid int) (uint64, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("bench: no threads of process %d", pid)
	}
	sum := uint64(0)
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread has exited
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return 0, fmt.Errorf("bench: %s: empty", t)
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: %s: %w", t, err)
		}
		sum += n
	}
	return sum, nil
}

// machineTime returns, from /proc/stat and in userHZ ticks summed over the
// CPUs, the time they were busy (user, nice, system, irq, softirq) and the
// time a hypervisor ran something else while they had work (steal).
func machineTime() (busy, steal uint64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("bench: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("bench: /proc/stat: unexpected first line %q", line)
	}
	var v [9]uint64
	for i := 1; i < 9; i++ {
		if v[i], err = strconv.ParseUint(f[i], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("bench: /proc/stat: %w", err)
		}
	}
	return v[1] + v[2] + v[3] + v[6] + v[7], v[8], nil
}

// cpuWindow is the machine's busy CPU time and the part of it used by the
// bench's own processes, at a moment.
type cpuWindow struct {
	at                time.Time
	busy, steal, ours uint64
}

// sampleWindow reads the machine's CPU time and that of pids.
func sampleWindow(pids []int) (cpuWindow, error) {
	w := cpuWindow{at: time.Now()}
	var err error
	if w.busy, w.steal, err = machineTime(); err != nil {
		return w, err
	}
	for _, pid := range pids {
		c, err := readCPU(pid)
		if err != nil {
			return w, err
		}
		w.ours += c.ticks
	}
	return w, nil
}

// otherPercent is the CPU that processes other than the bench's used
// between a and b, in percent of one CPU.
func otherPercent(a, b cpuWindow) float64 {
	secs := b.at.Sub(a.at).Seconds()
	busy, ours := float64(b.busy-a.busy), float64(b.ours-a.ours)
	if secs <= 0 || busy <= ours {
		return 0
	}
	return (busy - ours) / userHZ / secs * 100
}

// stealMs is the time the hypervisor took from the machine's CPUs between
// a and b.
func stealMs(a, b cpuWindow) float64 { return float64(b.steal-a.steal) * 1000 / userHZ }

// cpuPercent is the CPU used between a and b as a percentage of one CPU.
func cpuPercent(a, b cpuSample) float64 {
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(b.ns-a.ns) / 1e9 / secs * 100
}

// cpuPerTick is the CPU used between a and b per tick of a schedule of
// rateHz, in µs: the cost of one sample, whatever the batch.
func cpuPerTick(a, b cpuSample, rateHz int) float64 {
	ticks := b.at.Sub(a.at).Seconds() * float64(rateHz)
	if ticks <= 0 {
		return 0
	}
	return math.Round(float64(b.ns-a.ns)/ticks/10) / 100
}

// readMem returns VmRSS and VmHWM (peak RSS) in KiB.
func readMem(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("bench: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm, sc.Err()
}

// threadSched is one thread's scheduling, from its /proc stat.
type threadSched struct{ tid, prio, policy int }

// threadScheds reads the scheduling of each of pid's threads.
func threadScheds(pid int) []threadSched {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	var ts []threadSched
	for _, t := range tasks {
		f, err := statFields(t)
		if err != nil || len(f) < 39 {
			continue
		}
		var s threadSched
		s.tid, _ = strconv.Atoi(filepath.Base(filepath.Dir(t)))
		s.prio, _ = strconv.Atoi(f[37])   // rt_priority, field 40
		s.policy, _ = strconv.Atoi(f[38]) // policy, field 41
		ts = append(ts, s)
	}
	return ts
}

// topPriority returns the threads of ts at the highest real-time priority
// among them (none when all are at normal priority).
func topPriority(ts []threadSched) []threadSched {
	var top []threadSched
	for _, t := range ts {
		switch {
		case t.prio == 0:
		case len(top) == 0 || t.prio > top[0].prio:
			top = append(top[:0], t)
		case t.prio == top[0].prio:
			top = append(top, t)
		}
	}
	return top
}

// readSched names the strongest scheduling policy among pid's threads,
// e.g. "SCHED_FIFO 50 (1 of 7 threads)" or "SCHED_OTHER".
func readSched(pid int) string {
	ts := threadScheds(pid)
	top := topPriority(ts)
	if len(top) == 0 {
		return "SCHED_OTHER"
	}
	policy := top[0].policy
	name := map[int]string{unix.SCHED_FIFO: "SCHED_FIFO", unix.SCHED_RR: "SCHED_RR"}[policy]
	if name == "" {
		name = "policy " + strconv.Itoa(policy)
	}
	return fmt.Sprintf("%s %d (%d of %d threads)", name, top[0].prio, len(top), len(ts))
}

// rtThreads returns the ids of pid's SCHED_FIFO threads at the highest
// priority among them: the daemon's sender threads (the rest of a daemon
// whose senders are real-time runs at SCHED_FIFO 1).
func rtThreads(pid int) []int {
	var fifo []threadSched
	for _, t := range threadScheds(pid) {
		if t.policy == unix.SCHED_FIFO {
			fifo = append(fifo, t)
		}
	}
	var tids []int
	for _, t := range topPriority(fifo) {
		tids = append(tids, t.tid)
	}
	return tids
}

// voluntarySwitches returns how often the threads tids of pid have
// blocked, together.
func voluntarySwitches(pid int, tids []int) (uint64, error) {
	sum := uint64(0)
	for _, tid := range tids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
		if err != nil {
			return 0, fmt.Errorf("bench: %w", err)
		}
		v, ok := "", false
		for line := range strings.Lines(string(b)) {
			if v, ok = strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				break
			}
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if !ok || err != nil {
			return 0, fmt.Errorf("bench: no voluntary_ctxt_switches for thread %d", tid)
		}
		sum += n
	}
	return sum, nil
}

// readMachine describes this machine.
func readMachine() MachineInfo {
	m := MachineInfo{CPUs: runtime.NumCPU(), Go: runtime.Version(), CPU: runtime.GOARCH}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
		m.Build = unix.ByteSliceToString(u.Version[:])
	}
	m.Preempt = readPreempt()
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			k, v, _ := strings.Cut(line, ":")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			switch {
			case (k == "model name" || k == "Model") && m.CPU == runtime.GOARCH:
				m.CPU = v
			case k == "cpu MHz" && m.MHz == 0:
				m.MHz, _ = strconv.ParseFloat(v, 64)
			case k == "flags" && strings.Contains(" "+v+" ", " hypervisor "):
				m.Virtual = true
			}
		}
	}
	return m
}

// readPreempt returns the kernel's preemption model.
func readPreempt() string {
	if b, err := os.ReadFile("/proc/cmdline"); err == nil {
		for _, f := range strings.Fields(string(b)) {
			if v, ok := strings.CutPrefix(f, "preempt="); ok {
				return v
			}
		}
	}
	f, err := os.Open("/proc/config.gz")
	if err != nil {
		return ""
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return ""
	}
	models := map[string]string{"CONFIG_PREEMPT_RT=y": "rt", "CONFIG_PREEMPT=y": "full",
		"CONFIG_PREEMPT_LAZY=y": "lazy", "CONFIG_PREEMPT_VOLUNTARY=y": "voluntary", "CONFIG_PREEMPT_NONE=y": "none"}
	model := ""
	sc := bufio.NewScanner(z)
	for sc.Scan() {
		// PREEMPT_RT implies PREEMPT: the strongest one named wins.
		if m, ok := models[sc.Text()]; ok && (model == "" || m == "rt") {
			model = m
		}
	}
	return model
}

// loadAvg is the 1-minute load average.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
