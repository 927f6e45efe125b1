package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/sdnotify/sdnotifytest"
)

// TestDaemonNotifiesSystemd runs the daemon as systemd would, with
// NOTIFY_SOCKET (abstract, as systemd's own) and WATCHDOG_USEC set.
func TestDaemonNotifiesSystemd(t *testing.T) {
	ns := sdnotifytest.New(t, fmt.Sprintf("@imustream-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	t.Setenv("NOTIFY_SOCKET", ns.Name)
	t.Setenv("WATCHDOG_USEC", "400000")
	t.Setenv("WATCHDOG_PID", "")
	d, addr := startDaemon(t)
	ns.WaitFor(t, "READY=1", 5*time.Second)
	ns.WaitFor(t, "STATUS=idle", 5*time.Second)
	ns.WaitFor(t, "WATCHDOG=1", 5*time.Second)
	ns.WaitFor(t, "WATCHDOG=1", 5*time.Second)
	if _, stderr, code := runCmd(t, "ping", "--device", addr); code != 0 {
		t.Errorf("ping after READY=1: exit %d %s", code, stderr)
	}
	d.terminate(t)
	ns.WaitFor(t, "STOPPING=1", 5*time.Second)
}
