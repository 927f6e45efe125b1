package stream

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// MaxSubscribers bounds the fan-out so one tick's sends stay short.
const MaxSubscribers = 8

// maxListed bounds the set, stopping subscribers included: a stopped one
// frees its slot at once (a start right after a stop gets it), and is
// removed on the sender's next tick.
const maxListed = 2 * MaxSubscribers

// PruneGap ends a run of refused sends (see Config.PruneAfter): a receiver
// that was away for a moment keeps its stream. It is well above the one
// second at which a host rate-limits its ICMP errors, so a closed port is
// still seen as one run across a network.
const PruneGap = 5 * time.Second

// EndReason says why a stream ended.
type EndReason uint8

const (
	EndStopped    EndReason = iota + 1 // a stop command
	EndExpired                         // the lease ran out
	EndPruned                          // the receiver refused sends (ICMP port unreachable) for PruneAfter
	EndNotAllowed                      // the allow list no longer admits the target
	EndShutdown                        // the daemon stopped
)

func (r EndReason) String() string {
	switch r {
	case EndStopped:
		return "stopped"
	case EndExpired:
		return "lease expired"
	case EndPruned:
		return "pruned: the receiver refused the stream"
	case EndNotAllowed:
		return "target no longer allowed"
	case EndShutdown:
		return "daemon shutdown"
	}
	return "unknown"
}

var (
	// ErrFull is returned by Start when MaxSubscribers are already streaming.
	ErrFull = errors.New("stream: subscriber limit reached")
	// ErrNotSubscribed is returned by Stop for an unknown target.
	ErrNotSubscribed = errors.New("stream: not subscribed")
	// ErrOtherFormat is returned by Start and StartEncoded for a target
	// already streamed in another format (native or another layout).
	ErrOtherFormat = errors.New("stream: target already streamed in another format")
)

// Encoder writes one sample in a subscriber's own layout. It runs on the
// sender's tick: it must not allocate when dst has room, nor block.
type Encoder interface {
	// AppendSample appends s, whose number in the subscriber's stream is
	// seq, to dst.
	AppendSample(dst []byte, seq uint32, s *sensor.Sample) []byte
	// Decimation is N for every Nth sample (seq a multiple of N); 1 for all.
	Decimation() int
}

// Subscriber is one destination of the stream. The sender writes to it
// through its own connected socket, so ICMP port-unreachable comes back as
// an error on the next write instead of being lost.
type Subscriber struct {
	Target netip.AddrPort
	conn   *sendConn
	// Source is the address the subscriber's datagrams come from.
	Source netip.AddrPort
	// Owner names who started the stream (a signed start's sender name;
	// "" for none).
	Owner string
	// tagger tags every datagram of a stream that asked for it (a signed
	// start); nil for none. Only the sender uses it.
	tagger *telemetry.Tagger
	// enc, when set, encodes each sample on its own in the subscriber's
	// layout (a rig's) instead of the native datagram; nil for native.
	enc Encoder

	// expires is the CLOCK_MONOTONIC ns at which the lease ends; 0 = never.
	// lease is its length, for a refresh that names none.
	expires atomic.Int64
	lease   atomic.Int64
	state   atomic.Int32  // subActive, subStopping or subGone
	reason  atomic.Uint32 // the EndReason of a stop, set before subStopping

	// The subscriber's own session and the sender's seq of its first
	// sample (see Sender.join); only the sender thread doing a tick
	// touches them.
	session uint32
	base    uint32
	joined  bool

	Datagrams  atomic.Uint64
	SendErrors atomic.Uint64
	// The CLOCK_MONOTONIC ns of the first refused send of the current run
	// (refusals no more than PruneGap apart) and of the latest; only the
	// sender touches them.
	firstRefused, lastRefused atomic.Int64
}

// refuse records a refused send at now and returns how long refusals have
// gone on without a gap of PruneGap.
func (s *Subscriber) refuse(now int64) time.Duration {
	if last := s.lastRefused.Load(); last == 0 || now-last > int64(PruneGap) {
		s.firstRefused.Store(now)
	}
	s.lastRefused.Store(now)
	return time.Duration(now - s.firstRefused.Load())
}

// Leased reports whether the subscriber has a lease that has not run out
// at now: the controller's authenticated proof that it is alive.
func (s *Subscriber) leased(now int64) bool {
	exp := s.expires.Load()
	return exp > 0 && now < exp
}

// Subscriber states. Only the sender moves a subscriber to subGone, with a
// compare-and-swap, so a start racing a stop either revives the subscriber
// or finds it gone and subscribes afresh: it is never silently lost.
const (
	subActive int32 = iota
	subStopping
	subGone
)

// leaseEnded marks a lease the sender has claimed as expired. A refresh
// swaps the deadline with compare-and-swap, so it either lands before the
// sender's claim (and the stream goes on) or sees this mark and subscribes
// afresh: a refresh is never reported done and then lost.
const leaseEnded = -1

// Expires reports the lease deadline in CLOCK_MONOTONIC ns, 0 for none,
// negative once the lease has run out.
func (s *Subscriber) Expires() int64 { return s.expires.Load() }

