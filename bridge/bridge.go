package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/imustream/imustream/control"
)

// Device is one daemon the bridge follows.
type Device struct {
	Name string // subject token (CheckName); NameFor(Addr) when empty
	Addr string // the daemon's control address, HOST[:PORT]
}

// Config configures a Bridge. Zero fields take the documented defaults.
type Config struct {
	// Conn is the NATS connection; the bridge does not close it. Give it
	// nats.MaxReconnects(-1) so that it reconnects for ever.
	Conn *nats.Conn
	// Prefix is the first subject token. It defaults to "imustream".
	Prefix string
	// Stream, when set, is the JetStream stream EnsureStream creates or
	// updates for PREFIX.*.imu and PREFIX.*.status.
	Stream   string
	Replicas int           // the stream's replicas; it defaults to 1
	MaxAge   time.Duration // the stream's retention by age; 0: unlimited
	MaxBytes int64         // and by size; 0: unlimited
	// Lease is each subscription's lease. It defaults to 3 s.
	Lease time.Duration
	// FlushEvery is the longest a datagram waits for others to share its
	// message. It defaults to 20 ms.
	FlushEvery time.Duration
	// QueueLen is how many messages wait for the publisher; when it is
	// full a batch is dropped and counted. It defaults to 8192.
	QueueLen int
	// MaxPending bounds the messages published and not yet acknowledged.
	// It defaults to 1024.
	MaxPending int
	// AckWait is how long a publish waits for its acknowledgement before
	// it is sent again. It defaults to 5 s.
	AckWait time.Duration
	// StatusEvery is how often each device's status is published. It
	// defaults to 1 s.
	StatusEvery time.Duration
	// Key signs the commands to the daemons; nil: unsigned.
	Key *control.Key
	// Resolve, when set, turns a device's address into one control.Dial
	// takes (e.g. NAME.local by mDNS) before each dial.
	Resolve func(ctx context.Context, addr string) (string, error)
	// Logf, when set, gets one line per event (a device lost or back).
	Logf func(format string, args ...any)
}

// Stats are the bridge's counters over all devices.
type Stats struct {
	Datagrams      uint64 // datagrams received from the devices
	Malformed      uint64 // received and not a telemetry datagram: dropped
	Samples        uint64 // samples received
	Messages       uint64 // messages acknowledged by JetStream
	Retries        uint64 // publishes sent again after an error or timeout
	Dropped        uint64 // messages dropped because the queue was full
	DroppedSamples uint64 // their samples
	Queued         int    // messages waiting now
	Pending        int    // messages published and not yet acknowledged
}

// Bridge follows devices and publishes their streams. Its methods are safe
// for concurrent use.
type Bridge struct {
	cfg Config
	js  jetstream.JetStream

	queue chan *batch
	retry chan *batch
	slots chan struct{}
	acks  chan inflight

	mu      sync.Mutex
	devs    map[string]*device
	runCtx  context.Context // Run's, for devices added while it runs
	devWG   sync.WaitGroup
	stopped bool

	datagrams, malformed, samples atomic.Uint64
	messages, retries             atomic.Uint64
	unacked                       atomic.Int64 // queued or taken from the queue, not yet acknowledged
	failing                       atomic.Bool  // the latest publish failed
	pmu                           sync.Mutex   // the devices' busy and waiting
	dropped, droppedSamples       atomic.Uint64
}

// ErrDuplicate is Add's error for a name that is followed already.
var ErrDuplicate = errors.New("bridge: a device of that name is followed already")

// New returns a bridge as cfg asks; Run runs it.
func New(cfg Config) (*Bridge, error) {
	if cfg.Conn == nil {
		return nil, errors.New("bridge: no NATS connection")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "imustream"
	}
	if err := CheckName(cfg.Prefix); err != nil {
		return nil, fmt.Errorf("bridge: prefix %q: %w", cfg.Prefix, err)
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Replicas < 1 || cfg.Replicas > 5 {
		return nil, fmt.Errorf("bridge: replicas %d outside 1..5", cfg.Replicas)
	}
	if cfg.Lease == 0 {
		cfg.Lease = 3 * time.Second
	}
	if cfg.Lease < control.MinLease || cfg.Lease > control.MaxLease {
		return nil, fmt.Errorf("bridge: lease %s outside %s..%s", cfg.Lease, control.MinLease, control.MaxLease)
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 20 * time.Millisecond
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 8192
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 1024
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 5 * time.Second
	}
	if cfg.StatusEvery <= 0 {
		cfg.StatusEvery = time.Second
	}
	// nats.go's own bound is above ours: ours is the one that counts.
	js, err := jetstream.New(cfg.Conn, jetstream.WithPublishAsyncMaxPending(cfg.MaxPending+16), jetstream.WithPublishAsyncTimeout(cfg.AckWait))
	if err != nil {
		return nil, fmt.Errorf("bridge: jetstream: %w", err)
	}
	return &Bridge{
		cfg: cfg, js: js,
		queue: make(chan *batch, cfg.QueueLen),
		retry: make(chan *batch, cfg.MaxPending),
		slots: make(chan struct{}, cfg.MaxPending),
		acks:  make(chan inflight, cfg.MaxPending),
		devs:  make(map[string]*device),
	}, nil
}

// EnsureStream creates Config.Stream, or updates it to the Config's
// replicas and retention.
func (b *Bridge) EnsureStream(ctx context.Context) error {
	if b.cfg.Stream == "" {
		return errors.New("bridge: no stream named")
	}
	_, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:     b.cfg.Stream,
		Subjects: []string{b.cfg.Prefix + ".*.imu", b.cfg.Prefix + ".*.status"},
		Replicas: b.cfg.Replicas,
		MaxAge:   b.cfg.MaxAge,
		MaxBytes: orUnlimited(b.cfg.MaxBytes),
		Storage:  jetstream.FileStorage,
		// A batch sent again after a lost acknowledgement is stored once.
		Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return fmt.Errorf("bridge: stream %s: %w", b.cfg.Stream, err)
	}
	return nil
}

