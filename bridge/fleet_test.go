package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/daemon/daemontest"
	"github.com/imustream/imustream/internal/natstest"
	"github.com/imustream/imustream/receiver"
	"github.com/imustream/imustream/telemetry"
)

// The fleet test is the scale test, small by default so that CI
// runs it: 8 daemons at 200 Hz on their own loopback addresses, one
// bridge, a 3-node cluster with a stream of 3 replicas, 3 consumers
// reading the stream, one node SIGKILLed and restarted mid-run. The
// environment makes it the long measured runs (docs/fleet.md):
//
//	IMUSTREAM_FLEET_DAEMONS=32 IMUSTREAM_FLEET_DURATION=5m
//	IMUSTREAM_FLEET_BIN=bin/imustream  (the bridge as a process, its CPU measured)

func envInt(t *testing.T, name string, def int) int {
	if s := os.Getenv(name); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", name, s, err)
		}
		return n
	}
	return def
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	if s := os.Getenv(name); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", name, s, err)
		}
		return d
	}
	return def
}

// consumer reads the whole stream of every device, as a Recorder each,
// and the latency of each sample: its arrival minus its t_wall_ns.
type consumer struct {
	mu      sync.Mutex
	recs    map[string]*receiver.Recorder
	bad     uint64
	lat     []int64
	ends    atomic.Int64
	dg      telemetry.Datagram
	measure bool
}

func (c *consumer) handle(m Message, err error) {
	now := time.Now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.bad++
		return
	}
	r := c.recs[m.Meta.Device]
	if r == nil {
		r = receiver.NewRecorder(nil)
		c.recs[m.Meta.Device] = r
	}
	_ = Each(m.Meta, m.Payload, func(dg []byte, h telemetry.Header) {
		ends := r.Stats.Ends
		_ = r.Add(dg)
		if r.Stats.Ends > ends {
			c.ends.Add(1)
		}
		if c.measure && h.Type == telemetry.TypeSamples && telemetry.Parse(dg, &c.dg) == nil {
			for i := range c.dg.Samples {
				c.lat = append(c.lat, now-c.dg.Samples[i].WallNs)
			}
		}
	})
}

func connect(t *testing.T, urls string, name string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(urls, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond), nats.DontRandomize())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// rotate puts node i's URL first: each consumer prefers its own node.
func rotate(urls string, i int) string {
	u := strings.Split(urls, ",")
	i %= len(u)
	return strings.Join(append(u[i:], u[:i]...), ",")
}

