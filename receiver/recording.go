package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imustream/imustream/control"
)

// DefaultLease is a recording's lease unless RecordConfig says otherwise.
const DefaultLease = 3 * time.Second

// Device is what a Recording needs of the daemon: a command and its
// reply. A *control.Client is one.
type Device interface {
	Do(ctx context.Context, cmd control.Command) (control.Reply, error)
}

// RecordConfig is what a Recording is asked to do. Zero fields mean the
// defaults.
type RecordConfig struct {
	// Output is the file the rows go to. Run puts it in place when the
	// recording is complete, keeps it under its partial name when not,
	// and discards it when no sample came or the stream never started.
	Output *Output
	// CSV takes the rows when there is no Output (standard output, say).
	// With neither, the recording only counts.
	CSV io.Writer
	// Duration is the device time to record, counted from the first
	// sample. It defaults to 0: until ctx ends or the daemon ends the
	// stream.
	Duration time.Duration
	// Lease is the stream's lease, in control.MinLease..control.MaxLease:
	// the stream ends by itself this long after the recorder dies. It
	// defaults to DefaultLease.
	Lease time.Duration
	// Device (the daemon's control address) and Program (the recording
	// program and its version) go into the sidecar.
	Device, Program string
	// OnLive receives the progress every LiveEvery while Run waits for
	// the end (neither set: no progress).
	OnLive    func(Progress)
	LiveEvery time.Duration
	// OnNote receives what the user should hear of at once, as it
	// happens: a WriteFailed, a SessionGap, a RefreshFailed or a
	// RefreshResumed. nil: nothing.
	//
	// OnLive and OnNote are called one at a time, from Run's goroutines
	// and from the one that calls Receive; they must not call the
	// Recording. None is called after Run returns.
	OnNote func(Note)
}

// A Note is news of a running recording for its user: a WriteFailed, a
// SessionGap, a RefreshFailed or a RefreshResumed.
type Note interface{ note() }

// WriteFailed is a note: writing the rows failed. The Written bytes of
// whole rows stay where they are; the statistics go on.
type WriteFailed struct {
	Err     error
	Written int64
}

// RefreshFailed is a note: the lease refreshes began to fail, Quiet after
// the latest sample arrived (0: none came yet). The refreshes go on; the
// next note is a RefreshResumed once one works.
type RefreshFailed struct {
	Err   error
	Quiet time.Duration
}

// RefreshResumed is a note: a lease refresh worked after a RefreshFailed.
type RefreshResumed struct{}

func (WriteFailed) note()    {}
func (SessionGap) note()     {}
func (RefreshFailed) note()  {}
func (RefreshResumed) note() {}

// Ending is how a recording ended.
type Ending int

const (
	EndDuration    Ending = iota // the Duration was recorded
	EndStopped                   // ctx ended, and no Duration was asked: as asked (Ctrl-C)
	EndInterrupted               // ctx ended before the Duration was recorded
	EndDaemon                    // the daemon sent the end of stream
)

// String says it in the words of the sidecar, where ctx's end is the
// user's signal.
func (e Ending) String() string {
	switch e {
	case EndDuration:
		return "the duration was recorded"
	case EndStopped:
		return "stopped by a signal (Ctrl-C)"
	case EndInterrupted:
		return "interrupted by a signal (Ctrl-C) before the duration was recorded"
	}
	return "the daemon ended the stream"
}

// AfterEnd is what a ping found after the daemon ended the stream, which
// says why it may have ended it.
type AfterEnd struct {
	Answers bool
	Version string // the daemon's, when it answers
}

func (a AfterEnd) String() string {
	if !a.Answers {
		return "it no longer answers: it shut down, or this host left its allow list"
	}
	return fmt.Sprintf("it still answers (version %s): another controller stopped the stream, or its lease ran out", a.Version)
}

