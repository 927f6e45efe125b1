package telemetry

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// logBuffer is a log destination safe for the sender's goroutine.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRunRealtimePriority: the sender's thread, and only it, runs at the
// requested SCHED_FIFO priority, and the thread ends with Run; where the
// system refuses, Run says what to grant and streams anyway.
func TestRunRealtimePriority(t *testing.T) {
	prio := 7 + int(testPrio.Add(1)%80) // unusual, so no other thread of the test binary has it
	var logs logBuffer
	subs := NewSubscribers()
	rx := newReceiver(t)
	mustStart(t, subs, rx.addr(), 0)
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, RTPriority: prio,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	stop := runSender(t, s)
	rx.nextSamples()
	st := s.Stats()
	switch st.RTPriority {
	case prio:
		if tids := fifoThreads(t, prio); len(tids) != 1 {
			t.Errorf("threads %v at SCHED_FIFO %d, want 1 (the sender's)", tids, prio)
		}
		if !strings.Contains(logs.String(), fmt.Sprintf(`policy="SCHED_FIFO %d"`, prio)) {
			t.Errorf("log does not name the policy:\n%s", logs.String())
		}
	case 0:
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
	var logs logBuffer
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
