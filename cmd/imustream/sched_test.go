package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/rt"
)

func TestSchedFlagsRange(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--sim", "--rt-priority", "100"}, "100 out of range 0..99"},
		{[]string{"run", "--sim", "--rt-priority", "-1"}, "-1 out of range 0..99"},
		{[]string{"run", "--sim", "--rt-priority", "high"}, `"high" is not an integer`},
		{[]string{"run", "--sim", "--cpu", "-2"}, `"-2" is not auto, none or a list of CPU numbers`},
		{[]string{"run", "--sim", "--cpu", "1,1"}, `CPU 1 twice in "1,1"`},
		{[]string{"run", "--sim", "--cpu", "0,x"}, `"0,x" is not auto`},
		{[]string{"run", "--sim", "--spin", "-1ms"}, "stream: spin -1ms is negative"},
		{[]string{"run", "--sim", "--spin", "fast"}, `--spin "fast": not a duration`},
		{[]string{"bench", "--rt-priority", "100"}, "100 out of range 0..99"},
		{[]string{"bench", "--rate", "0"}, "--rate 0 out of range"},
		{[]string{"bench", "--spin", "-5us"}, "--spin -5µs is negative"},
		{[]string{"bench", "--duration", "0s"}, "--duration must be > 0"},
	} {
		_, stderr, code := runCmd(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("imustream %q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// waitLog waits for the daemon to log a line containing want.
func waitLog(t *testing.T, p *proc, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.stderr.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("daemon log lacks %q:\n%s", want, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSchedFromConfig: the real-time settings are config keys named as
// the flags, and the daemon logs the sender thread's schedule once.
func TestSchedFromConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "imustream.conf")
	if err := os.WriteFile(cfg, []byte("rt-priority = 0\ncpu = 0\nmlock = false\nspin = 20us\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, _ := startDaemon(t, "--config", cfg)
	// At normal priority the spin is off, and the line does not name it.
	waitLog(t, d, "msg=\"sender thread scheduled\" policy=normal mlock=false cpus=[0]\n")
	d.terminate(t)
	if n := strings.Count(d.stderr.String(), "sender thread scheduled"); n != 1 {
		t.Errorf("%d schedule lines, want 1:\n%s", n, d.stderr)
	}
}

// TestSchedAutoCPUs: by default the daemon runs one sender thread, on
// the last CPU it may use when it may use two or more; --cpu none runs it
// on any CPU.
func TestSchedAutoCPUs(t *testing.T) {
	last, err := rt.LastCPUs(2)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) < 2 {
		t.Skipf("needs two CPUs, this process may use %d; TestSchedAutoCPUs not run", len(last))
	}
	d, _ := startDaemon(t)
	waitLog(t, d, fmt.Sprintf("cpus=[%d]\n", last[1]))
	d.terminate(t)
	d, _ = startDaemon(t, "--cpu", "none")
	waitLog(t, d, `msg="sender thread scheduled" policy=`)
	d.terminate(t)
	if strings.Contains(d.stderr.String(), "cpus=") {
		t.Errorf("--cpu none pinned the sender:\n%s", d.stderr)
	}
}