// RecordResult is what a recording amounted to.
type RecordResult struct {
	Ending   Ending
	AfterEnd AfterEnd // with EndDaemon
	Summary  Summary
	// Ended says how the recording ended, as its sidecar does: Ending,
	// and AfterEnd with EndDaemon.
	Ended string
	// Incomplete says why the recording is not complete; "" when it is.
	Incomplete string
	// At is where the rows are now: the Output's Path once put in place,
	// its Partial when kept, "" without an Output or when it was
	// discarded.
	At      string
	Written int64  // bytes of whole rows written
	Rows    uint64 // rows written, the header not included
}

// Recording is one recording of a stream to a CSV file: Receive takes
// the datagrams from the socket, Run drives the stream from its start to
// its end and finishes the file. It writes nothing to a terminal: what
// the user should see comes as typed values through OnLive and OnNote,
// and as the RecordResult.
type Recording struct {
	cfg  RecordConfig
	sess *Session
	dev  Device // Run's; the session's commands go to it
	ran  atomic.Bool
	cb   sync.Mutex // OnLive and OnNote one at a time

	mu      sync.Mutex // what Receive shares with Run
	rec     *Recorder
	firstAt time.Time     // arrival of the first sample recorded
	lastAt  time.Time     // and of the latest
	first   chan struct{} // closed at the first sample recorded
	full    chan struct{} // closed at the first sample past Duration
	isFull  bool
	closed  bool // Run is done with the stream: datagrams are dropped

	rmu     sync.Mutex
	failing bool // lease refreshes fail
}

// NewRecording returns a recording as cfg asks. Hand its Receive every
// datagram the daemon sends (control.ClientOptions.OnData), then Run it.
func NewRecording(cfg RecordConfig) (*Recording, error) {
	if cfg.Duration < 0 {
		return nil, fmt.Errorf("receiver: duration %s is negative", cfg.Duration)
	}
	if cfg.Output != nil && cfg.CSV != nil {
		return nil, errors.New("receiver: a recording goes to an Output or to a CSV writer, not both")
	}
	if cfg.Lease == 0 {
		cfg.Lease = DefaultLease
	}
	r := &Recording{cfg: cfg, first: make(chan struct{}), full: make(chan struct{})}
	sess, err := NewSession(r.send, "", cfg.Lease)
	if err != nil {
		return nil, err
	}
	w := cfg.CSV
	if cfg.Output != nil {
		w = cfg.Output.File()
	}
	r.sess, r.rec = sess, NewRecorder(w)
	if cfg.Duration > 0 {
		r.rec.StopAfter(cfg.Duration)
	}
	return r, nil
}

// Receive takes one datagram from the daemon; its signature is
// control.ClientOptions.OnData's. Datagrams that come once Run has
// stopped the stream are dropped.
func (r *Recording) Receive(b []byte, _ netip.AddrPort) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	rec := r.rec
	failed, samples, sessions := rec.Err() != nil, rec.Stats.Samples, rec.Track.Sessions
	_ = rec.Add(b) // malformed datagrams are counted in rec.Stats
	if err := rec.Err(); err != nil && !failed {
		// Say so now, not only at the end of a long recording.
		r.note(WriteFailed{Err: err, Written: rec.Written()})
	}
	if rec.Stats.Samples > samples {
		r.lastAt = time.Now()
		if samples == 0 {
			r.firstAt = r.lastAt
			close(r.first)
		}
	}
	if sessions > 0 && rec.Track.Sessions > sessions {
		if g, ok := rec.LastGap(); ok {
			r.note(g)
		}
	}
	if rec.Full() && !r.isFull {
		r.isFull = true
		close(r.full)
	}
	r.sess.Observe(b)
}

