package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/sdnotify"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/telemetry"
)

// notifySocket binds a unixgram socket as systemd does for NOTIFY_SOCKET;
// every datagram it receives is split into its lines.
type notifySocket struct {
	name string
	ch   chan string
}

func newNotifySocket(t *testing.T, name string) *notifySocket {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	s := &notifySocket{name: name, ch: make(chan string, 1000)}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			for _, l := range strings.Split(strings.TrimSpace(string(buf[:n])), "\n") {
				s.ch <- l
			}
		}
	})
	t.Cleanup(func() { c.Close(); wg.Wait() })
	return s
}

// waitFor returns the first line starting with prefix, within d.
func (s *notifySocket) waitFor(t *testing.T, prefix string, d time.Duration) string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l := <-s.ch:
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no %s… on the notify socket within %v", prefix, d)
			return ""
		}
	}
}

// during fails if a line that bad reports arrives within d.
func (s *notifySocket) during(t *testing.T, d time.Duration, bad func(line string) bool) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l := <-s.ch:
			if bad(l) {
				t.Fatalf("%q arrived while the sender was stalled", l)
			}
		case <-timeout:
			return
		}
	}
}

// stalledFor waits for a STATUS=stalled line reporting a stall of at
// least min and returns it.
func (s *notifySocket) stalledFor(t *testing.T, min time.Duration) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l := <-s.ch:
			rest, ok := strings.CutPrefix(l, "STATUS=stalled: no tick for ")
			if !ok {
				continue
			}
			age, _, _ := strings.Cut(rest, ";")
			d, err := time.ParseDuration(age)
			if err != nil {
				t.Fatalf("stall status %q: %v", l, err)
			}
			if d >= min {
				return l
			}
		case <-timeout:
			t.Fatalf("no status reporting a stall of %v or more", min)
			return ""
		}
	}
}

// gateSensor is the simulator, except that while stalled its Read blocks
// until released: a hung I²C bus, as far as the sender can tell.
type gateSensor struct {
	sensor.Sensor
	stalled atomic.Bool
	blocked chan struct{} // receives when a Read starts blocking
	release chan struct{}
}

func (g *gateSensor) Read(s *sensor.Sample) error {
	if g.stalled.Load() {
		g.blocked <- struct{}{}
		<-g.release
	}
	return g.Sensor.Read(s)
}

func TestSenderHealth(t *testing.T) {
	const ms = int64(time.Millisecond)
	for _, tc := range []struct {
		st       telemetry.Stats
		subs     int
		now      int64
		period   int64
		ok       bool
		contains string
	}{
		{telemetry.Stats{RateHz: 200}, 0, 1e12, 5 * ms, true, "idle"},
		{telemetry.Stats{RateHz: 200, Streaming: true, LastTickMono: 1000 * ms}, 2, 1005 * ms, 5 * ms, true, "streaming to 2 subscribers at 200 Hz"},
		{telemetry.Stats{RateHz: 200, Streaming: true, LastTickMono: 1000 * ms}, 1, 1100 * ms, 5 * ms, true, "1 subscriber"},
		{telemetry.Stats{RateHz: 200, Streaming: true, LastTickMono: 1000 * ms}, 1, 1101 * ms, 5 * ms, false, "stalled: no tick for 100ms"},
		{telemetry.Stats{RateHz: 200, Streaming: true, LastTickMono: 1000 * ms, SensorErrors: 3}, 1, 1001 * ms, 5 * ms, true, "3 sensor errors"},
		// At 1 Hz a tick is due only every second: two periods is the limit.
		{telemetry.Stats{RateHz: 1, Streaming: true, LastTickMono: 1000 * ms}, 1, 2900 * ms, 1000 * ms, true, "streaming"},
		{telemetry.Stats{RateHz: 1, Streaming: true, LastTickMono: 1000 * ms}, 1, 3001 * ms, 1000 * ms, false, "stalled"},
	} {
		ok, status := senderHealth(tc.st, tc.subs, tc.now, tc.period)
		if ok != tc.ok || !strings.Contains(status, tc.contains) {
			t.Errorf("%+v, %d subscribers, %d ns after: %v %q; want %v and %q", tc.st, tc.subs, tc.now-tc.st.LastTickMono, ok, status, tc.ok, tc.contains)
		}
	}
}

