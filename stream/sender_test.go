package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/internal/rt/rttest"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/telemetry"
)

// start is the fake CLOCK_MONOTONIC time (ns) at which tick-driven tests
// begin: far from zero, like a machine that has been up for a while.
const start = int64(1000 * time.Second)

// rxTimeout bounds every wait for a datagram. It only matters when a test
// is failing; a passing test never waits for it.
const rxTimeout = 10 * time.Second

const timingBits = sensor.StatusLate | sensor.StatusSkipped

var _ rt.Clock = (*rttest.FakeClock)(nil)

// countSensor is a cheap sensor.Sensor that counts its reads into Accel[0].
type countSensor struct{ reads int }

func (c *countSensor) Read(s *sensor.Sample) error {
	c.reads++
	s.Accel[0] = float32(c.reads)
	return nil
}
func (c *countSensor) String() string { return "count" }
func (c *countSensor) Halt() error    { return nil }

// newTestSender fills in a discarding logger and fails the test on error.
func newTestSender(t testing.TB, cfg Config) *Sender {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// receiver is a subscriber's end: a UDP socket on an ephemeral loopback
// port, closed when the test ends.
type receiver struct {
	t    testing.TB
	conn *net.UDPConn
	buf  []byte
}

func newReceiver(t testing.TB) *receiver {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// Room for a second or so of datagrams when the reader is slow to be
	// scheduled (the kernel may cap it lower).
	_ = c.SetReadBuffer(1 << 20)
	return &receiver{t: t, conn: c, buf: make([]byte, 2048)}
}

func (r *receiver) addr() netip.AddrPort {
	ap := r.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// readRaw returns the next datagram's bytes, valid until the next read.
func (r *receiver) readRaw() []byte {
	r.t.Helper()
	if err := r.conn.SetReadDeadline(time.Now().Add(rxTimeout)); err != nil {
		r.t.Fatal(err)
	}
	n, _, err := r.conn.ReadFromUDP(r.buf)
	if err != nil {
		r.t.Fatalf("receiver %v: %v", r.addr(), err)
	}
	return r.buf[:n]
}

// next returns the next datagram, which must parse.
func (r *receiver) next() telemetry.Datagram {
	r.t.Helper()
	var d telemetry.Datagram
	if err := telemetry.Parse(r.readRaw(), &d); err != nil {
		r.t.Fatalf("receiver %v: %v", r.addr(), err)
	}
	return d
}

// nextSamples returns the next datagram, which must carry samples.
func (r *receiver) nextSamples() telemetry.Datagram {
	r.t.Helper()
	d := r.next()
	if d.Type != telemetry.TypeSamples {
		r.t.Fatalf("receiver %v: got %v datagram (seq %d), want samples", r.addr(), d.Type, d.Seq)
	}
	return d
}

// expectQuiet checks that nothing is waiting on the socket: it sends itself
// a marker from another socket and requires the marker to be the next
// datagram. Loopback delivers a datagram before the send returns, so
// anything the sender wrote earlier would come first.
func (r *receiver) expectQuiet() {
	r.t.Helper()
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(r.addr()))
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	const marker = "quiet?"
	if _, err := c.Write([]byte(marker)); err != nil {
		r.t.Fatal(err)
	}
	if b := r.readRaw(); string(b) != marker {
		var d telemetry.Datagram
		err := telemetry.Parse(b, &d)
		r.t.Fatalf("receiver %v: unexpected datagram %+v (parse error %v), want nothing", r.addr(), d.Header, err)
	}
}

func mustStart(t testing.TB, subs *Subscribers, target netip.AddrPort, lease int64) {
	t.Helper()
	if _, _, err := subs.Start(target, time.Duration(lease), 0, 0, nil, ""); err != nil {
		t.Fatal(err)
	}
}

// onGrid reports whether deadline is origin plus a whole number of periods.
func onGrid(deadline, origin, p int64) bool { return (deadline-origin)%p == 0 }

func TestNewSenderConfig(t *testing.T) {
	subs := NewSubscribers()
	imu := &countSensor{}
	bad := []Config{
		{Subs: subs},
		{Sensor: imu},
		{Sensor: imu, Subs: subs, RateHz: -1},
		{Sensor: imu, Subs: subs, RateHz: 10001},
		{Sensor: imu, Subs: subs, Batch: -1},
		{Sensor: imu, Subs: subs, Batch: telemetry.MaxBatch + 1},
	}
	for _, cfg := range bad {
		if _, err := NewSender(cfg); err == nil {
			t.Errorf("NewSender(rate %d, batch %d, sensor %v, subs %v): no error", cfg.RateHz, cfg.Batch, cfg.Sensor != nil, cfg.Subs != nil)
		}
	}
	s := newTestSender(t, Config{Sensor: imu, Subs: subs})
	if st := s.Stats(); st.RateHz != 200 || st.Batch != 1 || s.Period() != 5_000_000 {
		t.Errorf("defaults: rate %d Hz, batch %d, period %d ns; want 200 Hz, 1, 5000000 ns", st.RateHz, st.Batch, s.Period())
	}
	if s.cfg.PruneAfter != 10*time.Second {
		t.Errorf("PruneAfter defaults to %v, want 10s", s.cfg.PruneAfter)
	}
}

// TestRunGridDoesNotDrift runs the sender for hours of simulated time with
// jitter, late wake-ups and stalls of many periods, and checks every
// deadline it sleeps to: each is on the grid start + k·period and is the
// first grid point after the previous wake-up (no drift, no catch-up burst).
func TestRunGridDoesNotDrift(t *testing.T) {
	cases := []struct {
		rateHz, batch int
		simulated     time.Duration
	}{
		{rateHz: 200, batch: telemetry.MaxBatch, simulated: 20 * time.Minute},
		{rateHz: 7, batch: 1, simulated: 10 * time.Hour}, // a period that is not a whole number of ns
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%dHz", tc.rateHz), func(t *testing.T) {
			simulated := int64(tc.simulated)
			if testing.Short() {
				simulated /= 10
			}
			p := int64(time.Second) / int64(tc.rateHz)
			rng := rand.New(rand.NewPCG(uint64(tc.rateHz), 1))
			var (
				lates                []int64
				errs                 []string
				origin, lastDeadline int64
				prevWake             int64
				stoppedAt            = -1
			)
			fail := func(format string, args ...any) {
				if len(errs) < 5 {
					errs = append(errs, fmt.Sprintf(format, args...))
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			clk := &rttest.FakeClock{Mono: 12_345_678_901}
			clk.Late = func(int) int64 {
				var l int64
				switch r := rng.IntN(1000); {
				case r < 2: // a stall of 1 to 50 periods
					l = (1+rng.Int64N(50))*p + rng.Int64N(p)
				case r < 30: // late, but within the period
					l = p/4 + rng.Int64N(p-p/4)
				default: // ordinary jitter
					l = rng.Int64N(p / 4)
				}
				lates = append(lates, l)
				return l
			}
			clk.OnWake = func(i int, deadline, now int64) {
				if i == 0 {
					origin = deadline
				} else {
					if !onGrid(deadline, origin, p) {
						fail("wake-up %d: deadline %d is off the grid %d + k·%d by %d ns", i, deadline, origin, p, (deadline-origin)%p)
					}
					if deadline <= prevWake || deadline-p > prevWake {
						fail("wake-up %d: deadline %d, want the first grid point after the previous wake-up %d", i, deadline, prevWake)
					}
				}
				prevWake, lastDeadline = now, deadline
				switch {
				case now-origin < simulated:
				case stoppedAt < 0:
					stoppedAt = i
					cancel()
				case i-stoppedAt > 1_000_000:
					t.Fatalf("Run still ticks %d wake-ups after its context ended", i-stoppedAt)
				}
			}

			subs := NewSubscribers()
			mustStart(t, subs, newReceiver(t).addr(), 0)
			s := newTestSender(t, Config{Sensor: &countSensor{}, Subs: subs, RateHz: tc.rateHz, Batch: tc.batch, Clock: clk})
			if err := s.Run(ctx); err != nil {
				t.Fatalf("Run: %v", err)
			}
			for _, e := range errs {
				t.Error(e)
			}

			var wantSkipped, wantLate uint64
			var wantMax int64
			for _, l := range lates {
				wantSkipped += uint64(l / p)
				if l > p/4 {
					wantLate++
				}
				wantMax = max(wantMax, l)
			}
			st := s.Stats()
			if st.Ticks != uint64(clk.Sleeps) {
				t.Errorf("Ticks = %d, want %d (one per wake-up)", st.Ticks, clk.Sleeps)
			}
			if want := origin + (int64(st.Ticks)-1+int64(st.Skipped))*p; lastDeadline != want {
				t.Errorf("after %d ticks and %d skipped, last deadline %d, want %d (off by %d ns)",
					st.Ticks, st.Skipped, lastDeadline, want, lastDeadline-want)
			}
			if prevWake-origin < simulated {
				t.Errorf("simulated %v, want at least %v", time.Duration(prevWake-origin), time.Duration(simulated))
			}
			if st.Skipped != wantSkipped || st.Late != wantLate || st.MaxLateNs != wantMax {
				t.Errorf("Skipped %d, Late %d, MaxLateNs %d; want %d, %d, %d", st.Skipped, st.Late, st.MaxLateNs, wantSkipped, wantLate, wantMax)
			}
			// Samples count ticks run, not grid points: no catch-up burst.
			if want := st.Ticks / uint64(tc.batch); st.Datagrams != want {
				t.Errorf("Datagrams = %d, want %d (%d ticks in batches of %d)", st.Datagrams, want, st.Ticks, tc.batch)
			}
			if want := uint32(st.Datagrams) * uint32(tc.batch); st.NextSeq != want {
				t.Errorf("NextSeq = %d, want %d", st.NextSeq, want)
			}
		})
	}
}

// TestTickLateAndSkipped drives tick with scripted wake-up times and reads
// every datagram back: the flags, LateNs and the counters follow the
// lateness, a wake-up a period or more late skips to the grid point after
// it, and seq counts the samples produced, not the grid points.
func TestTickLateAndSkipped(t *testing.T) {
	rx := newReceiver(t)
	subs := NewSubscribers()
	mustStart(t, subs, rx.addr(), 0)
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{Seed: 1}), Subs: subs})
	p := s.Period()
	lates := []int64{0, 1, p / 4, p/4 + 1, p - 1, p, 0, 2*p + p/2, 7*p + 3, p / 2, 0, 1000 * p}

	deadline := start
	var wantSkipped, wantLate uint64
	var wantMax, lastWake int64
	for i, late := range lates {
		now := deadline + late
		lastWake = now
		next := s.tick(deadline, now)
		if !onGrid(next, start, p) || next <= now || next-p > now {
			t.Errorf("tick %d (late %d ns): next deadline %d, want the first grid point after %d", i, late, next, now)
		}
		var want sensor.Status
		if late >= p {
			want |= sensor.StatusSkipped
			wantSkipped += uint64(late / p)
		}
		if late > p/4 {
			want |= sensor.StatusLate
			wantLate++
		}
		wantMax = max(wantMax, late)

		d := rx.nextSamples()
		if d.Count != 1 || d.Seq != uint32(i) {
			t.Fatalf("tick %d: datagram seq %d count %d, want seq %d count 1", i, d.Seq, d.Count, i)
		}
		smp := d.Samples[0]
		if got := smp.Status & timingBits; got != want {
			t.Errorf("tick %d (late %d ns = %.2f periods): timing flags %04b, want %04b", i, late, float64(late)/float64(p), got, want)
		}
		if smp.Status&sensor.StatusSensorError != 0 {
			t.Errorf("tick %d: sensor error flag set", i)
		}
		// The wire carries LateNs as a u32 that saturates (about 4.3 s).
		if wantWire := min(late, math.MaxUint32); smp.LateNs != wantWire || smp.MonoNs != now {
			t.Errorf("tick %d: LateNs %d MonoNs %d, want %d %d", i, smp.LateNs, smp.MonoNs, wantWire, now)
		}
		deadline = next
	}
	st := s.Stats()
	n := uint64(len(lates))
	if st.Ticks != n || st.Datagrams != n || st.NextSeq != uint32(n) {
		t.Errorf("Ticks %d, Datagrams %d, NextSeq %d; want %d each", st.Ticks, st.Datagrams, st.NextSeq, n)
	}
	if st.Skipped != wantSkipped || st.Late != wantLate || st.MaxLateNs != wantMax {
		t.Errorf("Skipped %d, Late %d, MaxLateNs %d; want %d, %d, %d", st.Skipped, st.Late, st.MaxLateNs, wantSkipped, wantLate, wantMax)
	}
	if st.LastTickMono != lastWake || s.LastTick() != lastWake {
		t.Errorf("LastTickMono %d, LastTick() %d; want the last wake-up %d", st.LastTickMono, s.LastTick(), lastWake)
	}
	rx.expectQuiet()
}

