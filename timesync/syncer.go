package timesync

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imustream/imustream/control"
)

// Source runs one time exchange with the daemon. A *control.Client is one.
type Source interface {
	Time(ctx context.Context) (control.TimeSample, error)
}

// Syncer defaults.
const (
	// DefaultFastEvery is the exchange interval for the first FastFor: the
	// estimate settles within a couple of seconds of the start.
	DefaultFastEvery = 100 * time.Millisecond
	// DefaultFastFor is how long the fast exchanges go on.
	DefaultFastFor = 3 * time.Second
	// DefaultEvery is the exchange interval after that.
	DefaultEvery = 500 * time.Millisecond
)

// Syncer runs time exchanges with a daemon and keeps the latest estimate
// for other goroutines (Estimate is an atomic load).
type Syncer struct {
	src Source
	// FastEvery, FastFor and Every are the exchange intervals; 0: the
	// defaults.
	FastEvery, FastFor, Every time.Duration

	mu     sync.Mutex // est
	est    Estimator
	cur    atomic.Pointer[Estimate]
	failed atomic.Int64
	lastE  atomic.Pointer[error]
	unsup  atomic.Bool
}

// Unsupported reports whether the daemon refused the time command (a
// version without it): Run then stops.
func (s *Syncer) Unsupported() bool { return s.unsup.Load() }

// NewSyncer returns a syncer that asks src.
func NewSyncer(src Source) *Syncer { return &Syncer{src: src} }

// Estimate returns the latest estimate; ok is false before the first
// exchange that worked. Safe from any goroutine.
func (s *Syncer) Estimate() (Estimate, bool) {
	if e := s.cur.Load(); e != nil {
		return *e, true
	}
	return Estimate{}, false
}

// Failed returns how many exchanges got no valid reply, and the latest
// error.
func (s *Syncer) Failed() (int64, error) {
	var err error
	if p := s.lastE.Load(); p != nil {
		err = *p
	}
	return s.failed.Load(), err
}

// Exchange runs one exchange and adds it to the estimate.
func (s *Syncer) Exchange(ctx context.Context) error {
	ts, err := s.src.Time(ctx)
	if err != nil {
		s.failed.Add(1)
		s.lastE.Store(&err)
		if re, ok := errors.AsType[*control.ReplyError](err); ok && re.Reply.Verb == control.CodeUnknownCommand {
			s.unsup.Store(true)
		}
		return err
	}
	s.mu.Lock()
	e := s.est.Add(ts)
	s.mu.Unlock()
	s.cur.Store(&e)
	return nil
}

// Prime runs n exchanges back to back, so that an estimate is there
// before the first sample; it returns early when ctx ends or the daemon
// does not know the time command.
func (s *Syncer) Prime(ctx context.Context, n int) {
	for range n {
		if ctx.Err() != nil || s.unsup.Load() {
			return
		}
		_ = s.Exchange(ctx)
	}
}

// Run exchanges every FastEvery for FastFor, then every Every, until ctx
// ends.
func (s *Syncer) Run(ctx context.Context) {
	fast, fastFor, every := s.FastEvery, s.FastFor, s.Every
	if fast <= 0 {
		fast = DefaultFastEvery
	}
	if fastFor <= 0 {
		fastFor = DefaultFastFor
	}
	if every <= 0 {
		every = DefaultEvery
	}
	start := time.Now()
	t := time.NewTimer(fast)
	defer t.Stop()
	for !s.unsup.Load() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_ = s.Exchange(ctx)
		if time.Since(start) < fastFor {
			t.Reset(fast)
		} else {
			t.Reset(every)
		}
	}
}

// Measure estimates the device's clock once: a few exchanges with src,
// then, when d is positive, exchanges for d more (FastFor d, so at the
// fast interval throughout). It returns the estimate; ok is false when no
// exchange worked.
func Measure(ctx context.Context, src Source, d time.Duration) (e Estimate, ok bool) {
	s := NewSyncer(src)
	s.Prime(ctx, 8)
	if d > 0 {
		c, cancel := context.WithTimeout(ctx, d)
		s.FastFor = d
		s.Run(c)
		cancel()
	}
	return s.Estimate()
}
