package bench

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/rt"
)

// Floor is FloorCommand, the floor probe: it sleeps to the deadlines of
// its command line with one thread per CPU the daemon's sender threads
// would use, pinned, at their priority and with their spin, records when
// each tick starts and writes a FloorResult as JSON to stdout. The bench
// puts its grid half a period off the daemon's, so that the two do not
// wait for each other.
func Floor(args []string, stdout, stderr io.Writer) error {
	f, err := parseFloorArgs(args, stderr)
	if err != nil {
		return err
	}
	cpus, pinOnlyRT, err := f.cpu.Resolve()
	if err != nil {
		return fmt.Errorf("bench: floor: %w", err)
	}
	if f.rtPriority > daemon.RuntimePriority {
		// The rest of the process as the daemon's (see its tuning).
		if _, err := rt.ScheduleProcess(daemon.RuntimePriority); err != nil {
			return fmt.Errorf("bench: floor: %w", err)
		}
	}
	period := int64(time.Second) / int64(f.rateHz)
	// A start that took longer than the bench allowed for (a loaded
	// machine) skips the deadlines already gone, keeping the grid's phase:
	// catching up on them would count the start-up as lateness.
	if gone := (rt.MonoClock{}.Now() - f.start + period) / period; gone > 0 {
		f.start += gone * period
		f.ticks = max(2, f.ticks-int(gone))
	}
	p := floorProbe{floorArgs: f, period: period, pinOnlyRT: pinOnlyRT,
		taken: make([]atomic.Bool, f.ticks), first: make([]int64, f.ticks)}
	late, err := p.run(cpus)
	if err != nil {
		return fmt.Errorf("bench: floor: %w", err)
	}
	r := FloorResult{Threads: len(late)}
	dev := make([]int64, 0, f.ticks-1)
	for k := 1; k < f.ticks; k++ {
		dev = append(dev, abs(p.first[k]-p.first[k-1]))
	}
	for _, l := range late {
		r.ThreadLateMax = append(r.ThreadLateMax, summarize(l).Max)
	}
	r.Interval, r.Late = summarize(dev), summarize(p.first)
	return json.NewEncoder(stdout).Encode(&r)
}

// floorProbe is the floor's schedule and what its threads share: as the
// sender's threads, the first awake at a deadline takes the tick and
// spins to it.
type floorProbe struct {
	floorArgs
	period    int64
	pinOnlyRT bool
	taken     []atomic.Bool
	first     []int64 // each tick's start after its deadline
}

// run runs one thread per CPU of cpus (one unpinned thread without) and
// returns each thread's wake-ups after each deadline.
func (p *floorProbe) run(cpus []int) ([][]int64, error) {
	n := max(1, len(cpus))
	late := make([][]int64, n)
	errs := make([]error, n)
	pacers := rt.NewPacers(rt.MonoClock{}, n)
	var wg sync.WaitGroup
	for i := range n {
		late[i] = make([]int64, p.ticks)
		cpu := -1
		if len(cpus) > 0 {
			cpu = cpus[i]
		}
		wg.Go(func() { errs[i] = p.thread(cpu, pacers[i], late[i]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return late, nil
}

// thread schedules the calling goroutine's thread as the daemon schedules
// its sender threads and sleeps to every deadline, recording its wake-ups
// in late.
func (p *floorProbe) thread(cpu int, pace *rt.Pacer, late []int64) error {
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	t := rt.ScheduleThread(cpu, p.rtPriority, p.pinOnlyRT)
	if err := cmp.Or(t.FIFOErr, t.PinErr); err != nil {
		return err
	}
	_ = pace.Hold(p.period) // as the sender's threads; unheld where it fails, as theirs
	lead := pace.Lead(t, p.spin, p.period)
	for k := range p.ticks {
		d := p.start + int64(k)*p.period
		woke := pace.SleepUntil(d - lead)
		late[k] = woke - d
		if p.taken[k].CompareAndSwap(false, true) {
			p.first[k] = pace.Spin(woke, d) - d
		}
	}
	return nil
}