// TestTickSensorError injects read failures at every position of a batch:
// the failed sample is flagged, keeps the previous sample's values (from the
// previous datagram when it is the first of its batch) and is counted; the
// good samples are exactly what an unfailing simulator gives.
func TestTickSensorError(t *testing.T) {
	const batch, failEvery, datagrams = 4, 5, 10
	rx := newReceiver(t)
	subs := NewSubscribers()
	mustStart(t, subs, rx.addr(), 0)
	opts := sim.Opts{Seed: 7}
	ref := sim.New(opts) // the same simulator without faults
	opts.FailEvery = failEvery
	s := newTestSender(t, Config{Sensor: sim.New(opts), Subs: subs, Batch: batch})
	p := s.Period()

	deadline := start
	for range batch * datagrams {
		deadline = s.tick(deadline, deadline+p/10)
	}
	var prev, want sensor.Sample
	failed := 0
	for k := range datagrams {
		d := rx.nextSamples()
		if d.Seq != uint32(k*batch) || d.Count != batch {
			t.Fatalf("datagram %d: seq %d count %d, want %d %d", k, d.Seq, d.Count, k*batch, batch)
		}
		for j, got := range d.Samples {
			read := k*batch + j + 1 // counting from 1, as FailEvery does
			want.MonoNs = got.MonoNs
			if err := ref.Read(&want); err != nil {
				t.Fatal(err)
			}
			if read%failEvery == 0 {
				failed++
				if got.Status&sensor.StatusSensorError == 0 {
					t.Errorf("read %d (datagram %d, sample %d): failed read not flagged, status %04b", read, k, j, got.Status)
				}
				if got.Accel != prev.Accel || got.Gyro != prev.Gyro || got.TempC != prev.TempC {
					t.Errorf("read %d (datagram %d, sample %d): values %v %v %v, want the previous sample's %v %v %v",
						read, k, j, got.Accel, got.Gyro, got.TempC, prev.Accel, prev.Gyro, prev.TempC)
				}
			} else {
				if got.Status&sensor.StatusSensorError != 0 {
					t.Errorf("read %d: good read flagged, status %04b", read, got.Status)
				}
				if got.Accel != want.Accel || got.Gyro != want.Gyro || got.TempC != want.TempC {
					t.Errorf("read %d: values %v %v %v, want %v %v %v", read, got.Accel, got.Gyro, got.TempC, want.Accel, want.Gyro, want.TempC)
				}
			}
			prev = got
		}
	}
	if failed == 0 {
		t.Fatal("no read failed: the test checks nothing")
	}
	if st := s.Stats(); st.SensorErrors != uint64(failed) || st.Ticks != batch*datagrams {
		t.Errorf("SensorErrors %d, Ticks %d; want %d, %d", st.SensorErrors, st.Ticks, failed, batch*datagrams)
	}
}

