package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// Config configures a Sender. Zero fields take the documented defaults.
type Config struct {
	Sensor sensor.Sensor // required
	Subs   *Subscribers  // required
	// RateHz is the sample rate, sensor.MinRateHz to sensor.MaxRateHz. It
	// defaults to 200.
	RateHz int
	// Batch is how many consecutive samples go in one datagram, 1 to
	// telemetry.MaxBatch. It defaults to 1.
	Batch int
	// Clock defaults to rt.MonoClock.
	Clock rt.Clock
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// PruneAfter is how long sends to a subscriber without a fresh lease
	// must be refused (ICMP port unreachable), with no gap of PruneGap, to
	// drop it. Not "in a row": the kernel reports the ICMP error on the
	// next write, which then sends nothing, so refusals alternate with
	// successes. ICMP is unauthenticated and anyone can forge it, so a
	// subscriber whose lease is fresh is never pruned: the lease is the
	// authenticated sign of life. It defaults to 10 seconds.
	PruneAfter time.Duration
	// Ends, when set, receives every stream's end (stop, expiry, prune,
	// shutdown) for the log; the sender never blocks on it, and counts
	// the ends it could not deliver (Stats.EndsDropped).
	Ends chan<- End
	// RTPriority is the SCHED_FIFO priority, 1 to 99, that Run gives the
	// sender's thread (only that thread). When the system refuses, Run logs
	// what to grant and sends at normal priority. It defaults to 0: normal
	// priority.
	RTPriority int
	// CPUs runs one sender thread pinned to each of these CPUs; the first
	// one awake at a deadline does the tick (see Run). It defaults to none:
	// one thread that may run on any CPU.
	CPUs []int
	// PinOnlyRealtime leaves a sender thread that did not get RTPriority
	// unpinned: at normal priority a pinned thread waits for its CPU's
	// busy processes, where an unpinned one takes whichever CPU frees
	// first. For CPUs chosen by default rather than by the user.
	PinOnlyRealtime bool
	// LockMemory makes Run lock the process's memory (mlockall) so that no
	// tick waits for a page fault. It defaults to false.
	LockMemory bool
	// Spin is how long before each deadline a sender thread with
	// RTPriority wakes, to busy-wait the rest of the way (see rt.Pacer.Spin):
	// wake-ups delayed by less than Spin then start the tick on time, for
	// a CPU cost of at most Spin per tick. It is capped at a tenth of the
	// period. It defaults to 0: the thread sleeps to the deadline.
	Spin time.Duration
	// FIFOTickHz is how often a sensor read through its FIFO
	// (sensor.AsBatcher) is read; each read sends the samples it finds
	// (see fifo.go). It defaults to 200, or RateHz when that is lower.
	FIFOTickHz int
	// Pressure sends 56-byte records with the pressure field, for a sensor
	// with a barometer; Batch is then at most telemetry.MaxBatchPressure. It defaults
	// to false: 52-byte records.
	Pressure bool
	// MagQuat sends 84-byte records with the pressure, the magnetic field
	// and the orientation, for a sensor with a magnetometer or a fusion
	// stage; Batch is then at most telemetry.MaxBatchMagQuat. It defaults
	// to false.
	MagQuat bool
}

// Sender is the sender goroutine: each tick it reads the sensor into a
// preallocated sample, encodes into a preallocated buffer and writes to
// every current subscriber.
type Sender struct {
	cfg    Config
	period int64
	log    *slog.Logger

	// Owned by the sender thread that holds busy.
	batch   []sensor.Sample
	n       int
	last    sensor.Sample
	buf     []byte
	endBuf  []byte
	encBuf  []byte // a sample in an Encoder's layout
	session uint32
	seq     uint32
	lastLog int64
	fifo    fifoReader

	// busy is held by the sender thread doing a tick or starting a
	// session; next is the deadline of the next tick, 0 between sessions.
	busy    atomic.Bool
	next    atomic.Int64
	started chan struct{} // waker 0 to the others: a session started

	quit      atomic.Bool
	streaming atomic.Bool
	sessionA  atomic.Uint32
	nextSeq   atomic.Uint32
	lastTick  atomic.Int64
	maxLate   atomic.Int64
	rtPrio    atomic.Int32
	memLocked atomic.Bool
	c         counters
}