func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("TestFleet did not run: -short")
	}
	nDaemons := envInt(t, "IMUSTREAM_FLEET_DAEMONS", 8)
	duration := envDuration(t, "IMUSTREAM_FLEET_DURATION", 20*time.Second)
	cluster := natstest.Start(t, 3)
	urls := cluster.URLs()

	var devices []Device
	for i := range nDaemons {
		// A loopback address each, as hosts of their own: a daemon streams
		// from the address it listens on, the one the bridge talks to.
		listen := fmt.Sprintf("127.0.%d.%d:0", 1+i/250, 1+i%250)
		d, _ := daemontest.Start(t, daemon.Config{Listen: listen, Logger: slog.New(slog.DiscardHandler)}, nil)
		devices = append(devices, Device{Name: fmt.Sprintf("d%03d", i), Addr: d.Addr().String()})
	}

	// The stream first, with retries: the cluster elects its meta leader.
	bnc := connect(t, urls, "bridge")
	// A long lease: on a machine this busy a refresh can come seconds
	// late, and an expired lease is a new session (a gap), not a bridge
	// fault.
	br, err := New(Config{Conn: bnc, Stream: "FLEET", Replicas: 3, QueueLen: 1 << 16, Lease: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stream to be created", 60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return br.EnsureStream(ctx) == nil
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cwg sync.WaitGroup
	consumers := make([]*consumer, 3)
	for i := range consumers {
		c := &consumer{recs: map[string]*receiver.Recorder{}, measure: i == 0}
		consumers[i] = c
		nc := connect(t, rotate(urls, i), fmt.Sprintf("consumer-%d", i))
		cwg.Go(func() {
			if err := Subscribe(ctx, nc, "imustream.*.imu", From{}, c.handle); err != nil {
				t.Errorf("consumer %d: %v", i, err)
			}
		})
	}
	defer func() { cancel(); cwg.Wait() }()

	bctx, stopBridge := context.WithCancel(context.Background())
	bdone := make(chan error, 1)
	var bridgePid int
	if bin := os.Getenv("IMUSTREAM_FLEET_BIN"); bin != "" {
		// The bridge as its own process, so its CPU is its own.
		args := []string{"bridge", "--nats", urls, "--stream", "FLEET", "--replicas", "3", "--queue", "65536", "--lease", "30s"}
		for _, d := range devices {
			args = append(args, "--device", d.Name+"="+d.Addr)
		}
		cmd := exec.CommandContext(bctx, bin, args...)
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		bridgePid = cmd.Process.Pid
		go func() { bdone <- cmd.Wait() }()
	} else {
		for _, d := range devices {
			if err := br.Add(d); err != nil {
				t.Fatal(err)
			}
		}
		go func() { bdone <- br.Run(bctx) }()
	}
	start := time.Now()
	cpu0 := cpuNs(t, bridgePid)

	time.Sleep(duration / 3)
	victim := cluster.Nodes[1]
	t.Logf("SIGKILL %s (pid %d) at %.1f s", victim.Name, victim.Pid(), time.Since(start).Seconds())
	victim.Kill()
	time.Sleep(5 * time.Second)
	victim.Restart()
	t.Logf("%s restarted at %.1f s", victim.Name, time.Since(start).Seconds())
	time.Sleep(time.Until(start.Add(duration)))

	cpu1 := cpuNs(t, bridgePid)
	elapsed := time.Since(start)
	stopBridge()
	// A bridge process that exits 0 after the interrupt makes Wait return
	// the context's error.
	if err := <-bdone; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("bridge: %v", err)
	}
	if bridgePid == 0 {
		st := br.Stats()
		t.Logf("bridge: %+v", st)
		if st.Dropped > 0 {
			t.Errorf("the bridge dropped %d messages (%d samples) on a full queue", st.Dropped, st.DroppedSamples)
		}
	}
	for i, c := range consumers {
		waitFor(t, fmt.Sprintf("consumer %d to see every end of stream", i), 120*time.Second, func() bool {
			return c.ends.Load() >= int64(nDaemons)
		})
	}
	cancel()
	cwg.Wait()

	var total, lost uint64
	for i, c := range consumers {
		if c.bad > 0 {
			t.Errorf("consumer %d: %d bad messages", i, c.bad)
		}
		for _, d := range devices {
			r := c.recs[d.Name]
			if r == nil {
				t.Errorf("consumer %d: nothing from %s", i, d.Name)
				continue
			}
			s := r.Summary()
			if s.Lost != 0 || s.Sessions != 1 || !s.EndSeen || s.Samples == 0 {
				t.Errorf("consumer %d, %s: %d samples, %d lost, %d sessions, end seen %v", i, d.Name, s.Samples, s.Lost, s.Sessions, s.EndSeen)
			}
			if i == 0 {
				total, lost = total+s.Samples, lost+s.Lost
			}
		}
	}
	rate := float64(total) / elapsed.Seconds()
	lat := consumers[0].lat
	slices.Sort(lat)
	if len(lat) > 0 {
		t.Logf("%d daemons, %.0f s: consumer 0 got %d samples (%.0f samples/s), %d lost; latency device→consumer p50 %.2f ms, p99 %.2f ms, max %.2f ms",
			nDaemons, elapsed.Seconds(), total, rate, lost, ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), ms(lat[len(lat)-1]))
	}
	if bridgePid != 0 && rate > 0 {
		cpu := float64(cpu1-cpu0) / float64(elapsed)
		t.Logf("bridge process: %.1f %% of one CPU, %.2f %% of a CPU per 1,000 samples/s", cpu*100, cpu*100/(rate/1000))
	}
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// cpuNs is the CPU time of process pid from /proc/PID/task/*/schedstat
// (ns on CPU per thread, not sampled at the tick); 0 for pid 0.
func cpuNs(t *testing.T, pid int) int64 {
	if pid == 0 {
		return 0
	}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, task.Name()))
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			sum += n
		}
	}
	return sum
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