// countHandler is a slog.Handler that counts the records it gets.
type countHandler struct{ n atomic.Int64 }

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) Handle(context.Context, slog.Record) error {
	h.n.Add(1)
	return nil
}
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }

// TestTickSensorErrorLogLimit: a sensor that always fails logs at most once
// a second (of the sender's clock) while every failure is counted.
func TestTickSensorErrorLogLimit(t *testing.T) {
	const seconds = 3
	h := &countHandler{}
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{FailEvery: 1}), Subs: NewSubscribers(), Logger: slog.New(h)})
	p := s.Period()
	ticks := seconds * int(time.Second/time.Duration(p))
	deadline := start
	for range ticks {
		deadline = s.tick(deadline, deadline+1)
	}
	if st := s.Stats(); st.SensorErrors != uint64(ticks) {
		t.Errorf("SensorErrors = %d, want %d", st.SensorErrors, ticks)
	}
	if n := h.n.Load(); n < 1 || n > seconds {
		t.Errorf("%d log records in %d s of failing reads, want 1 to %d", n, seconds, seconds)
	}
}

// TestTickBatch: with Batch N every datagram carries N consecutive samples,
// seq advances by N and nothing is sent before a batch is full.
func TestTickBatch(t *testing.T) {
	for _, batch := range []int{1, 2, 8, telemetry.MaxBatch} {
		t.Run(strconv.Itoa(batch), func(t *testing.T) {
			const datagrams = 5
			rx := newReceiver(t)
			subs := NewSubscribers()
			mustStart(t, subs, rx.addr(), 0)
			s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{Seed: 3}), Subs: subs, Batch: batch})
			deadline := start
			var wakes []int64
			for range batch*datagrams + batch - 1 { // the last batch stays incomplete
				now := deadline + int64(len(wakes))%7*1000 // a little jitter
				wakes = append(wakes, now)
				deadline = s.tick(deadline, now)
			}
			for k := range datagrams {
				d := rx.nextSamples()
				if d.Seq != uint32(k*batch) || int(d.Count) != batch || len(d.Samples) != batch {
					t.Fatalf("datagram %d: seq %d count %d, want seq %d count %d", k, d.Seq, d.Count, k*batch, batch)
				}
				if d.RateHz != 200 {
					t.Errorf("datagram %d: rate %d Hz, want 200", k, d.RateHz)
				}
				for j, smp := range d.Samples {
					if want := wakes[k*batch+j]; smp.MonoNs != want {
						t.Errorf("datagram %d sample %d: MonoNs %d, want %d (tick %d)", k, j, smp.MonoNs, want, k*batch+j)
					}
				}
			}
			rx.expectQuiet() // the incomplete batch is not sent
			st := s.Stats()
			if st.Datagrams != datagrams || st.NextSeq != uint32(datagrams*batch) || st.Ticks != uint64(len(wakes)) {
				t.Errorf("Datagrams %d, NextSeq %d, Ticks %d; want %d, %d, %d", st.Datagrams, st.NextSeq, st.Ticks, datagrams, datagrams*batch, len(wakes))
			}
		})
	}
}