type counters struct {
	ticks, datagrams, sendErrors, sensorErrors, late, skipped, covered, pruned, expired, endsDropped atomic.Uint64
}

// End is a stream that ended: where it went, why, and how many datagrams
// it was sent.
type End struct {
	Target    netip.AddrPort
	Reason    EndReason
	Datagrams uint64
}

// Stats is a snapshot of the sender's state and counters.
type Stats struct {
	Streaming    bool
	Session      uint32
	NextSeq      uint32
	RateHz       int
	Batch        int
	Ticks        uint64 // sensor reads
	Datagrams    uint64 // datagrams encoded (each sent to every subscriber)
	SendErrors   uint64
	SensorErrors uint64
	Late         uint64 // ticks more than a quarter period late
	Skipped      uint64 // ticks skipped to catch up with the grid
	// Covered counts wake-ups more than a quarter period late whose tick
	// another sender thread had already done on time.
	Covered      uint64
	Pruned       uint64 // subscribers dropped for refused sends
	Expired      uint64 // subscribers dropped when their lease ran out
	EndsDropped  uint64 // ends not delivered to Config.Ends (full)
	MaxLateNs    int64
	LastTickMono int64 // CLOCK_MONOTONIC ns of the last tick, 0 before any
	RTPriority   int   // SCHED_FIFO priority of the sender's thread, 0 if none
	MemoryLocked bool  // mlockall succeeded
}

// NewSender checks cfg and preallocates everything a tick needs.
func NewSender(cfg Config) (*Sender, error) {
	if cfg.Sensor == nil || cfg.Subs == nil {
		return nil, errors.New("stream: sender needs a sensor and a subscriber set")
	}
	if cfg.RateHz == 0 {
		cfg.RateHz = 200
	}
	if err := sensor.CheckRate(cfg.RateHz); err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	if cfg.Batch == 0 {
		cfg.Batch = 1
	}
	if cfg.Batch < 1 || cfg.Batch > telemetry.MaxBatch {
		return nil, fmt.Errorf("stream: batch %d out of range 1..%d", cfg.Batch, telemetry.MaxBatch)
	}
	if cfg.Pressure && cfg.Batch > telemetry.MaxBatchPressure {
		return nil, fmt.Errorf("stream: batch %d with pressure: at most %d records of %d bytes fit a datagram", cfg.Batch, telemetry.MaxBatchPressure, telemetry.SampleLenPressure)
	}
	if cfg.MagQuat && cfg.Batch > telemetry.MaxBatchMagQuat {
		return nil, fmt.Errorf("stream: batch %d with the magnetic field and orientation: at most %d records of %d bytes fit a datagram", cfg.Batch, telemetry.MaxBatchMagQuat, telemetry.SampleLenMagQuat)
	}
	if cfg.Clock == nil {
		cfg.Clock = rt.MonoClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PruneAfter == 0 {
		cfg.PruneAfter = 10 * time.Second
	}
	if cfg.Spin < 0 {
		return nil, fmt.Errorf("stream: spin %v is negative", cfg.Spin)
	}
	if cfg.RTPriority < 0 || cfg.RTPriority > 99 {
		return nil, fmt.Errorf("stream: RT priority %d out of range 0..99", cfg.RTPriority)
	}
	cfg.CPUs = slices.Clone(cfg.CPUs)
	for i, c := range cfg.CPUs {
		if c < 0 || slices.Contains(cfg.CPUs[:i], c) {
			return nil, fmt.Errorf("stream: CPU list %v: each CPU once, none negative", cfg.CPUs)
		}
	}
	fr, tickHz, err := newFIFOReader(&cfg)
	if err != nil {
		return nil, err
	}
	return &Sender{
		cfg:     cfg,
		fifo:    fr,
		period:  int64(time.Second) / int64(tickHz),
		log:     cfg.Logger,
		batch:   make([]sensor.Sample, cfg.Batch),
		buf:     make([]byte, 0, max(telemetry.MaxDatagramLen, telemetry.MaxDatagramLenPressure, telemetry.MaxDatagramLenMagQuat)+telemetry.TagLen),
		endBuf:  make([]byte, 0, telemetry.HeaderLen+telemetry.TagLen),
		encBuf:  make([]byte, 0, 512),
		started: make(chan struct{}, max(1, len(cfg.CPUs))-1),
	}, nil
}

// Period returns the tick period in ns.
func (s *Sender) Period() int64 { return s.period }

// Run streams while there are subscribers and idles otherwise, until ctx
// ends; then it sends an end-of-stream datagram to every subscriber.
//
// Each tick is kept by one sender thread per CPU of Config.CPUs (one
// unpinned thread without): all of them sleep to the same deadline (less
// the spin) and the first one awake does the tick. A wake-up can be held
// up for milliseconds by what the thread's priority cannot preempt (a
// non-preemptible kernel section, an interrupt storm on its CPU, a
// hypervisor running another guest on it); two CPUs are seldom held up at
// the same moment.
func (s *Sender) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		s.quit.Store(true)
		s.cfg.Subs.Changed().Set() // an idle waker 0 sees quit
	})
	defer stop()
	// Before the lock: what start-up touched of the executable need not
	// stay resident (or locked); what streaming runs comes back.
	if err := rt.TrimExecutable(); err != nil {
		s.log.Debug("executable's start-up pages kept", "err", err)
	}
	if s.cfg.LockMemory {
		s.lockMemory()
	}
	n := max(1, len(s.cfg.CPUs))
	sched := make([]rt.ThreadSchedule, n)
	pacers := rt.NewPacers(s.cfg.Clock, n)
	var ready, done sync.WaitGroup
	ready.Add(n)
	begin := make(chan struct{})
	for i := range n {
		done.Go(func() { s.waker(ctx, i, &sched[i], pacers[i], &ready, begin) })
	}
	ready.Wait()
	s.logSchedule(sched, pacers)
	close(begin)
	done.Wait()
	if s.streaming.Load() {
		s.endAll()
		s.streaming.Store(false)
	}
	return nil
}