func orUnlimited(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

// Add follows one more device; while Run runs it starts at once.
func (b *Bridge) Add(d Device) error {
	if d.Name == "" {
		d.Name = NameFor(d.Addr)
	}
	if err := CheckName(d.Name); err != nil {
		return fmt.Errorf("bridge: device %q: %w", d.Name, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.devs[d.Name]; ok {
		return fmt.Errorf("%w: %s", ErrDuplicate, d.Name)
	}
	dv := newDevice(b, d)
	b.devs[d.Name] = dv
	if b.runCtx != nil && !b.stopped {
		b.startLocked(dv)
	}
	return nil
}

// Remove stops following a device: its stream is stopped and what it sent
// is published.
func (b *Bridge) Remove(name string) {
	b.mu.Lock()
	dv := b.devs[name]
	delete(b.devs, name)
	b.mu.Unlock()
	if dv != nil && dv.cancel != nil {
		dv.cancel()
		<-dv.done
	}
}

// Devices lists the names of the devices followed.
func (b *Bridge) Devices() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	names := make([]string, 0, len(b.devs))
	for n := range b.devs {
		names = append(names, n)
	}
	return names
}

func (b *Bridge) startLocked(dv *device) {
	ctx, cancel := context.WithCancel(b.runCtx)
	dv.cancel = cancel
	b.devWG.Go(func() { dv.run(ctx) })
}

// Stats returns the counters.
func (b *Bridge) Stats() Stats {
	return Stats{
		Datagrams: b.datagrams.Load(), Malformed: b.malformed.Load(), Samples: b.samples.Load(),
		Messages: b.messages.Load(), Retries: b.retries.Load(),
		Dropped: b.dropped.Load(), DroppedSamples: b.droppedSamples.Load(),
		Queued: len(b.queue), Pending: max(0, int(b.unacked.Load())-len(b.queue)),
	}
}

// DrainWait bounds how long Run, once ctx ends, goes on publishing what
// the devices sent before their streams stopped.
const DrainWait = 5 * time.Second

// Run follows the devices and publishes until ctx ends. Then it stops
// every stream (each ends with its end-of-stream datagram), publishes
// what is queued, waiting up to DrainWait for the acknowledgements, and
// returns. The NATS connection stays open.
func (b *Bridge) Run(ctx context.Context) error {
	pubCtx, stopPub := context.WithCancel(context.Background())
	defer stopPub()
	var wg sync.WaitGroup
	wg.Go(func() { b.publish(pubCtx) })
	wg.Go(func() { b.ack(pubCtx) })
	flushCtx, stopFlush := context.WithCancel(context.Background())
	wg.Go(func() { b.flushLoop(flushCtx) })
	wg.Go(func() { b.statusLoop(flushCtx) })

	b.mu.Lock()
	b.runCtx = ctx
	for _, dv := range b.devs {
		b.startLocked(dv)
	}
	b.mu.Unlock()

	<-ctx.Done()
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
	b.devWG.Wait() // every stream stopped, its last batch queued
	stopFlush()
	deadline := time.Now().Add(DrainWait)
	for b.unacked.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stopPub()
	wg.Wait()
	return nil
}

// flushLoop sends the batches that waited FlushEvery.
func (b *Bridge) flushLoop(ctx context.Context) {
	t := time.NewTicker(b.cfg.FlushEvery / 4)
	defer t.Stop()
	var devs []*device
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			devs = devs[:0]
			b.mu.Lock()
			for _, dv := range b.devs {
				devs = append(devs, dv)
			}
			b.mu.Unlock()
			for _, dv := range devs {
				dv.flushOld(now.Add(-b.cfg.FlushEvery))
			}
		}
	}
}

// enqueue hands a batch to the publisher, or drops it when the queue is
// full: the UDP receive path never waits for NATS.
func (b *Bridge) enqueue(bt *batch) {
	// Counted before it is queued: Run's drain must not see a batch the
	// publisher has taken from the queue and not yet counted.
	b.unacked.Add(1)
	select {
	case b.queue <- bt:
	default:
		b.unacked.Add(-1)
		b.dropped.Add(1)
		b.droppedSamples.Add(uint64(bt.samples))
		bt.dev.dropped.Add(1)
		putBatch(bt)
	}
}