// readHeaders reads datagrams on rx in the background and keeps their
// headers. The returned function stops the reading after everything
// already queued on the socket has been read, and returns the headers in
// the order they arrived.
func readHeaders(rx *receiver) (stop func() []telemetry.Header) {
	const marker = "stop reading"
	var (
		hs   []telemetry.Header
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, _, err := rx.conn.ReadFromUDP(buf)
			if err != nil || string(buf[:n]) == marker {
				return
			}
			if h, err := telemetry.ParseHeader(buf[:n]); err == nil {
				hs = append(hs, h)
			}
		}
	}()
	return func() []telemetry.Header {
		// The marker queues behind everything sent before it.
		if c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(rx.addr())); err == nil {
			_, _ = c.Write([]byte(marker))
			c.Close()
		}
		select {
		case <-done:
		case <-time.After(rxTimeout):
			rx.conn.Close()
			<-done
		}
		return hs
	}
}

// waitFor polls cond until it holds, failing the test after rxTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(rxTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// runSender runs s.Run in a goroutine; the returned stop cancels it and
// returns Run's error. The test fails if Run is still running at the end.
func runSender(t *testing.T, s *Sender) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-errc:
			case <-time.After(rxTimeout):
				err = errors.New("Run did not return after its context ended")
			}
		})
		return err
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	return stop
}

