package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/imustream/imustream/internal/rt"
)

// floorResult is what the floor probe measured: the machine's own
// wake-up timing for threads scheduled like the daemon's sender threads,
// with none of the daemon's work.
type floorResult struct {
	Threads int `json:"threads"`
	// Interval is |interval − period| between the starts of consecutive
	// ticks (the first thread awake, after its spin, as in the sender): the
	// jitter figure, comparable to a stream's.
	Interval Summary `json:"interval_dev"`
	// Late is each tick's start after its deadline: comparable to the
	// daemon's reported late_ns.
	Late Summary `json:"late"`
	// ThreadLateMax is each thread's worst wake-up, µs.
	ThreadLateMax []float64 `json:"thread_late_max_us"`
}

// runFloor is the hidden bench-floor command: it sleeps to --ticks
// deadlines from --start (CLOCK_MONOTONIC ns) with one thread per CPU of
// --cpu, pinned, at --rt-priority and with --spin as the daemon's sender
// threads are, records when each tick starts and prints a floorResult as
// JSON. The bench puts its grid half a period off the daemon's, so that
// the two do not wait for each other.
func runFloor(name string, args []string, stdout, stderr io.Writer) error {
	var (
		rate, prio, ticks int
		start             int64
		cpus              schedFlags
	)
	fs := newFlags(name, stderr)
	cpus.register(fs)
	fs.IntVar(&rate, "rate", 200, "ticks per second")
	fs.IntVar(&ticks, "ticks", 1000, "how many ticks")
	fs.Int64Var(&start, "start", 0, "CLOCK_MONOTONIC ns of the first deadline")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	prio = cpus.rtPriority
	if rate < 1 || rate > 10000 || ticks < 2 {
		return fmt.Errorf("%w: --rate 1..10000, --ticks ≥ 2", errUsage)
	}
	list, err := cpus.cpus()
	if err != nil {
		return err
	}
	period := int64(1e9) / int64(rate)
	// A start that took longer than the bench allowed for (a loaded
	// machine) skips the deadlines already gone, keeping the grid's phase:
	// catching up on them would count the start-up as lateness.
	if gone := (rt.MonoClock{}.Now() - start + period) / period; gone > 0 {
		start += gone * period
		ticks = max(2, ticks-int(gone))
	}
	n := max(1, len(list))
	late := make([][]int64, n)
	// As the sender's threads: the first awake takes the tick and spins.
	taken := make([]atomic.Bool, ticks)
	first := make([]int64, ticks)
	var wg sync.WaitGroup
	errs := make([]error, n)
	pacers := rt.NewPacers(rt.MonoClock{}, n)
	for i := range n {
		late[i] = make([]int64, ticks)
		wg.Go(func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			cpu := -1
			if len(list) > 0 {
				cpu = list[i]
			}
			// As the daemon schedules its sender threads.
			t := rt.ScheduleThread(cpu, prio, cpus.cpu.auto)
			if errs[i] = cmp.Or(t.FIFOErr, t.PinErr); errs[i] != nil {
				return
			}
			pace := pacers[i]
			lead := pace.Lead(t, cpus.spin, period)
			for k := range ticks {
				pace.AfterWork()
				d := start + int64(k)*period
				woke := pace.SleepUntil(d - lead)
				late[i][k] = woke - d
				if taken[k].CompareAndSwap(false, true) {
					first[k] = pace.Spin(woke, d) - d
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
	}
	dev := make([]int64, 0, ticks-1)
	r := floorResult{Threads: n}
	for k := range ticks {
		if k > 0 {
			dev = append(dev, abs(first[k]-first[k-1]))
		}
	}
	for i := range n {
		r.ThreadLateMax = append(r.ThreadLateMax, summarize(late[i]).Max)
	}
	r.Interval, r.Late = summarize(dev), summarize(first)
	return json.NewEncoder(stdout).Encode(&r)
}
