package stream

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"
)

// MaxSubscribers bounds the fan-out so one tick's sends stay short.
const MaxSubscribers = 8

// PruneGap restarts a subscriber's count of refused sends (see
// Config.PruneAfter): a receiver that was away for a moment keeps its
// stream. It is well above the one second at which a host rate-limits its
// ICMP errors, so a closed port is still pruned across a network.
const PruneGap = 5 * time.Second

var (
	// ErrFull is returned by Add when MaxSubscribers are already streaming.
	ErrFull = errors.New("stream: subscriber limit reached")
	// ErrNotSubscribed is returned by Stop for an unknown target.
	ErrNotSubscribed = errors.New("stream: not subscribed")
)

// Subscriber is one destination of the stream. The sender writes to it
// through its own connected socket, so ICMP port-unreachable comes back as
// an error on the next write instead of being lost.
type Subscriber struct {
	Target netip.AddrPort
	conn   *sendConn

	// expires is the CLOCK_MONOTONIC ns at which the lease ends; 0 = never.
	expires atomic.Int64
	state   atomic.Int32 // subActive, subStopping or subGone

	Datagrams  atomic.Uint64
	SendErrors atomic.Uint64
	// Refused sends since the last gap of PruneGap, and the CLOCK_MONOTONIC
	// ns of the latest; only the sender touches them.
	refused     atomic.Uint32
	lastRefused atomic.Int64
}

// refuse counts a refused send at now and returns the count.
func (s *Subscriber) refuse(now int64) uint32 {
	if last := s.lastRefused.Load(); last != 0 && now-last > int64(PruneGap) {
		s.refused.Store(0)
	}
	s.lastRefused.Store(now)
	return s.refused.Add(1)
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
	changed chan struct{}
}

// NewSubscribers returns an empty set.
func NewSubscribers() *Subscribers {
	s := &Subscribers{changed: make(chan struct{}, 1)}
	s.p.Store(&[]*Subscriber{})
	return s
}

// List returns the current set; callers must not modify it.
func (s *Subscribers) List() []*Subscriber { return *s.p.Load() }

// Changed is signalled (without blocking the writer) whenever a subscriber
// is added, so an idle sender can start at once.
func (s *Subscribers) Changed() <-chan struct{} { return s.changed }

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
// control PC that repeats start every second keeps one subscription). lease
// is the absolute CLOCK_MONOTONIC deadline in ns, 0 for none. It reports
// whether the subscriber is new.
func (s *Subscribers) Start(target netip.AddrPort, lease int64) (created bool, err error) {
	target = netip.AddrPortFrom(target.Addr().Unmap(), target.Port())
	if sub := s.find(target); sub != nil && refresh(sub, lease) {
		if sub.state.CompareAndSwap(subStopping, subActive) || sub.state.Load() == subActive {
			return false, nil
		}
	}
	if len(s.List()) >= MaxSubscribers {
		return false, fmt.Errorf("%w (%d)", ErrFull, MaxSubscribers)
	}
	conn, err := dialUDP(target)
	if err != nil {
		return false, fmt.Errorf("stream: subscribe %s: %w", target, err)
	}
	sub := &Subscriber{Target: target, conn: conn}
	sub.expires.Store(lease)
	full := false
	s.update(func(old []*Subscriber) []*Subscriber {
		full = len(old) >= MaxSubscribers
		if full {
			return old
		}
		return append(slices.Clip(old), sub)
	})
	if full {
		conn.Close()
		return false, fmt.Errorf("%w (%d)", ErrFull, MaxSubscribers)
	}
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return true, nil
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

// Stop asks the sender to end target's stream: it sends an end-of-stream
// datagram on its next tick and then removes the subscriber, so nothing
// arrives after the end marker.
func (s *Subscribers) Stop(target netip.AddrPort) error {
	target = netip.AddrPortFrom(target.Addr().Unmap(), target.Port())
	sub := s.find(target)
	if sub == nil {
		return fmt.Errorf("%w: %s", ErrNotSubscribed, target)
	}
	sub.state.CompareAndSwap(subActive, subStopping)
	return nil
}

// StopAll asks the sender to end every stream and reports how many there were.
func (s *Subscribers) StopAll() int {
	list := s.List()
	n := 0
	for _, sub := range list {
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