// Run records until ctx ends, the Duration is recorded (on the device's
// clock) or the daemon ends the stream. It asks dev for the daemon's
// status (for the sidecar) and for the stream, refreshes the stream's
// lease, stops the stream and waits up to a second for its end, so that
// the samples in flight are recorded too, and finishes the Output.
//
// When the stream does not start Run returns no result and the error,
// which wraps ctx's if ctx ended first. Otherwise it returns the result
// and, joined, what failed on the way: writing the rows, stopping the
// stream, putting the file in place. A Recording runs once.
func (r *Recording) Run(ctx context.Context, dev Device) (*RecordResult, error) {
	if r.ran.Swap(true) {
		return nil, errors.New("receiver: a recording runs once")
	}
	r.dev = dev
	status, err := r.start(ctx)
	if err != nil {
		r.close()
		if o := r.cfg.Output; o != nil {
			o.Discard() // the stream never started: leave nothing behind
		}
		return nil, err
	}
	res := &RecordResult{Ending: r.wait(ctx)}
	stopErr := r.sess.Stop(context.Background(), time.Second)
	if errors.Is(stopErr, ErrNoEnd) {
		stopErr = nil // the summary says "end of stream false"
	}
	if res.Ending == EndDaemon {
		res.AfterEnd = r.ping()
	}
	r.close()
	writeErr, fileErr := r.finish(res, status, stopErr)
	return res, errors.Join(writeErr, stopErr, fileErr)
}

// start asks for the daemon's status, which the sidecar records, and for
// the stream.
func (r *Recording) start(ctx context.Context) (control.Reply, error) {
	status, err := r.dev.Do(ctx, control.Command{Verb: control.VerbStatus})
	if err != nil {
		err = fmt.Errorf("receiver: status: %w", err)
	} else {
		err = r.sess.Start(ctx)
	}
	if err != nil && ctx.Err() != nil {
		return status, fmt.Errorf("receiver: interrupted before the stream started: %w", ctx.Err())
	}
	return status, err
}

// wait keeps the stream's lease until the recording ends, and says how it
// ended. The Duration counts from the first sample: the start may take
// retries, and the first sample comes a tick after it. It ends when the
// wall clock says so, or when a sample past it on the device's clock
// arrives, whichever comes first.
func (r *Recording) wait(ctx context.Context) Ending {
	keepCtx, stopKeep := context.WithCancel(ctx)
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		r.sess.Keep(keepCtx, r.refreshFailed)
	}()
	defer func() { stopKeep(); <-kept }()
	var live <-chan time.Time
	if r.cfg.OnLive != nil && r.cfg.LiveEvery > 0 {
		t := time.NewTicker(r.cfg.LiveEvery)
		defer t.Stop()
		live = t.C
	}
	first, timer := r.first, (<-chan time.Time)(nil)
	for {
		select {
		case <-ctx.Done():
			if r.cfg.Duration > 0 {
				return EndInterrupted
			}
			return EndStopped
		case <-r.sess.Ended():
			return EndDaemon
		case <-first:
			first = nil
			if r.cfg.Duration > 0 {
				t := time.NewTimer(r.cfg.Duration)
				defer t.Stop()
				timer = t.C
			}
		case <-timer:
			return EndDuration
		case <-r.full: // a sample past the duration: the rest is in flight
			return EndDuration
		case <-live:
			r.live()
		}
	}
}

// ping asks whether the daemon that ended the stream still runs.
func (r *Recording) ping() AfterEnd {
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	reply, err := r.dev.Do(ctx, control.Command{Verb: control.VerbPing})
	if err != nil {
		return AfterEnd{}
	}
	v, _ := reply.Get("version")
	return AfterEnd{Answers: true, Version: v}
}

// close stops Receive: from now on only Run touches the recorder.
func (r *Recording) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}

// finish writes the last rows, sums the recording up in res and finishes
// the Output.
func (r *Recording) finish(res *RecordResult, status control.Reply, stopErr error) (writeErr, fileErr error) {
	rec := r.rec
	writeErr = rec.Flush()
	res.Summary = rec.Summary()
	res.Ended = res.Ending.String()
	if res.Ending == EndDaemon {
		res.Ended += "; " + res.AfterEnd.String()
	}
	res.Incomplete = r.incomplete(res.Ending, writeErr, stopErr)
	if o := r.cfg.Output; o != nil {
		fileErr = r.place(o, res, status)
	}
	res.Written, res.Rows = rec.Written(), rec.Rows()
	return writeErr, fileErr
}

