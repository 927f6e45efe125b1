package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/telemetry"
)

// child is a process the bench runs: the daemon, the baseline or a load.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and stderr is read
	err  error         // Wait's result, once done

	ready  chan string  // the daemon's control address, from its ready line
	stdout bytes.Buffer // read once done

	mu   sync.Mutex
	gcAt []int64  // CLOCK_REALTIME ns at which each GODEBUG=gctrace line came
	tail []string // the last lines of stderr, for error messages
}

// startChild runs this binary with args. The child dies with the bench
// (PR_SET_PDEATHSIG), so an interrupted bench leaves no load behind.
func startChild(name string, args []string, env ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{}), ready: make(chan string, 1)}
	cmd.Stdout = &c.stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start %s: %w", name, err)
	}
	go c.readStderr(stderr)
	return c, nil
}

func (c *child) readStderr(r io.Reader) {
	sc := bufio.NewScanner(r)
	readySent := false
	for sc.Scan() {
		line := sc.Text()
		c.mu.Lock()
		if strings.HasPrefix(line, "gc ") && strings.Contains(line, " @") {
			c.gcAt = append(c.gcAt, time.Now().UnixNano())
		} else {
			c.tail = append(c.tail, line)
			if len(c.tail) > 20 {
				c.tail = c.tail[1:]
			}
		}
		c.mu.Unlock()
		if !readySent && strings.Contains(line, "imustream daemon ready") {
			if _, rest, ok := strings.Cut(line, " listen="); ok {
				addr, _, _ := strings.Cut(rest, " ")
				c.ready <- addr
				readySent = true
			}
		}
	}
	_, _ = io.Copy(io.Discard, r)
	c.err = c.cmd.Wait()
	close(c.done)
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// gcBetween counts the GC cycles the child reported in [from, to).
func (c *child) gcBetween(from, to int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.gcAt {
		if t >= from && t < to {
			n++
		}
	}
	return n
}

// stderrTail returns the child's last lines of output.
func (c *child) stderrTail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.tail, "\n")
}

// stop sends sig and waits up to wait for the exit, then kills.
func (c *child) stop(sig os.Signal, wait time.Duration) {
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.done:
	case <-time.After(wait):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// runSpin is the hidden bench-spin command: one CPU-bound loop, a
// process of --load.
func runSpin(name string, args []string, _, stderr io.Writer) error {
	fs := newFlags(name, stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	runtime.GOMAXPROCS(1)
	x := uint64(1)
	for {
		for range 1 << 20 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		spinSink.Store(x)
	}
}

// spinSink keeps the loop's result observable so the compiler keeps the loop.
var spinSink atomic.Uint64

// runBaseline is the hidden bench-baseline command: the daemon's job done
// the straightforward way, for comparison. A goroutine on a time.Ticker
// reads the same simulated sensor, encodes with the same encoder and
// writes to a connected UDP socket, until SIGTERM; then it ends the stream
// like the daemon does.
func runBaseline(name string, args []string, _, stderr io.Writer) error {
	var (
		to          string
		rate, batch int
		seed        uint64
	)
	fs := newFlags(name, stderr)
	fs.StringVar(&to, "to", "", "stream to HOST:PORT")
	fs.IntVar(&rate, "rate", 200, "sample rate in Hz")
	fs.IntVar(&batch, "batch", 1, "samples per datagram")
	fs.Uint64Var(&seed, "seed", 1, "seed of the simulated sensor")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if rate < 1 || rate > 10000 || batch < 1 || batch > telemetry.MaxBatch {
		return fmt.Errorf("%w: --rate 1..10000 and --batch 1..%d", errUsage, telemetry.MaxBatch)
	}
	target, err := netip.ParseAddrPort(to)
	if err != nil {
		return fmt.Errorf("%w: --to: %w", errUsage, err)
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(target))
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	defer conn.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	var (
		sens    sensor.Sensor = sim.New(sim.Opts{Seed: seed})
		clock                 = rt.MonoClock{}
		period                = int64(time.Second) / int64(rate)
		samples               = make([]sensor.Sample, batch)
		buf                   = make([]byte, 0, telemetry.MaxDatagramLen)
		session               = rand.Uint32() | 1
		seq     uint32
		n       int
	)
	h := telemetry.Header{Type: telemetry.TypeSamples, Session: session, RateHz: uint16(min(rate, 65535))}
	origin := clock.Now()
	tk := time.NewTicker(time.Duration(period))
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			buf = telemetry.AppendEnd(buf[:0], session, seq, h.RateHz)
			_, _ = conn.Write(buf)
			return nil
		case <-tk.C:
		}
		now := clock.Now()
		// The ticker's grid is origin + k × period; late_ns is the wake-up
		// against the grid point just passed, as the daemon reports it.
		smp := &samples[n]
		smp.MonoNs, smp.WallNs, smp.LateNs, smp.Status = now, rt.WallNow(), (now-origin)%period, 0
		if err := sens.Read(smp); err != nil {
			smp.Status |= sensor.StatusSensorError
		}
		if n++; n < batch {
			continue
		}
		h.Seq = seq
		buf = telemetry.AppendDatagram(buf[:0], h, samples[:n])
		seq += uint32(n)
		n = 0
		if _, err := conn.Write(buf); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("baseline: %w", err)
		}
	}
}