// waker is one sender thread. Waker 0 also starts each session; the
// others join the sessions it starts.
func (s *Sender) waker(ctx context.Context, i int, sched *rt.ThreadSchedule, pace *rt.Pacer, ready *sync.WaitGroup, begin <-chan struct{}) {
	// clock_nanosleep blocks the OS thread; on a locked thread the RT
	// priority and CPU affinity apply to this goroutine alone. A thread
	// whose scheduling changed stays locked and ends with the goroutine,
	// so the runtime never runs other goroutines on it.
	runtime.LockOSThread()
	cpu := -1
	if len(s.cfg.CPUs) > 0 {
		cpu = s.cfg.CPUs[i]
	}
	if *sched = rt.ScheduleThread(cpu, s.cfg.RTPriority, s.cfg.PinOnlyRealtime); !sched.Changed {
		defer runtime.UnlockOSThread()
	}
	sched.HoldErr = pace.Hold(s.period)
	defer pace.Release() // before the thread goes back to the runtime
	ready.Done()
	<-begin
	p := s.period
	lead := pace.Lead(*sched, s.cfg.Spin, p)
	var lost int64  // the last deadline another thread took
	asleep := false // waker 0: the others wait for the session it started
	for !s.quit.Load() {
		d := s.next.Load()
		if d == 0 {
			if !s.idle(ctx, i == 0) {
				return
			}
			asleep = i == 0 && cap(s.started) > 0
			lost = 0 // the last session's
			continue
		}
		d = max(d, lost+p)
		now := pace.SleepUntil(d - lead)
		if s.busy.CompareAndSwap(false, true) {
			if due := s.next.Load(); due != 0 && now >= due-lead {
				// Only the thread that took the tick spins.
				now = pace.Spin(now, due)
				next := s.tick(due, now)
				if len(s.cfg.Subs.List()) == 0 {
					next = 0 // the last subscriber is gone: the session ends
					s.streaming.Store(false)
				}
				s.next.Store(next)
				s.busy.Store(false)
				if asleep {
					// After the session's first tick, not before: waking
					// them takes the scheduler's time.
					s.wakeOthers()
					asleep = false
				}
				continue
			}
			s.busy.Store(false)
		}
		// Another thread has done, or is doing, this tick.
		lost = d
		if now-d > p/4 {
			s.c.covered.Add(1)
		}
	}
}