// TestRunSessions: Run idles without subscribers, streams a session from
// seq 0 when one arrives, ends it with an end marker when the last one
// stops, and starts a new session for the next subscriber.
func TestRunSessions(t *testing.T) {
	subs := NewSubscribers()
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, RateHz: 500})
	stop := runSender(t, s)
	if st := s.Stats(); st.Streaming || st.Ticks != 0 {
		t.Errorf("before any subscriber: Streaming %v, Ticks %d", st.Streaming, st.Ticks)
	}
	var sessions []uint32
	for range 2 {
		rx := newReceiver(t)
		mustStart(t, subs, rx.addr(), 0)
		d := rx.nextSamples()
		if d.Seq != 0 || d.Session == 0 {
			t.Errorf("first datagram: session %#x seq %d, want a session and seq 0", d.Session, d.Seq)
		}
		if st := s.Stats(); !st.Streaming || st.Session != d.Session {
			t.Errorf("Streaming %v, Session %#x; want true, %#x", st.Streaming, st.Session, d.Session)
		}
		sessions = append(sessions, d.Session)
		if err := subs.Stop(rx.addr(), EndStopped); err != nil {
			t.Fatal(err)
		}
		for d.Type != telemetry.TypeEnd {
			if d.Session != sessions[len(sessions)-1] {
				t.Fatalf("session %#x, want %#x", d.Session, sessions[len(sessions)-1])
			}
			d = rx.next()
		}
		rx.expectQuiet()
		waitFor(t, "the session to end", func() bool { return !s.Stats().Streaming })
	}
	if sessions[0] == sessions[1] {
		t.Errorf("a new stream kept session %#x", sessions[0])
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestRunEndsStreamsOnShutdown: when Run's context ends every subscriber
// gets an end marker with the session and the next seq, and nothing after.
func TestRunEndsStreamsOnShutdown(t *testing.T) {
	subs := NewSubscribers()
	rxs := []*receiver{newReceiver(t), newReceiver(t)}
	for _, rx := range rxs {
		mustStart(t, subs, rx.addr(), 0)
	}
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, RateHz: 500, Batch: 3})
	stop := runSender(t, s)
	var headers []func() []telemetry.Header
	for _, rx := range rxs {
		rx.nextSamples() // streaming
		headers = append(headers, readHeaders(rx))
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	st := s.Stats()
	if st.Streaming || len(subs.List()) != 0 {
		t.Errorf("after Run: Streaming %v, %d subscribers; want false, 0", st.Streaming, len(subs.List()))
	}
	for i, hs := range headers {
		got := hs()
		if len(got) == 0 {
			t.Errorf("receiver %d: nothing after the first datagram", i)
			continue
		}
		last := got[len(got)-1]
		want := telemetry.Header{Version: telemetry.Version, Type: telemetry.TypeEnd, SampleLen: telemetry.SampleLen, Session: st.Session, Seq: st.NextSeq, RateHz: 500}
		if last != want {
			t.Errorf("receiver %d: last datagram %+v, want %+v", i, last, want)
		}
	}
}