// inflight is a message published and waiting for its acknowledgement.
type inflight struct {
	bt  *batch
	ack jetstream.PubAckFuture
}

// retryAfter is how long a publish that failed waits before it is sent
// again.
const retryAfter = 250 * time.Millisecond

// publish sends the queued batches, and again those whose publish failed.
// Each holds a slot from the queue to its acknowledgement, so at most
// MaxPending are in flight, parked behind their device's batch in flight,
// or waiting to be sent again; b.retry holds as many. One batch per device
// is in flight at a time.
func (b *Bridge) publish(ctx context.Context) {
	for {
		select {
		case bt := <-b.retry:
			b.send(ctx, bt)
			continue
		case b.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		select {
		case bt := <-b.retry:
			<-b.slots
			b.send(ctx, bt)
		case bt := <-b.queue:
			if b.park(bt) {
				continue // it goes when the device's batch before it is stored
			}
			b.send(ctx, bt)
		case <-ctx.Done():
			return
		}
	}
}

// park keeps bt back while a batch of its device is in flight, so that a
// device's batches are stored in order even when one is sent again: a
// consumer then sees the device's samples in seq order. It reports
// whether bt was kept.
func (b *Bridge) park(bt *batch) bool {
	b.pmu.Lock()
	defer b.pmu.Unlock()
	if bt.dev.busy {
		bt.dev.waiting = append(bt.dev.waiting, bt)
		return true
	}
	bt.dev.busy = true
	return false
}

// stored frees dv for its next batch, which goes to the publisher (it
// holds its slot, so the channel has room).
func (b *Bridge) stored(dv *device) {
	b.pmu.Lock()
	if len(dv.waiting) == 0 {
		dv.busy = false
		b.pmu.Unlock()
		return
	}
	next := dv.waiting[0]
	dv.waiting[0] = nil
	dv.waiting = dv.waiting[1:]
	b.pmu.Unlock()
	b.retry <- next
}

func (b *Bridge) send(ctx context.Context, bt *batch) {
	if d := time.Until(bt.retryAt); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return
		}
	}
	if !bt.retryAt.IsZero() {
		b.retries.Add(1)
	}
	msg := &nats.Msg{Subject: bt.dev.subject, Data: bt.data, Header: nats.Header{
		HeaderDevice:  []string{bt.dev.name},
		HeaderSession: []string{FormatSession(bt.session)},
		HeaderSeq:     []string{strconv.FormatUint(uint64(bt.seq), 10)},
	}}
	// The id makes a batch sent again after a lost acknowledgement a
	// duplicate JetStream drops.
	id := bt.dev.name + "." + FormatSession(bt.session) + "." + strconv.FormatUint(uint64(bt.seq), 10) + "." + strconv.Itoa(bt.datagrams)
	f, err := b.js.PublishMsgAsync(msg, jetstream.WithMsgID(id), jetstream.WithStallWait(time.Second))
	if err != nil {
		b.publishFailed(err)
		bt.retryAt = time.Now().Add(retryAfter)
		b.retry <- bt // cannot block: bt holds a slot
		return
	}
	b.acks <- inflight{bt: bt, ack: f} // cannot block: as many as slots
}

// ack waits for the acknowledgements in order of publishing: it frees
// the slot of a batch stored and sends again one that failed.
func (b *Bridge) ack(ctx context.Context) {
	for {
		var in inflight
		select {
		case in = <-b.acks:
		case <-ctx.Done():
			return
		}
		select {
		case <-in.ack.Ok():
			b.messages.Add(1)
			b.unacked.Add(-1)
			if b.failing.Swap(false) {
				b.logf("bridge: JetStream stores again")
			}
			dv := in.bt.dev
			dv.published.Add(1)
			putBatch(in.bt)
			<-b.slots
			b.stored(dv)
		case err := <-in.ack.Err():
			b.publishFailed(err)
			in.bt.retryAt = time.Now().Add(retryAfter)
			b.retry <- in.bt
		case <-ctx.Done():
			return
		}
	}
}

// statusLoop publishes each device's status.
func (b *Bridge) statusLoop(ctx context.Context) {
	each(ctx, b.cfg.StatusEvery, func() {
		b.mu.Lock()
		devs := make([]*device, 0, len(b.devs))
		for _, dv := range b.devs {
			devs = append(devs, dv)
		}
		b.mu.Unlock()
		for _, dv := range devs {
			buf, err := json.Marshal(dv.status())
			if err == nil {
				// Core NATS: a status lost in a reconnect is replaced a
				// second later.
				_ = b.cfg.Conn.Publish(Subject(b.cfg.Prefix, dv.name, "status"), buf)
			}
		}
	})
}

// publishFailed logs the first of a run of failed publishes.
func (b *Bridge) publishFailed(err error) {
	if !b.failing.Swap(true) {
		b.logf("bridge: publishing fails (%v); sending again until JetStream stores it, the queue holds the rest", err)
	}
}

func (b *Bridge) logf(format string, args ...any) {
	if b.cfg.Logf != nil {
		b.cfg.Logf(format, args...)
	}
}