// idle waits while there are no subscribers and reports whether to go
// on. Waker 0 then starts a session and does its first tick; the others
// wait for it to (wakeOthers).
func (s *Sender) idle(ctx context.Context, first bool) bool {
	if !first {
		select {
		case <-ctx.Done():
			return false
		case <-s.started:
			return true
		}
	}
	if len(s.cfg.Subs.List()) == 0 {
		s.cfg.Subs.Changed().Wait()
		return !s.quit.Load()
	}
	if !s.busy.CompareAndSwap(false, true) {
		// Another thread is seeing the last session's end.
		s.cfg.Clock.SleepUntil(s.cfg.Clock.Now() + 10*int64(time.Microsecond))
		return true
	}
	s.session = newSession(s.session)
	s.seq = 0
	s.n = 0
	s.sessionA.Store(s.session)
	s.nextSeq.Store(0)
	s.streaming.Store(true)
	s.next.Store(s.cfg.Clock.Now())
	s.busy.Store(false)
	return true
}

// wakeOthers has the other sender threads join the session waker 0
// started.
func (s *Sender) wakeOthers() {
	for range cap(s.started) {
		select {
		case s.started <- struct{}{}:
		default:
		}
	}
}

func newSession(prev uint32) uint32 {
	for {
		if id := rand.Uint32(); id != 0 && id != prev {
			return id
		}
	}
}

// tick does one period's work for the tick due at deadline that woke at
// now, and returns the next deadline. A wake-up a period or more late
// skips the missed ticks instead of bursting to catch up.
func (s *Sender) tick(deadline, now int64) int64 {
	if s.fifo.b != nil {
		return s.fifoTick(deadline, now)
	}
	p := s.period
	late := now - deadline
	var timing sensor.Status
	if late >= p {
		k := late / p
		s.c.skipped.Add(uint64(k))
		deadline += k * p
		timing |= sensor.StatusSkipped
	}
	if late > p/4 {
		timing |= sensor.StatusLate
		s.c.late.Add(1)
	}
	if late > s.maxLate.Load() {
		s.maxLate.Store(late)
	}
	s.c.ticks.Add(1)
	s.lastTick.Store(now)

	smp := &s.batch[s.n]
	if s.n > 0 {
		*smp = s.batch[s.n-1]
	} else {
		*smp = s.last
	}
	// A failed read keeps the previous values, flagged, so receivers never
	// see made-up zeros.
	smp.MonoNs, smp.WallNs, smp.LateNs, smp.Status = now, rt.WallAt(now), late, 0
	if err := s.cfg.Sensor.Read(smp); err != nil {
		smp.Status |= sensor.StatusSensorError
		s.c.sensorErrors.Add(1)
		s.logLimited(now, "sensor read failed", err, nil)
	}
	smp.Status |= timing
	s.n++
	if s.n == len(s.batch) {
		s.flush(now)
	}
	return deadline + p
}

func (s *Sender) flush(now int64) {
	s.send(now, s.batch[:s.n])
	s.last = s.batch[s.n-1]
	s.n = 0
}

