package daemon

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/internal/sdnotify"
	"github.com/imustream/imustream/internal/sdnotify/sdnotifytest"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/stream"
)

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
		st       stream.Stats
		subs     int
		now      int64
		period   int64
		ok       bool
		contains string
	}{
		{stream.Stats{RateHz: 200}, 0, 1e12, 5 * ms, true, "idle"},
		{stream.Stats{RateHz: 200, Streaming: true, LastTickMono: 1000 * ms}, 2, 1005 * ms, 5 * ms, true, "streaming to 2 subscribers at 200 Hz"},
		{stream.Stats{RateHz: 200, Streaming: true, LastTickMono: 1000 * ms}, 1, 1100 * ms, 5 * ms, true, "1 subscriber"},
		{stream.Stats{RateHz: 200, Streaming: true, LastTickMono: 1000 * ms}, 1, 1101 * ms, 5 * ms, false, "stalled: no tick for 100ms"},
		{stream.Stats{RateHz: 200, Streaming: true, LastTickMono: 1000 * ms, SensorErrors: 3}, 1, 1001 * ms, 5 * ms, true, "3 sensor errors"},
		// At 1 Hz a tick is due only every second: two periods is the limit.
		{stream.Stats{RateHz: 1, Streaming: true, LastTickMono: 1000 * ms}, 1, 2900 * ms, 1000 * ms, true, "streaming"},
		{stream.Stats{RateHz: 1, Streaming: true, LastTickMono: 1000 * ms}, 1, 3001 * ms, 1000 * ms, false, "stalled"},
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
	ns := sdnotifytest.New(t, filepath.Join(t.TempDir(), "notify"))
	t.Setenv("WATCHDOG_USEC", "200000") // checks every 50 ms
	t.Setenv("WATCHDOG_PID", "")

	imu := &gateSensor{Sensor: sim.New(sim.Opts{}), blocked: make(chan struct{}, 1), release: make(chan struct{})}
	subs := stream.NewSubscribers()
	log := slog.New(slog.DiscardHandler)
	sender, err := stream.NewSender(stream.Config{Sensor: imu, Subs: subs, RateHz: 200, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = sender.Run(ctx) })
	wg.Go(func() { newWatchdog(sdnotify.New(ns.Name), sender, subs, rt.MonoClock{}, log).run(ctx) })
	defer func() {
		if imu.stalled.Swap(false) {
			close(imu.release)
		}
		cancel()
		wg.Wait()
	}()

	ns.WaitFor(t, "READY=1", 5*time.Second)
	if s := ns.WaitFor(t, "STATUS=", 5*time.Second); !strings.Contains(s, "idle") {
		t.Errorf("first status %q, want idle", s)
	}
	ns.WaitFor(t, "WATCHDOG=1", 5*time.Second)

	// A subscriber on loopback makes the sender stream.
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	if _, _, err := subs.Start(rx.LocalAddr().(*net.UDPAddr).AddrPort(), 0, 0, 0, nil, ""); err != nil {
		t.Fatal(err)
	}
	ns.WaitFor(t, "STATUS=streaming to 1 subscriber", 5*time.Second)
	ns.WaitFor(t, "WATCHDOG=1", 5*time.Second)

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
	ns.StalledFor(t, 500*time.Millisecond)
	ns.During(t, 500*time.Millisecond, func(l string) bool {
		return l == "WATCHDOG=1" || (strings.HasPrefix(l, "STATUS=") && !strings.HasPrefix(l, "STATUS=stalled"))
	})

	imu.stalled.Store(false)
	close(imu.release)
	ns.WaitFor(t, "STATUS=streaming", 5*time.Second) // sent ahead of WATCHDOG=1
	ns.WaitFor(t, "WATCHDOG=1", 5*time.Second)
}