// Subscribers is the set the command goroutine edits and the sender reads.
// The set itself is immutable: writers build a new slice and swap the
// pointer, so the sender's per-tick Load takes no lock and allocates nothing.
type Subscribers struct {
	p       atomic.Pointer[[]*Subscriber]
	changed rt.Event
	local   netip.Addr // see SetSource
	spare   *spareSocket
}

// SetSource makes every stream started from now on send from a, the
// address the daemon's control socket listens on: a receiver takes
// telemetry only from the address it sends commands to, and the kernel
// would otherwise pick the source by the route (127.0.0.1 for a daemon on
// 127.0.1.5). The unspecified address, or none, leaves the choice to the
// kernel; the start reply's src= names it either way. Call it before the
// first Start.
func (s *Subscribers) SetSource(a netip.Addr) { s.local = a }

// sourceFor is the address a stream to target sends from: local when it
// names one of target's family that can reach it, otherwise none (the
// kernel's choice). A loopback source cannot send off the host (a rig's
// target on the LAN while commands come over loopback).
func sourceFor(target netip.AddrPort, local netip.Addr) netip.Addr {
	local, dst := local.Unmap(), target.Addr().Unmap()
	if !local.IsValid() || local.IsUnspecified() || local.Is4() != dst.Is4() || local.IsLoopback() && !dst.IsLoopback() {
		return netip.Addr{}
	}
	return local
}

// NewSubscribers returns an empty set.
func NewSubscribers() *Subscribers {
	s := &Subscribers{spare: newSpareSocket()}
	s.p.Store(&[]*Subscriber{})
	runtime.AddCleanup(s, (*spareSocket).close, s.spare)
	return s
}

// List returns the current set; callers must not modify it.
func (s *Subscribers) List() []*Subscriber { return *s.p.Load() }

// Changed is set (without blocking the writer) whenever a subscriber is
// added: an idle sender thread waits for it and starts at once.
func (s *Subscribers) Changed() *rt.Event { return &s.changed }

// update swaps in fn(old) with a compare-and-swap loop: both the command
// goroutine and the sender (pruning) write, and neither may block the other.
func (s *Subscribers) update(fn func(old []*Subscriber) []*Subscriber) {
	for {
		old := s.p.Load()
		next := fn(*old)
		if s.p.CompareAndSwap(old, &next) {
			return
		}
	}
}

func (s *Subscribers) find(target netip.AddrPort) *Subscriber {
	for _, sub := range s.List() {
		if sub.Target == target && sub.state.Load() != subGone && sub.expires.Load() != leaseEnded {
			return sub
		}
	}
	return nil
}

// Start subscribes target, or refreshes it if it is already subscribed (a
// control PC that repeats start every second keeps one subscription), at
// CLOCK_MONOTONIC now. lease is how long the stream lives without another
// start; 0 keeps a subscriber's lease as it is (refreshed for its length)
// and gives a new one def. tagger, for a new subscriber, tags its
// datagrams (nil: untagged); a refresh keeps the stream's. It returns the
// subscriber and whether it is new.
func (s *Subscribers) Start(target netip.AddrPort, lease, def time.Duration, now int64, tagger *telemetry.Tagger, owner string) (sub *Subscriber, created bool, err error) {
	return s.start(target, lease, def, now, tagger, owner, nil, netip.Addr{})
}

// StartFrom is Start for a stream that sends from src: the address a start
// came to, on a daemon that listens on the wildcard address. An invalid
// src leaves the choice to SetSource's address or the kernel. A refresh
// keeps the stream's source.
func (s *Subscribers) StartFrom(src netip.Addr, target netip.AddrPort, lease, def time.Duration, now int64, tagger *telemetry.Tagger, owner string) (sub *Subscriber, created bool, err error) {
	return s.start(target, lease, def, now, tagger, owner, nil, src)
}

// StartEncoded is Start for a subscriber that gets each sample alone,
// encoded by enc (a rig's layout), without header, end marker or tag. A
// target streamed in another format is refused with ErrOtherFormat.
func (s *Subscribers) StartEncoded(target netip.AddrPort, lease, def time.Duration, now int64, owner string, enc Encoder) (sub *Subscriber, created bool, err error) {
	if enc == nil || enc.Decimation() < 1 {
		return nil, false, errors.New("stream: StartEncoded needs an encoder with a decimation of at least 1")
	}
	return s.start(target, lease, def, now, nil, owner, enc, netip.Addr{})
}