// send encodes smp, 1 to the batch limit, in one datagram and sends it.
func (s *Sender) send(now int64, smp []sensor.Sample) {
	first := s.seq
	h := telemetry.Header{Type: telemetry.TypeSamples, Session: s.session, Seq: s.seq, RateHz: uint16(min(s.cfg.RateHz, 65535))}
	if s.cfg.MagQuat {
		s.buf = telemetry.AppendDatagramMagQuat(s.buf[:0], h, smp)
	} else if s.cfg.Pressure {
		s.buf = telemetry.AppendDatagramPressure(s.buf[:0], h, smp)
	} else {
		s.buf = telemetry.AppendDatagram(s.buf[:0], h, smp)
	}
	s.seq += uint32(len(smp))
	s.nextSeq.Store(s.seq)
	s.c.datagrams.Add(1)
	s.sendAll(now, first, smp)
}

// join gives sub its session when it gets its first datagram, whose first
// sample has the sender's seq: a subscriber that starts the stream (seq
// 0) has the sender's session; one that joins a running stream gets a
// session of its own, counted from 0 there. So every subscriber's stream
// is one session from seq 0 to its end marker, whoever else is
// subscribed (docs/protocol.md, receiver rules).
func (s *Sender) join(sub *Subscriber, seq uint32) {
	if sub.joined {
		return
	}
	sub.joined, sub.base, sub.session = true, seq, s.session
	if seq != 0 {
		sub.session = newSession(s.session)
	}
}

func (s *Sender) sendAll(now int64, first uint32, smp []sensor.Sample) {
	var gone [maxListed]*Subscriber
	ng := 0
	for _, sub := range s.cfg.Subs.List() {
		st := sub.state.Load()
		if st == subGone {
			continue
		}
		exp := sub.expires.Load()
		expired := st == subActive && exp > 0 && now >= exp && sub.expires.CompareAndSwap(exp, leaseEnded)
		ending := (st == subStopping || expired) && sub.state.CompareAndSwap(st, subGone)
		if ending {
			gone[ng] = sub
			ng++
		}
		s.join(sub, first)
		var err error
		var refused bool
		if sub.enc != nil {
			refused, err = s.sendEncoded(sub, first, smp)
		} else {
			telemetry.PutSessionSeq(s.buf, sub.session, first-sub.base)
			refused, err = s.write(sub, s.tagged(sub, s.buf))
		}
		if ending {
			// The sample just sent is counted in the end marker's seq, so
			// it goes first: a receiver sees no gap before the end.
			reason := EndReason(sub.reason.Load())
			if expired {
				reason = EndExpired
				s.c.expired.Add(1)
			}
			s.end(sub, reason)
		}
		if err != nil || refused {
			sub.SendErrors.Add(1)
			s.c.sendErrors.Add(1)
			why := err
			if why == nil {
				why = syscall.ECONNREFUSED // sent on the second try
			}
			s.logLimited(now, "send failed", why, sub)
		}
		// Only "port unreachable" says the receiver is gone, and only a
		// subscriber without a fresh lease is pruned for it (see
		// Config.PruneAfter); a network that is down now may be back in a
		// moment.
		if refused && !ending && sub.refuse(now) >= s.cfg.PruneAfter && !sub.leased(now) &&
			sub.state.CompareAndSwap(subActive, subGone) {
			s.c.pruned.Add(1)
			s.end(sub, EndPruned)
			gone[ng] = sub
			ng++
		}
	}
	s.cfg.Subs.remove(gone[:ng])
}

// write writes out to sub and says whether the first try was refused.
func (s *Sender) write(sub *Subscriber, out []byte) (refused bool, err error) {
	_, err = sub.conn.Write(out)
	refused = errors.Is(err, syscall.ECONNREFUSED)
	// The kernel reports an ICMP port unreachable, which anyone can
	// forge, on the next write, which then sends nothing: send again,
	// so that a forged one costs no sample. A flood of them can land
	// between two tries; the tries are bounded.
	for try := 0; try < maxSendTries && errors.Is(err, syscall.ECONNREFUSED); try++ {
		_, err = sub.conn.Write(out)
	}
	if err == nil {
		sub.Datagrams.Add(1)
	}
	return refused, err
}

