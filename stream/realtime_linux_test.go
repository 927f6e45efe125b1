package stream

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/internal/syncbuf"
	"github.com/imustream/imustream/sensor/sim"
	"golang.org/x/sys/unix"
)

// fifoThreads returns the ids of this process's threads running
// SCHED_FIFO at prio.
func fifoThreads(t *testing.T, prio int) []int {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var tids []int
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue // the thread just ended
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		// Fields 40 and 41 of proc(5): rt_priority and policy.
		if len(f) > 38 && f[37] == strconv.Itoa(prio) && f[38] == strconv.Itoa(unix.SCHED_FIFO) {
			tid, _ := strconv.Atoi(filepath.Base(filepath.Dir(task)))
			tids = append(tids, tid)
		}
	}
	return tids
}

// testPrio gives each run of a test its own unusual priority: a main
// thread left parked at one (see TestRunRealtimePriority) must not count
// in the next run (-count).
var testPrio atomic.Int32

// TestRunRealtimePriority: the sender's thread, and only it, runs at the
// requested SCHED_FIFO priority, and the thread ends with Run; where the
// system refuses, Run says what to grant and streams anyway.
func TestRunRealtimePriority(t *testing.T) {
	prio := 7 + int(testPrio.Add(1)%80) // unusual, so no other thread of the test binary has it
	var logs syncbuf.Buffer
	subs := NewSubscribers()
	rx := newReceiver(t)
	mustStart(t, subs, rx.addr(), 0)
	// A spin of a tenth of the period (capped from 1 ms): with it a tick
	// starts on its deadline unless the wake-up came that late.
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, RTPriority: prio, Spin: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	stop := runSender(t, s)
	rx.nextSamples()
	late := make([]int64, 21)
	for i := range late {
		late[i] = rx.nextSamples().Samples[0].LateNs
	}
	slices.Sort(late)
	st := s.Stats()
	switch st.RTPriority {
	case prio:
		if tids := fifoThreads(t, prio); len(tids) != 1 {
			t.Errorf("threads %v at SCHED_FIFO %d, want 1 (the sender's)", tids, prio)
		}
		if !strings.Contains(logs.String(), fmt.Sprintf(`policy="SCHED_FIFO %d"`, prio)) || !strings.Contains(logs.String(), "spin=500µs") {
			t.Errorf("log does not name the policy and the spin:\n%s", logs.String())
		}
		if med := late[len(late)/2]; med < 0 || med > 5000 {
			t.Errorf("median late_ns %d with a 500 µs spin, want 0 to 5 µs: the tick must start on its deadline", med)
		}
	case 0:
		// At normal priority the thread does not spin.
		if strings.Contains(logs.String(), "spin=") {
			t.Errorf("spin logged for a thread at normal priority:\n%s", logs.String())
		}
		// Refused here: one warning says so and, when it is a matter of
		// permission, what to grant.
		var warned []string
		for line := range strings.Lines(logs.String()) {
			if strings.Contains(line, "level=WARN") && strings.Contains(line, "real-time priority not") {
				warned = append(warned, line)
			}
		}
		if len(warned) != 1 {
			t.Fatalf("refused RT priority: %d warnings, want 1:\n%s", len(warned), logs.String())
		}
		if strings.Contains(warned[0], "not permitted") && !strings.Contains(warned[0], "CAP_SYS_NICE") {
			t.Errorf("refused RT priority: the warning does not say what to grant: %s", warned[0])
		}
	default:
		t.Fatalf("Stats().RTPriority = %d, want %d or 0", st.RTPriority, prio)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// A locked goroutine's thread ends with it, just after Run returns:
	// no RT thread may stay behind to run other goroutines. The one
	// exception is the process's main thread, which the runtime cannot end
	// and parks for good instead.
	pid := os.Getpid()
	for deadline := time.Now().Add(rxTimeout); ; time.Sleep(time.Millisecond) {
		tids := fifoThreads(t, prio)
		if len(tids) == 0 || len(tids) == 1 && tids[0] == pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SCHED_FIFO %d threads %v outlived Run", prio, tids)
		}
	}
}

func TestRealtimeConfigRange(t *testing.T) {
	for _, prio := range []int{-1, 100} {
		_, err := NewSender(Config{Sensor: sim.New(sim.Opts{}), Subs: NewSubscribers(), RTPriority: prio})
		if err == nil || !strings.Contains(err.Error(), "RT priority") {
			t.Errorf("RTPriority %d: error %v, want out of range", prio, err)
		}
	}
}

// TestRunPinnedCPU: the sender's thread is pinned to the CPU it is given.
func TestRunPinnedCPU(t *testing.T) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	cpu := -1
	for c := range 1024 {
		if set.IsSet(c) {
			cpu = c // the last one this test may use
		}
	}
	var logs syncbuf.Buffer
	subs := NewSubscribers()
	rx := newReceiver(t)
	mustStart(t, subs, rx.addr(), 0)
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, CPUs: []int{cpu},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	stop := runSender(t, s)
	rx.nextSamples()
	if want := fmt.Sprintf("cpus=[%d]", cpu); !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %s:\n%s", want, logs.String())
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// twoCPUs returns two CPUs this test may run on.
func twoCPUs(t *testing.T) []int {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	var cpus []int
	for c := 0; c < 1024 && len(cpus) < 2; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) < 2 {
		t.Skipf("needs two CPUs, this process may use %d", len(cpus))
	}
	return cpus
}