func TestTickAllocs(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%dsubscribers", n), func(t *testing.T) {
			subs := NewSubscribers()
			for range n {
				mustStart(t, subs, newReceiver(t).addr(), 0)
			}
			s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs})
			p := s.Period()
			deadline := start
			allocs := testing.AllocsPerRun(1000, func() {
				deadline = s.tick(deadline, deadline+p/3)
			})
			if allocs != 0 {
				t.Errorf("%v allocations per tick, want 0", allocs)
			}
			if st := s.Stats(); st.SendErrors != 0 || st.Datagrams == 0 {
				t.Errorf("SendErrors %d, Datagrams %d: the ticks did not send", st.SendErrors, st.Datagrams)
			}
		})
	}
}

func benchmarkTick(b *testing.B, batch int) {
	subs := NewSubscribers()
	mustStart(b, subs, newReceiver(b).addr(), 0)
	clk := &rttest.FakeClock{Mono: start, Late: func(i int) int64 { return int64(i%5) * 1000 }}
	s := newTestSender(b, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, Batch: batch, Clock: clk})
	next := clk.Now()
	b.ReportAllocs()
	for b.Loop() {
		next = s.tick(next, clk.SleepUntil(next))
	}
	b.StopTimer()
	if st := s.Stats(); st.SendErrors != 0 {
		b.Fatalf("%d send errors", st.SendErrors)
	}
}

