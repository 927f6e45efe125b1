package bridge

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/receiver"
	"github.com/imustream/imustream/telemetry"
)

// maxBatchBytes bounds a message's payload: a full batch is sent before
// FlushEvery.
const maxBatchBytes = 16 << 10

// batch is a run of datagrams of one session, each continuing the one
// before: one message.
type batch struct {
	dev       *device
	session   uint32
	seq, next uint32 // the first datagram's seq, and the seq after the last
	datagrams int
	samples   int
	data      []byte
	started   time.Time
	retryAt   time.Time // zero: not yet failed
}

var batches = sync.Pool{New: func() any { return &batch{data: make([]byte, 0, 2048)} }}

func getBatch() *batch { return batches.Get().(*batch) }

func putBatch(bt *batch) {
	*bt = batch{data: bt.data[:0]}
	batches.Put(bt)
}

// device is one followed daemon: its client, session and current batch.
type device struct {
	b       *Bridge
	name    string
	addr    string
	subject string
	cancel  context.CancelFunc
	done    chan struct{}

	mu  sync.Mutex
	cur *batch

	// Under Bridge.pmu: a batch of this device is in flight, and those
	// parked behind it.
	busy    bool
	waiting []*batch

	state     atomic.Value // string
	session   atomic.Uint32
	next      atomic.Uint32
	datagrams atomic.Uint64
	published atomic.Uint64
	dropped   atomic.Uint64
	sess      atomic.Pointer[receiver.Session]
}

func newDevice(b *Bridge, d Device) *device {
	dv := &device{b: b, name: d.Name, addr: d.Addr, subject: Subject(b.cfg.Prefix, d.Name, "imu"), done: make(chan struct{})}
	dv.state.Store("waiting")
	return dv
}

// Status is what PREFIX.DEVICE.status carries, as JSON.
type Status struct {
	Device    string `json:"device"`
	Addr      string `json:"addr"`
	State     string `json:"state"`   // connecting, streaming, unreachable, ended
	Session   string `json:"session"` // the latest session, 8 hex digits
	NextSeq   uint32 `json:"next_seq"`
	Datagrams uint64 `json:"datagrams"`
	Published uint64 `json:"published"` // messages acknowledged
	Dropped   uint64 `json:"dropped"`   // messages dropped on a full queue
	Time      string `json:"time"`
}

func (dv *device) status() Status {
	return Status{
		Device: dv.name, Addr: dv.addr, State: dv.state.Load().(string),
		Session: FormatSession(dv.session.Load()), NextSeq: dv.next.Load(),
		Datagrams: dv.datagrams.Load(), Published: dv.published.Load(), Dropped: dv.dropped.Load(),
		Time: time.Now().UTC().Format(time.RFC3339Nano),
	}
}

// retryStart is how long the bridge waits before asking an unreachable
// daemon again.
const retryStart = time.Second

// run keeps a subscription to the daemon until ctx ends: it starts the
// stream, refreshes its lease, and starts it again when the daemon ends
// it or stops answering (a new session: consumers see the gap).
func (dv *device) run(ctx context.Context) {
	defer close(dv.done)
	var c *control.Client
	for c == nil {
		addr, err := dv.addr, error(nil)
		if dv.b.cfg.Resolve != nil {
			addr, err = dv.b.cfg.Resolve(ctx, addr)
		}
		if err == nil {
			c, err = control.Dial(addr, &control.ClientOptions{OnData: dv.receive, Key: dv.b.cfg.Key})
		}
		if err != nil {
			dv.state.Store("unreachable")
			dv.b.logf("bridge: %s: %v", dv.name, err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(retryStart):
			}
		}
	}
	defer c.Close()
	send := func(ctx context.Context, cmd control.Command) error {
		_, err := c.Do(ctx, cmd)
		return err
	}
	for ctx.Err() == nil {
		sess, err := receiver.NewSession(send, "", dv.b.cfg.Lease)
		if err != nil {
			return // New checked the lease
		}
		dv.sess.Store(sess)
		dv.state.Store("connecting")
		if err := sess.Start(ctx); err != nil {
			if ctx.Err() == nil {
				if dv.state.Swap("unreachable") != "unreachable" {
					dv.b.logf("bridge: %s: %v", dv.name, err)
				}
				select {
				case <-ctx.Done():
				case <-time.After(retryStart):
				}
			}
			continue
		}
		dv.state.Store("streaming")
		dv.b.logf("bridge: %s: streaming", dv.name)
		sess.Keep(ctx, func(err error) { dv.state.Store("unreachable") })
		if ctx.Err() != nil {
			// The stop's end of stream arrives on the client's socket and
			// goes out with the last batch. A starved daemon sends it late
			// (seen after more than 1 s at load 25); without it consumers
			// cannot tell the stream ended. Devices stop in parallel.
			_ = sess.Stop(context.Background(), stopWait)
			break
		}
		dv.state.Store("ended")
		dv.b.logf("bridge: %s: the daemon ended the stream", dv.name)
		select {
		case <-ctx.Done():
		case <-time.After(retryStart):
		}
	}
	dv.mu.Lock()
	dv.flushLocked()
	dv.mu.Unlock()
}

// stopWait is how long a device's stop waits for its end of stream when
// the bridge shuts down.
const stopWait = 5 * time.Second

// receive takes one datagram on the client's reader goroutine: the UDP
// receive path. It appends it to the current batch and never waits for
// NATS.
func (dv *device) receive(b []byte, _ netip.AddrPort) {
	n, h, err := datagramLen(b)
	if err != nil || n != len(b) {
		dv.b.malformed.Add(1)
		return
	}
	if s := dv.sess.Load(); s != nil {
		s.Observe(b)
	}
	dv.b.datagrams.Add(1)
	dv.b.samples.Add(uint64(h.Count))
	dv.datagrams.Add(1)
	dv.mu.Lock()
	defer dv.mu.Unlock()
	if bt := dv.cur; bt != nil && (bt.session != h.Session || bt.next != h.Seq || len(bt.data)+len(b) > maxBatchBytes) {
		dv.flushLocked()
	}
	bt := dv.cur
	if bt == nil {
		bt = getBatch()
		bt.dev, bt.session, bt.seq, bt.next, bt.started = dv, h.Session, h.Seq, h.Seq, time.Now()
		dv.cur = bt
	}
	bt.data = append(bt.data, b...)
	bt.datagrams++
	bt.samples += int(h.Count)
	bt.next = h.Seq + uint32(h.Count)
	dv.session.Store(h.Session)
	dv.next.Store(bt.next)
	if h.Type == telemetry.TypeEnd {
		dv.flushLocked()
	}
}

func (dv *device) flushLocked() {
	if dv.cur == nil {
		return
	}
	dv.b.enqueue(dv.cur)
	dv.cur = nil
}

// flushOld sends the current batch if it started before t.
func (dv *device) flushOld(t time.Time) {
	dv.mu.Lock()
	if dv.cur != nil && dv.cur.started.Before(t) {
		dv.flushLocked()
	}
	dv.mu.Unlock()
}