// stallClock is a rt.MonoClock on which, once armed, the first sender thread
// to wake stays away for stall before it returns, like a thread whose CPU
// the hypervisor took.
type stallClock struct {
	rt.MonoClock
	stall  time.Duration
	armed  atomic.Bool
	victim atomic.Int64 // thread id
}

func (c *stallClock) SleepUntil(deadline int64) int64 {
	now := c.MonoClock.SleepUntil(deadline)
	if c.armed.Load() && c.victim.CompareAndSwap(0, int64(unix.Gettid())) {
		time.Sleep(c.stall) // the goroutine is locked: the thread waits
		return c.Now()
	}
	return now
}

// TestRunTwoThreadsCoverStall: with a sender thread on each of two CPUs,
// a thread held up for ten periods does not hold up the stream: the other
// one keeps the ticks. The same stall with one thread skips them, which
// shows that the test can fail.
func TestRunTwoThreadsCoverStall(t *testing.T) {
	cpus := twoCPUs(t)
	// The rest of the process as the daemon runs it at real-time
	// priority, where permitted: a yield the runtime asks of the
	// covering thread then does not wait behind a busy machine.
	if _, err := rt.ScheduleProcess(1); err == nil {
		t.Cleanup(func() { _, _ = rt.ScheduleProcess(0) })
	}
	const rate, periods = 50, 10
	for _, tc := range []struct {
		cpus     []int
		covering bool
	}{{cpus, true}, {cpus[:1], false}} {
		t.Run(fmt.Sprintf("%d threads", len(tc.cpus)), func(t *testing.T) {
			// Ten and a half periods: the stalled thread comes back between
			// two deadlines, not on one that the other thread is taking.
			clock := &stallClock{stall: (2*periods + 1) * time.Second / rate / 2}
			subs := NewSubscribers()
			rx := newReceiver(t)
			mustStart(t, subs, rx.addr(), 0)
			// At real-time priority where permitted (as root), so that the
			// covering thread is not itself held up by a busy machine.
			s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, RateHz: rate, CPUs: tc.cpus, Clock: clock, RTPriority: 50})
			stop := runSender(t, s)
			rx.nextSamples()
			clock.armed.Store(true)
			waitFor(t, "the stall and 5 more periods", func() bool {
				return clock.victim.Load() != 0 && s.Stats().Ticks >= periods+5+2
			})
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			st := s.Stats()
			if tc.covering {
				// A loaded test machine may delay the other thread a
				// little; only a stall-sized gap fails.
				if st.Skipped >= periods/2 || st.Covered < 1 {
					t.Errorf("skipped %d, covered %d: want < %d skipped and the stalled wake-up covered", st.Skipped, st.Covered, periods/2)
				}
			} else if st.Skipped < periods/2 {
				t.Errorf("one thread: skipped %d, want ≥ %d", st.Skipped, periods/2)
			}
		})
	}
}

// TestRunTwoThreadsOneTickEach: two sender threads never do the same tick
// twice, nor two ticks at once (the race detector watches the buffers
// they share): every sample arrives once, in order, one period apart on
// the grid.
func TestRunTwoThreadsOneTickEach(t *testing.T) {
	cpus := twoCPUs(t)
	subs := NewSubscribers()
	rx := newReceiver(t)
	mustStart(t, subs, rx.addr(), 0)
	const rate = 500
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, RateHz: rate, CPUs: cpus})
	stop := runSender(t, s)
	first := rx.nextSamples()
	prev := first.Samples[0]
	seq := first.Seq
	for range 300 {
		d := rx.nextSamples()
		if d.Seq != seq+1 || d.Session != first.Session {
			t.Fatalf("datagram session %#x seq %d after %d: want %#x, %d", d.Session, d.Seq, seq, first.Session, seq+1)
		}
		seq = d.Seq
		cur := d.Samples[0]
		// Deadlines (MonoNs − LateNs) are whole periods apart: a tick
		// done twice would repeat one, two at once would break the order.
		step := (cur.MonoNs - cur.LateNs) - (prev.MonoNs - prev.LateNs)
		if step <= 0 || step%(int64(time.Second)/rate) != 0 {
			t.Fatalf("seq %d: deadline %d ns after the previous one, want a positive multiple of the period", d.Seq, step)
		}
		prev = cur
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Ticks != uint64(st.NextSeq) {
		t.Errorf("ticks %d, samples %d: want one sample per tick", st.Ticks, st.NextSeq)
	}
}

// TestRunPinOnlyRealtime: threads at normal priority stay unpinned when
// the CPUs are only a default, and are pinned when the user chose them.
func TestRunPinOnlyRealtime(t *testing.T) {
	cpus := twoCPUs(t)
	for _, only := range []bool{true, false} {
		var logs syncbuf.Buffer
		subs := NewSubscribers()
		rx := newReceiver(t)
		mustStart(t, subs, rx.addr(), 0)
		s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, CPUs: cpus, PinOnlyRealtime: only,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		stop := runSender(t, s)
		rx.nextSamples()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		pinned := strings.Contains(logs.String(), fmt.Sprintf(`cpus="[%d %d]"`, cpus[0], cpus[1]))
		if pinned == only || !strings.Contains(logs.String(), "threads=2") {
			t.Errorf("PinOnlyRealtime %v at normal priority: pinned %v, want %v, two threads:\n%s", only, pinned, !only, logs.String())
		}
	}
}
