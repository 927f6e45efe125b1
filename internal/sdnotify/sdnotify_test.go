package sdnotify

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// listen binds a unixgram socket as systemd does for NOTIFY_SOCKET and
// returns its name and the messages it receives.
func listen(t *testing.T, name string) <-chan string {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 100)
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				close(ch)
				return
			}
			ch <- string(buf[:n])
		}
	})
	t.Cleanup(func() { c.Close(); wg.Wait() })
	return ch
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message on the notify socket")
		return ""
	}
}

func TestNotifyPathAndAbstract(t *testing.T) {
	for _, name := range []string{
		filepath.Join(t.TempDir(), "notify"),
		fmt.Sprintf("@imustream-sdnotify-test-%d-%d", os.Getpid(), time.Now().UnixNano()),
	} {
		ch := listen(t, name)
		t.Setenv("NOTIFY_SOCKET", name)
		n := FromEnv()
		if n == nil {
			t.Fatal("FromEnv returned nil with NOTIFY_SOCKET set")
		}
		if err := n.Notify("READY=1\nSTATUS=hello"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m := recv(t, ch); m != "READY=1\nSTATUS=hello" {
			t.Errorf("%s: got %q", name, m)
		}
	}
}

func TestNoSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := FromEnv()
	if n != nil {
		t.Fatalf("FromEnv = %v without NOTIFY_SOCKET, want nil", n)
	}
	if err := n.Notify("READY=1"); err != nil {
		t.Errorf("nil Notifier: %v", err)
	}
	n.Watch(context.Background(), time.Second, true, func() (bool, string) {
		t.Error("nil Notifier checked health")
		return true, ""
	}, nil)

	gone := New(filepath.Join(t.TempDir(), "nobody-listens"))
	if err := gone.Notify("READY=1"); err == nil || !strings.HasPrefix(err.Error(), "sdnotify: ") {
		t.Errorf("Notify to a missing socket: %v, want an sdnotify error", err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	me := strconv.Itoa(os.Getpid())
	for _, tc := range []struct {
		usec, pid string
		want      time.Duration
		err       bool
	}{
		{"", "", 0, false},
		{"5000000", "", 5 * time.Second, false},
		{"5000000", me, 5 * time.Second, false},
		{"5000000", "1", 0, false}, // meant for another process
		{"0", "", 0, true},
		{"-3", "", 0, true},
		{"soon", "", 0, true},
		{"5000000", "me", 0, true},
	} {
		t.Setenv("WATCHDOG_USEC", tc.usec)
		t.Setenv("WATCHDOG_PID", tc.pid)
		got, err := WatchdogInterval()
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("WATCHDOG_USEC=%q WATCHDOG_PID=%q: %v, %v; want %v, error %v", tc.usec, tc.pid, got, err, tc.want, tc.err)
		}
	}
}

// TestWatch: WATCHDOG=1 only while the check says healthy, STATUS= only
// when it changes.
func TestWatch(t *testing.T) {
	name := filepath.Join(t.TempDir(), "notify")
	ch := listen(t, name)
	var healthy atomic.Bool
	var status atomic.Value
	healthy.Store(true)
	status.Store("fine")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		New(name).Watch(ctx, 10*time.Millisecond, true, func() (bool, string) {
			return healthy.Load(), status.Load().(string)
		}, func(err error) { t.Error(err) })
	})
	defer func() { cancel(); wg.Wait() }()

	if m := recv(t, ch); m != "STATUS=fine\nWATCHDOG=1\n" {
		t.Fatalf("first message %q", m)
	}
	if m := recv(t, ch); m != "WATCHDOG=1\n" {
		t.Fatalf("second message %q, want only WATCHDOG=1 (status unchanged)", m)
	}
	healthy.Store(false)
	status.Store("sick")
	for m := recv(t, ch); m != "STATUS=sick\n"; m = recv(t, ch) {
		if m != "WATCHDOG=1\n" {
			t.Fatalf("got %q while turning unhealthy", m)
		}
	}
	select {
	case m := <-ch:
		t.Fatalf("got %q while unhealthy with an unchanged status", m)
	case <-time.After(100 * time.Millisecond): // 10 checks
	}
	healthy.Store(true)
	if m := recv(t, ch); m != "WATCHDOG=1\n" {
		t.Fatalf("got %q after recovering, want WATCHDOG=1", m)
	}
}