func (s *Subscribers) start(target netip.AddrPort, lease, def time.Duration, now int64, tagger *telemetry.Tagger, owner string, enc Encoder, src netip.Addr) (sub *Subscriber, created bool, err error) {
	target = netip.AddrPortFrom(target.Addr().Unmap(), target.Port())
	if sub := s.find(target); sub != nil {
		if sub.enc != enc {
			return nil, false, fmt.Errorf("%w: %s", ErrOtherFormat, target)
		}
		if sub.state.Load() == subStopping && s.active() >= MaxSubscribers {
			return nil, false, fmt.Errorf("%w (%d)", ErrFull, MaxSubscribers)
		}
		d := lease
		if d == 0 {
			d = time.Duration(sub.lease.Load())
		}
		if refresh(sub, expiry(d, now)) {
			sub.lease.Store(int64(d))
			if sub.state.CompareAndSwap(subStopping, subActive) || sub.state.Load() == subActive {
				return sub, false, nil
			}
		}
	}
	if lease == 0 {
		lease = def
	}
	if s.active() >= MaxSubscribers || len(s.List()) >= maxListed {
		return nil, false, fmt.Errorf("%w (%d)", ErrFull, MaxSubscribers)
	}
	if !src.IsValid() {
		src = s.local
	}
	conn, err := dialUDP(target, src, s.spare)
	if err != nil {
		return nil, false, fmt.Errorf("stream: subscribe %s: %w", target, err)
	}
	sub = &Subscriber{Target: target, conn: conn, tagger: tagger, enc: enc, Source: conn.localAddr(), Owner: owner}
	sub.expires.Store(expiry(lease, now))
	sub.lease.Store(int64(lease))
	full := false
	s.update(func(old []*Subscriber) []*Subscriber {
		full = len(old) >= maxListed || countActive(old) >= MaxSubscribers
		if full {
			return old
		}
		return append(slices.Clip(old), sub)
	})
	if full {
		conn.Close()
		return nil, false, fmt.Errorf("%w (%d)", ErrFull, MaxSubscribers)
	}
	s.changed.Set()
	s.spare.refill() // the stream has started: this is off its way
	return sub, true, nil
}

// Owner returns who started target's stream; ok is false without one.
func (s *Subscribers) Owner(target netip.AddrPort) (owner string, ok bool) {
	target = netip.AddrPortFrom(target.Addr().Unmap(), target.Port())
	if sub := s.find(target); sub != nil && sub.state.Load() == subActive {
		return sub.Owner, true
	}
	return "", false
}

// Lease returns the lease in force, 0 for none.
func (s *Subscriber) Lease() time.Duration { return time.Duration(s.lease.Load()) }

// Tagged reports whether the subscriber's datagrams carry a tag.
func (s *Subscriber) Tagged() bool { return s.tagger != nil }

// expiry is the deadline of a lease of d from now; 0 for none.
func expiry(d time.Duration, now int64) int64 {
	if d <= 0 {
		return 0
	}
	return now + int64(d)
}

// active counts the subscribers streaming, not those being stopped.
func (s *Subscribers) active() int { return countActive(s.List()) }

func countActive(list []*Subscriber) int {
	n := 0
	for _, sub := range list {
		if sub.state.Load() == subActive {
			n++
		}
	}
	return n
}

// Active lists the targets streamed to, not those being stopped.
func (s *Subscribers) Active() []netip.AddrPort {
	var t []netip.AddrPort
	for _, sub := range s.List() {
		if sub.state.Load() == subActive && sub.expires.Load() != leaseEnded {
			t = append(t, sub.Target)
		}
	}
	return t
}

// refresh sets a new lease unless the sender has already claimed the old
// one as expired.
func refresh(sub *Subscriber, lease int64) bool {
	for {
		old := sub.expires.Load()
		if old == leaseEnded {
			return false
		}
		if sub.expires.CompareAndSwap(old, lease) {
			return true
		}
	}
}

// Stop asks the sender to end target's stream for reason: it sends an
// end-of-stream datagram on its next tick and then removes the subscriber,
// so nothing arrives after the end marker. The slot is free at once.
func (s *Subscribers) Stop(target netip.AddrPort, reason EndReason) error {
	target = netip.AddrPortFrom(target.Addr().Unmap(), target.Port())
	sub := s.find(target)
	if sub == nil || sub.state.Load() != subActive {
		return fmt.Errorf("%w: %s", ErrNotSubscribed, target)
	}
	sub.reason.Store(uint32(reason))
	sub.state.CompareAndSwap(subActive, subStopping)
	return nil
}

// StopAll asks the sender to end every stream owner started ("" for
// every stream) and reports how many there were.
func (s *Subscribers) StopAll(owner string) int {
	list := s.List()
	n := 0
	for _, sub := range list {
		if sub.state.Load() != subActive || owner != "" && sub.Owner != owner {
			continue
		}
		sub.reason.Store(uint32(EndStopped))
		if sub.state.CompareAndSwap(subActive, subStopping) {
			n++
		}
	}
	return n
}

// remove drops the given subscribers and closes their sockets.
func (s *Subscribers) remove(gone []*Subscriber) {
	if len(gone) == 0 {
		return
	}
	s.update(func(old []*Subscriber) []*Subscriber {
		next := make([]*Subscriber, 0, len(old))
		for _, sub := range old {
			if !slices.Contains(gone, sub) {
				next = append(next, sub)
			}
		}
		return next
	})
	for _, sub := range gone {
		sub.state.Store(subGone)
		sub.conn.Close()
	}
}