// sendEncoded sends each sample of smp (seq first on) that sub's
// decimation keeps, alone in sub's layout.
func (s *Sender) sendEncoded(sub *Subscriber, first uint32, smp []sensor.Sample) (refused bool, err error) {
	every := uint32(sub.enc.Decimation())
	for i := range s.seq - first {
		seq := first - sub.base + i
		if seq%every != 0 {
			continue
		}
		s.encBuf = sub.enc.AppendSample(s.encBuf[:0], seq, &smp[i])
		r, e := s.write(sub, s.encBuf)
		if e != nil {
			err = e
		}
		refused = refused || r
	}
	return refused, err
}

// maxSendTries bounds the sends again after a refused one (see sendAll).
const maxSendTries = 4

// tagged returns the encoded datagram b as sub gets it: with its tag
// appended in b's spare capacity (the next subscriber's send overwrites
// it), or with the flag cleared that another subscriber's tag set.
func (s *Sender) tagged(sub *Subscriber, b []byte) []byte {
	if sub.tagger == nil {
		telemetry.SetTagged(b, false)
		return b
	}
	return sub.tagger.Append(b)
}

// end sends sub its end-of-stream datagram (best effort: the receiver may
// be gone) and reports the end.
func (s *Sender) end(sub *Subscriber, reason EndReason) {
	s.join(sub, s.seq)
	if sub.enc == nil { // a layout has no end marker
		s.endBuf = telemetry.AppendEnd(s.endBuf[:0], sub.session, s.seq-sub.base, uint16(min(s.cfg.RateHz, 65535)))
		_, _ = sub.conn.Write(s.tagged(sub, s.endBuf))
	}
	if s.cfg.Ends == nil {
		return
	}
	select {
	case s.cfg.Ends <- End{Target: sub.Target, Reason: reason, Datagrams: sub.Datagrams.Load()}:
	default:
		s.c.endsDropped.Add(1)
	}
}

// endAll ends every stream when the daemon shuts down, so receivers can
// tell a deliberate stop from a crash.
func (s *Sender) endAll() {
	list := s.cfg.Subs.List()
	for _, sub := range list {
		if sub.state.Swap(subGone) != subGone {
			s.end(sub, EndShutdown)
		}
	}
	s.cfg.Subs.remove(list)
}

// logLimited logs at most once a second so a failing sensor or a flood of
// send errors cannot fill the journal; the counters stay exact.
// sub, when not nil, names the destination of a failed send.
func (s *Sender) logLimited(now int64, msg string, err error, sub *Subscriber) {
	if now-s.lastLog < int64(time.Second) && s.lastLog != 0 {
		return
	}
	s.lastLog = now
	args := []any{"err", err, "sensor_errors", s.c.sensorErrors.Load(), "send_errors", s.c.sendErrors.Load()}
	if sub != nil {
		args = append(args, "to", sub.Target)
	}
	s.log.Warn(msg, args...)
}

// LastTick returns the CLOCK_MONOTONIC ns of the latest tick, for a
// watchdog that must stop petting when the loop stalls.
func (s *Sender) LastTick() int64 { return s.lastTick.Load() }

// Stats returns a snapshot; it is safe to call from any goroutine.
func (s *Sender) Stats() Stats {
	return Stats{
		Streaming:    s.streaming.Load(),
		Session:      s.sessionA.Load(),
		NextSeq:      s.nextSeq.Load(),
		RateHz:       s.cfg.RateHz,
		Batch:        len(s.batch),
		Ticks:        s.c.ticks.Load(),
		Datagrams:    s.c.datagrams.Load(),
		SendErrors:   s.c.sendErrors.Load(),
		SensorErrors: s.c.sensorErrors.Load(),
		Late:         s.c.late.Load(),
		Skipped:      s.c.skipped.Load(),
		Covered:      s.c.covered.Load(),
		Pruned:       s.c.pruned.Load(),
		Expired:      s.c.expired.Load(),
		EndsDropped:  s.c.endsDropped.Load(),
		MaxLateNs:    s.maxLate.Load(),
		LastTickMono: s.lastTick.Load(),
		RTPriority:   int(s.rtPrio.Load()),
		MemoryLocked: s.memLocked.Load(),
	}
}