// TestWatchdogStopsWhileSenderStalls runs a real sender and the systemd
// notifier against a real NOTIFY_SOCKET: READY=1 and WATCHDOG=1 arrive
// while the sender idles and streams, WATCHDOG=1 stops while a sensor read
// hangs, and comes back once it returns.
func TestWatchdogStopsWhileSenderStalls(t *testing.T) {
	ns := newNotifySocket(t, filepath.Join(t.TempDir(), "notify"))
	t.Setenv("WATCHDOG_USEC", "200000") // checks every 50 ms
	t.Setenv("WATCHDOG_PID", "")

	imu := &gateSensor{Sensor: sim.New(sim.Opts{}), blocked: make(chan struct{}, 1), release: make(chan struct{})}
	subs := telemetry.NewSubscribers()
	log := slog.New(slog.DiscardHandler)
	sender, err := telemetry.NewSender(telemetry.Config{Sensor: imu, Subs: subs, RateHz: 200, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = sender.Run(ctx) })
	wg.Go(func() { notifySystemd(ctx, sdnotify.New(ns.name), sender, subs, log) })
	defer func() {
		if imu.stalled.Swap(false) {
			close(imu.release)
		}
		cancel()
		wg.Wait()
	}()

	ns.waitFor(t, "READY=1", 5*time.Second)
	if s := ns.waitFor(t, "STATUS=", 5*time.Second); !strings.Contains(s, "idle") {
		t.Errorf("first status %q, want idle", s)
	}
	ns.waitFor(t, "WATCHDOG=1", 5*time.Second)

	// A subscriber on loopback makes the sender stream.
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	if _, err := subs.Start(rx.LocalAddr().(*net.UDPAddr).AddrPort(), 0); err != nil {
		t.Fatal(err)
	}
	ns.waitFor(t, "STATUS=streaming to 1 subscriber", 5*time.Second)
	ns.waitFor(t, "WATCHDOG=1", 5*time.Second)

	imu.stalled.Store(true)
	select {
	case <-imu.blocked:
	case <-time.After(5 * time.Second):
		t.Fatal("the sender never read the stalled sensor")
	}
	// A stall of 500 ms can only be this one: a scheduling hiccup on a
	// loaded machine may have been reported (and recovered from) just
	// before the read blocked. From here on nothing may vouch for the
	// sender.
	ns.stalledFor(t, 500*time.Millisecond)
	ns.during(t, 500*time.Millisecond, func(l string) bool {
		return l == "WATCHDOG=1" || (strings.HasPrefix(l, "STATUS=") && !strings.HasPrefix(l, "STATUS=stalled"))
	})

	imu.stalled.Store(false)
	close(imu.release)
	ns.waitFor(t, "STATUS=streaming", 5*time.Second) // sent ahead of WATCHDOG=1
	ns.waitFor(t, "WATCHDOG=1", 5*time.Second)
}

// TestDaemonNotifiesSystemd runs the daemon as systemd would, with
// NOTIFY_SOCKET (abstract, as systemd's own) and WATCHDOG_USEC set.
func TestDaemonNotifiesSystemd(t *testing.T) {
	ns := newNotifySocket(t, fmt.Sprintf("@imustream-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	t.Setenv("NOTIFY_SOCKET", ns.name)
	t.Setenv("WATCHDOG_USEC", "400000")
	t.Setenv("WATCHDOG_PID", "")
	d, addr := startDaemon(t)
	ns.waitFor(t, "READY=1", 5*time.Second)
	ns.waitFor(t, "STATUS=idle", 5*time.Second)
	ns.waitFor(t, "WATCHDOG=1", 5*time.Second)
	ns.waitFor(t, "WATCHDOG=1", 5*time.Second)
	if _, stderr, code := runCmd(t, "ping", "--device", addr); code != 0 {
		t.Errorf("ping after READY=1: exit %d %s", code, stderr)
	}
	d.terminate(t)
	ns.waitFor(t, "STOPPING=1", 5*time.Second)
}