// incomplete says why the recording is not complete, or "".
func (r *Recording) incomplete(how Ending, writeErr, stopErr error) string {
	switch {
	case writeErr != nil:
		return "writing failed"
	case how == EndDaemon:
		return "the daemon ended the stream"
	case how == EndInterrupted && r.firstAt.IsZero():
		return "interrupted before the first sample"
	case how == EndInterrupted:
		return fmt.Sprintf("interrupted after %.1f s of the %s asked", time.Since(r.firstAt).Seconds(), r.cfg.Duration)
	case stopErr != nil && r.refreshFailing():
		return "the daemon stopped answering"
	}
	return ""
}

// place puts the file in place only when the recording is complete;
// otherwise it stays under its partial name, and res says where.
func (r *Recording) place(o *Output, res *RecordResult, status control.Reply) error {
	meta := r.rec.NewMetadata()
	meta.Complete, meta.Ended = res.Incomplete == "", res.Ended
	if res.Incomplete != "" {
		meta.Ended += "; incomplete: " + res.Incomplete
	}
	meta.Device, meta.Recorder, meta.DurationAsked = r.cfg.Device, r.cfg.Program, r.cfg.Duration
	meta.Daemon = daemonOf(status)
	var err error
	switch {
	case r.rec.Stats.Samples == 0:
		err = o.Discard()
	case res.Incomplete == "":
		err = o.Commit(meta)
	default:
		err = o.Keep(meta)
	}
	res.At = o.Where()
	if res.At != "" && res.At != o.Path && res.Incomplete == "" {
		res.Incomplete = "it could not be put in place"
	}
	return err
}

// daemonOf is what the daemon's status reply says about it.
func daemonOf(status control.Reply) Daemon {
	d := Daemon{Status: make(map[string]string, len(status.Fields))}
	for _, f := range status.Fields {
		d.Status[f.Key] = f.Value
	}
	d.Version, d.Sensor = d.Status["version"], d.Status["sensor"]
	d.RateHz, _ = strconv.Atoi(d.Status["rate"])
	d.Batch, _ = strconv.Atoi(d.Status["batch"])
	return d
}

// send is the session's: a start that works after failed refreshes is
// news.
func (r *Recording) send(ctx context.Context, cmd control.Command) error {
	_, err := r.dev.Do(ctx, cmd)
	if err == nil && cmd.Verb == control.VerbStart {
		r.refreshWorked()
	}
	return err
}

// refreshFailed says once that lease refreshes fail, and refreshWorked
// once that they work again, rather than a note per refresh while the
// daemon is away.
func (r *Recording) refreshFailed(err error) {
	quiet := r.quiet()
	r.rmu.Lock()
	defer r.rmu.Unlock()
	if !r.failing {
		r.failing = true
		r.note(RefreshFailed{Err: err, Quiet: quiet})
	}
}

func (r *Recording) refreshWorked() {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	if r.failing {
		r.failing = false
		r.note(RefreshResumed{})
	}
}

func (r *Recording) refreshFailing() bool {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	return r.failing
}

// quiet returns how long no sample came.
func (r *Recording) quiet() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lastAt.IsZero() {
		return 0
	}
	return time.Since(r.lastAt)
}

// live hands OnLive the progress.
func (r *Recording) live() {
	r.mu.Lock()
	var p Progress
	if !r.firstAt.IsZero() {
		p = r.rec.progress(time.Since(r.firstAt))
	}
	r.mu.Unlock()
	r.cb.Lock()
	defer r.cb.Unlock()
	r.cfg.OnLive(p)
}

func (r *Recording) note(n Note) {
	if r.cfg.OnNote == nil {
		return
	}
	r.cb.Lock()
	defer r.cb.Unlock()
	r.cfg.OnNote(n)
}
