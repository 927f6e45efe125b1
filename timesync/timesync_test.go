package timesync

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
)

// link simulates a device whose clock runs at offset + drift·t from this
// host's, behind a link whose two directions each take base plus a random
// jitter: the exchanges a real client would see.
type link struct {
	rng          *rand.Rand
	offset       int64
	drift        float64
	base, jitter int64
	now          int64 // this host's monotonic clock, ns
}

func (l *link) device(t int64) int64 { return t + l.offset + int64(l.drift*float64(t)) }

func (l *link) exchange() control.TimeSample {
	there := l.base + l.rng.Int64N(l.jitter+1)
	back := l.base + l.rng.Int64N(l.jitter+1)
	hold := int64(3000)
	s := control.TimeSample{Sent: l.now, SentWall: l.now + 1e18}
	rx := l.device(l.now + there)
	s.Device = control.DeviceTimes{Rx: rx, Tx: rx + hold, RxWall: rx, TxWall: rx + hold}
	s.Received = l.now + there + hold + back
	s.ReceivedWall = s.Received + 1e18
	return s
}

// The estimate's error at the device's time, after the exchanges of
// every interval for d.
func run(e *Estimator, l *link, every, d time.Duration) (errNs int64) {
	for end := l.now + int64(d); l.now < end; l.now += int64(every) {
		e.Add(l.exchange())
	}
	est, _ := e.Estimate()
	t := l.now
	return est.Mono(l.device(t)) - t
}

func abs(v int64) int64 { return max(v, -v) }

// Behind a link of 5 ms ± 1 ms each way (netem's delay 5ms 1ms) the
// offset is known within 0.5 ms after 2 s of exchanges at 10 Hz, and far
// better after a minute; a drift of 40 ppm is found.
func TestEstimatorConverges(t *testing.T) {
	for seed := range uint64(20) {
		l := &link{rng: rand.New(rand.NewPCG(seed, 1)), offset: 123_456_789_000, drift: 40e-6, base: 4_000_000, jitter: 2_000_000, now: 5e12}
		var e Estimator
		if err := run(&e, l, 100*time.Millisecond, 2*time.Second); abs(err) > 500_000 {
			t.Errorf("seed %d: error %d ns after 2 s", seed, err)
		}
		if err := run(&e, l, 500*time.Millisecond, 60*time.Second); abs(err) > 200_000 {
			t.Errorf("seed %d: error %d ns after 62 s", seed, err)
		}
		est, _ := e.Estimate()
		if est.Drift < 30e-6 || est.Drift > 50e-6 {
			t.Errorf("seed %d: drift %.1f ppm, want 40", seed, est.Drift*1e6)
		}
		if est.RTT < 8_000_000 || est.RTT > 9_000_000 || est.Used == 0 || est.Window == 0 {
			t.Errorf("seed %d: %+v", seed, est)
		}
	}
}

// A restarted device (its monotonic clock starts again near 0) resets the
// window rather than averaging two clocks.
func TestEstimatorReset(t *testing.T) {
	l := &link{rng: rand.New(rand.NewPCG(1, 2)), offset: 5e12, base: 100_000, jitter: 50_000, now: 1e12}
	var e Estimator
	run(&e, l, 100*time.Millisecond, 5*time.Second)
	l.offset = -1e12 + 7e9
	if err := run(&e, l, 100*time.Millisecond, time.Second); abs(err) > 50_000 {
		t.Errorf("error %d ns after the restart", err)
	}
	if est, _ := e.Estimate(); est.Resets != 1 || est.Window > 11 {
		t.Errorf("%+v: want one reset and only the exchanges since", est)
	}
}

// Wall and Mono invert OffsetAt, drift included, to the ns.
func TestEstimateMapping(t *testing.T) {
	e := Estimate{Ref: 1e15, Offset: -3e12, Drift: 37e-6, WallMinusMono: 1.7e18}
	for _, pc := range []int64{1e15, 1e15 + 3e12, 1e15 - 5e11} {
		dev := pc + e.OffsetAt(pc)
		if got := e.Mono(dev); abs(got-pc) > 1 {
			t.Errorf("Mono(%d) = %d, want %d", dev, got, pc)
		}
		if got := e.Wall(dev); abs(got-pc-int64(1.7e18)) > 1 {
			t.Errorf("Wall(%d) = %d", dev, got)
		}
	}
}

type fakeSource struct{ l *link }

func (f fakeSource) Time(context.Context) (control.TimeSample, error) {
	f.l.now += int64(10 * time.Millisecond)
	return f.l.exchange(), nil
}

func TestSyncerPrimeAndRun(t *testing.T) {
	l := &link{rng: rand.New(rand.NewPCG(3, 4)), offset: 42, base: 1000, jitter: 100, now: 1e9}
	s := NewSyncer(fakeSource{l})
	if _, ok := s.Estimate(); ok {
		t.Fatal("an estimate before any exchange")
	}
	s.Prime(context.Background(), 5)
	est, ok := s.Estimate()
	if !ok || est.Exchanges != 5 || abs(est.Offset-42) > 100 {
		t.Fatalf("after Prime: %+v %v", est, ok)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.FastEvery = time.Millisecond
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for est, _ = s.Estimate(); est.Exchanges < 20 && time.Now().Before(deadline); est, _ = s.Estimate() {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if est.Exchanges < 20 {
		t.Fatalf("Run made %d exchanges in 10 s", est.Exchanges)
	}
}

// TestMeasure: a few exchanges without a span, more over one; none when
// every exchange fails.
func TestMeasure(t *testing.T) {
	l := &link{rng: rand.New(rand.NewPCG(5, 6)), offset: 42, base: 1000, jitter: 100, now: 1e9}
	est, ok := Measure(context.Background(), fakeSource{l}, 0)
	if !ok || est.Exchanges != 8 || abs(est.Offset-42) > 100 {
		t.Fatalf("Measure without a span: %+v %v", est, ok)
	}
	est, ok = Measure(context.Background(), fakeSource{l}, 300*time.Millisecond)
	if !ok || est.Exchanges <= 8 {
		t.Errorf("Measure over 300 ms: %+v %v; want more than 8 exchanges", est, ok)
	}
	if _, ok := Measure(context.Background(), failingSource{}, 0); ok {
		t.Error("an estimate from exchanges that all failed")
	}
}

type failingSource struct{}

func (failingSource) Time(context.Context) (control.TimeSample, error) {
	return control.TimeSample{}, context.DeadlineExceeded
}