// BenchmarkTick is one tick on time: simulated read, encode, send to one
// loopback subscriber.
func BenchmarkTick(b *testing.B) { benchmarkTick(b, 1) }

// BenchmarkTickBatch8 is one tick with batches of 8: a send every 8th tick.
func BenchmarkTickBatch8(b *testing.B) { benchmarkTick(b, 8) }

// spinClock is a FakeClock for Config.Spin: it knows the grid, adds the
// next of lates to each wake-up before a deadline and wakes exactly on
// time from the spin to it.
type spinClock struct {
	now, origin, p, lead int64
	lates                []int64
	wakes, spins         int
	offGrid              []int64 // deadlines neither on the grid nor lead before it
	stopAfter            int
	stop                 func()
}

func (c *spinClock) Now() int64 { return c.now }

func (c *spinClock) SleepUntil(d int64) int64 {
	c.now = max(c.now, d)
	switch {
	case onGrid(d+c.lead, c.origin, c.p):
		c.now += c.lates[c.wakes%len(c.lates)]
		if c.wakes++; c.wakes == c.stopAfter {
			c.stop()
		}
	case onGrid(d, c.origin, c.p):
		c.spins++
	default:
		c.offGrid = append(c.offGrid, d)
	}
	return c.now
}

func TestRunSpin(t *testing.T) {
	const p = int64(5 * time.Millisecond)
	for _, tc := range []struct {
		spin time.Duration
		lead int64
	}{
		{100 * time.Microsecond, 100_000},
		{time.Second, p / 10}, // capped
	} {
		t.Run(tc.spin.String(), func(t *testing.T) {
			lead := tc.lead
			// Early enough to spin, just on time, late after the lead.
			lates := []int64{0, lead / 2, lead - 1, lead, lead + 1, lead + p/8, lead + p/2}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			clk := &spinClock{now: 7_000_000_000, origin: 7_000_000_000, p: p, lead: lead, lates: lates, stopAfter: 10 * len(lates), stop: cancel}
			subs := NewSubscribers()
			mustStart(t, subs, newReceiver(t).addr(), 0)
			s := newTestSender(t, Config{Sensor: &countSensor{}, Subs: subs, RateHz: 200, Clock: clk, Spin: tc.spin})
			if err := s.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if len(clk.offGrid) > 0 {
				t.Errorf("slept to %d deadlines off the grid and its wake-ups, first at %d", len(clk.offGrid), (clk.offGrid[0]-clk.origin)%p)
			}
			var wantSpins int
			var wantLate uint64
			var wantMax int64
			for i := range clk.wakes {
				l := lates[i%len(lates)]
				if i > 0 && l < lead { // the first tick is due at once: no spin
					wantSpins++
				}
				if l-lead > p/4 {
					wantLate++
				}
				wantMax = max(wantMax, l-lead)
			}
			st := s.Stats()
			if clk.spins != wantSpins || st.Late != wantLate || st.MaxLateNs != wantMax || st.Ticks != uint64(clk.wakes) {
				t.Errorf("spins %d, Late %d, MaxLateNs %d, Ticks %d; want %d, %d, %d, %d",
					clk.spins, st.Late, st.MaxLateNs, st.Ticks, wantSpins, wantLate, wantMax, clk.wakes)
			}
		})
	}
}
