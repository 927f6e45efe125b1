package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/telemetry"
)

// Spin is SpinCommand, a process of Config.Load: one CPU-bound loop. It
// returns only when its command line is wrong.
func Spin(args []string, stderr io.Writer) error {
	if err := parseChild(childFlags(SpinCommand, stderr), args); err != nil {
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

// Baseline is BaselineCommand: the daemon's job done the straightforward
// way, for comparison. A goroutine on a time.Ticker reads the same
// simulated sensor, encodes with the same encoder and writes to a
// connected UDP socket until ctx ends (the bench sends SIGTERM); then it
// ends the stream like the daemon does.
func Baseline(ctx context.Context, args []string, stderr io.Writer) error {
	b, err := parseBaselineArgs(args, stderr)
	if err != nil {
		return err
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(b.to))
	if err != nil {
		return fmt.Errorf("bench: baseline: %w", err)
	}
	defer conn.Close()

	var (
		sens    sensor.Sensor = sim.New(sim.Opts{Seed: b.seed})
		clock                 = rt.MonoClock{}
		period                = int64(time.Second) / int64(b.rateHz)
		samples               = make([]sensor.Sample, b.batch)
		buf                   = make([]byte, 0, telemetry.MaxDatagramLen)
		session               = rand.Uint32() | 1
		seq     uint32
		n       int
	)
	h := telemetry.Header{Type: telemetry.TypeSamples, Session: session, RateHz: uint16(min(b.rateHz, 65535))}
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
		smp.MonoNs, smp.WallNs, smp.LateNs, smp.Status = now, rt.WallAt(now), (now-origin)%period, 0
		if err := sens.Read(smp); err != nil {
			smp.Status |= sensor.StatusSensorError
		}
		if n++; n < b.batch {
			continue
		}
		h.Seq = seq
		buf = telemetry.AppendDatagram(buf[:0], h, samples[:n])
		seq += uint32(n)
		n = 0
		if _, err := conn.Write(buf); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("bench: baseline: %w", err)
		}
	}
}
