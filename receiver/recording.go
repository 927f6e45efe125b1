package receiver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/mcaprec"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
	"github.com/imustream/imustream/timesync"
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
	// Key is the key the Device signs its commands with (a control.Client
	// dialled with ClientOptions.Key). With it the recording draws the
	// nonce of its starts, derives the stream key from both and takes only
	// datagrams tagged with it; a start reply without tag=hmac-sha256 is
	// ErrUntagged. It defaults to nil: only datagrams from the address
	// the start reply names (src=) are taken, or, from a daemon that names
	// none, every datagram.
	Key *control.Key
	// MCAP, when set, makes the recording an MCAP file of ROS 2 messages
	// (package mcaprec) with these options, to the Output or, without
	// one, to CSV (which then takes MCAP, not rows). nil: CSV.
	MCAP *mcaprec.Options
	// CSVCopy, with MCAP, takes the same samples as CSV rows too.
	CSVCopy io.Writer
	// NoSync turns the time sync off. Otherwise, when the Device runs time
	// exchanges (a *control.Client does), the recording estimates the
	// device's clock from them all along (package timesync) and stamps
	// every sample with the PC's time: the t_pc_ns column, the MCAP
	// header stamps. A daemon that does not know the time command leaves
	// t_pc_ns empty and the MCAP stamps at the device's t_wall_ns.
	NoSync bool
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
	// OnSample receives each sample recorded, as Recorder.OnSample, under
	// the lock Receive holds: it must return at once. nil: nothing.
	OnSample func(h *telemetry.Header, seq uint32, s *sensor.Sample)
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
	// Sync is the time sync's estimate at the end; nil when there was
	// none (NoSync, or a daemon without the time command).
	Sync *SyncSummary
}

// SyncSummary is what the time sync found, as the sidecar records it.
type SyncSummary struct {
	OffsetNs  int64   `json:"offset_ns"` // device − PC CLOCK_MONOTONIC at the end
	RTTNs     int64   `json:"rtt_ns"`    // the smallest round trip in the window
	DriftPPM  float64 `json:"drift_ppm"`
	Exchanges int64   `json:"exchanges"`
	Failed    int64   `json:"failed"` // exchanges without a valid reply
	Resets    int64   `json:"resets"` // the device's clock restarted
}

func syncSummary(e timesync.Estimate, failed int64) *SyncSummary {
	return &SyncSummary{OffsetNs: e.OffsetAt(e.Ref), RTTNs: e.RTT, DriftPPM: e.Drift * 1e6, Exchanges: e.Exchanges, Failed: failed, Resets: e.Resets}
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

	nonce string           // of the starts with a Key, as hex
	sync  *timesync.Syncer // nil: no time sync

	mu      sync.Mutex // what Receive shares with Run
	rec     *Recorder
	firstAt time.Time     // arrival of the first sample recorded
	lastAt  time.Time     // and of the latest
	first   chan struct{} // closed at the first sample recorded
	full    chan struct{} // closed at the first sample past Duration
	isFull  bool
	closed  bool // Run is done with the stream: datagrams are dropped

	// Under mu too: what the start replies said.
	checkSrc bool           // without a Key, while the daemon names the source
	src      netip.AddrPort // the source the latest start reply named
	starting int            // starts waiting for their reply
	held     []heldDatagram // from elsewhere than src while a start waits
	tagged   bool           // a start reply said tag=hmac-sha256

	rmu     sync.Mutex
	failing bool // lease refreshes fail
}

// heldDatagram is a datagram from an address not (yet) named by a start
// reply: the reply on its way may name it.
type heldDatagram struct {
	b    []byte
	from netip.AddrPort
}

// maxHeld bounds the datagrams held while a start waits for its reply;
// later ones from elsewhere than the known source count as wrong source.
const maxHeld = 1024

// ErrUntagged is Run's error when a recording with a Key finds that the
// daemon does not tag the stream.
var ErrUntagged = errors.New("receiver: the daemon does not tag the stream (its start reply has no tag=hmac-sha256), so its datagrams cannot be told from forgeries")

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
	r.sess = sess
	if cfg.MCAP != nil && w != nil {
		opts := *cfg.MCAP
		if cfg.Output != nil && opts.Sync == nil {
			opts.Sync = cfg.Output.File().Sync // a power loss keeps every complete chunk
		}
		m, err := mcaprec.NewWriter(w, opts)
		if err != nil {
			return nil, fmt.Errorf("receiver: %w", err)
		}
		r.rec = NewMCAPRecorder(m, cfg.CSVCopy)
	} else {
		r.rec = NewRecorder(w)
	}
	r.rec.OnSample = cfg.OnSample
	if cfg.Duration > 0 {
		r.rec.StopAfter(cfg.Duration)
	}
	if cfg.Key != nil {
		var nonce [telemetry.NonceLen]byte
		if _, err := rand.Read(nonce[:]); err != nil {
			return nil, fmt.Errorf("receiver: stream nonce: %w", err)
		}
		r.nonce = hex.EncodeToString(nonce[:])
		r.rec.RequireTag(telemetry.StreamKey(cfg.Key[:], nonce[:]))
	} else {
		r.checkSrc, r.rec.auth = true, AuthSource
	}
	return r, nil
}

// Receive takes one datagram from the daemon, which sent it from; its
// signature is control.ClientOptions.OnData's. Without a Key, a datagram
// from elsewhere than the source the latest start reply named is dropped
// and counted (Summary.WrongSource), or held while a start waits for its
// reply, which may name a new source. Datagrams that come once Run has
// stopped the stream are dropped.
func (r *Recording) Receive(b []byte, from netip.AddrPort) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if r.checkSrc && !sameAddr(from, r.src) {
		if r.starting > 0 && len(r.held) < maxHeld {
			r.held = append(r.held, heldDatagram{b: bytes.Clone(b), from: from})
		} else {
			r.rec.Stats.WrongSource++
		}
		return
	}
	r.take(b)
}

// sameAddr reports whether a datagram from came from src, which is valid.
func sameAddr(from, src netip.AddrPort) bool {
	return src.IsValid() && from.Port() == src.Port() && from.Addr().WithZone("").Unmap() == src.Addr()
}

// take hands an authentic datagram to the recorder; r.mu is held. Only
// what the recorder takes can end the session: a forged or suspicious end
// of stream does not.
func (r *Recording) take(b []byte) {
	rec := r.rec
	failed, samples, sessions := rec.Err() != nil, rec.Stats.Samples, rec.Track.Sessions
	err := rec.Add(b) // what it drops is counted in rec.Stats and rec.Track
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
	if err == nil {
		r.sess.Observe(b)
	}
}

// replied notes what a start's reply (or its failure) says about the
// stream: its source and whether it is tagged. Once no start waits, the
// held datagrams from that source are taken and the rest dropped.
func (r *Recording) replied(reply control.Reply, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starting--
	if err == nil {
		if tag, _ := reply.Get("tag"); tag == "hmac-sha256" {
			r.tagged = true
		}
		src, named := reply.Get("src")
		switch a, perr := netip.ParseAddrPort(src); {
		case !r.checkSrc:
		case !named: // a daemon that does not say: nothing to check against
			r.checkSrc, r.rec.auth = false, AuthNone
		case perr == nil:
			r.src = netip.AddrPortFrom(a.Addr().WithZone("").Unmap(), a.Port())
		} // an unreadable src= keeps the source named before
	}
	if r.starting > 0 {
		return
	}
	held := r.held
	r.held = nil
	for _, h := range held {
		switch {
		case r.closed:
		case !r.checkSrc || sameAddr(h.from, r.src):
			r.take(h.b)
		default:
			r.rec.Stats.WrongSource++
		}
	}
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
		r.startSync(ctx)
		err = r.sess.Start(ctx)
	}
	if err != nil && ctx.Err() != nil {
		return status, fmt.Errorf("receiver: interrupted before the stream started: %w", ctx.Err())
	}
	if err == nil && r.cfg.Key != nil && !r.isTagged() {
		// Every datagram would be dropped as forged: say why at once, and
		// free the daemon's slot rather than wait for the lease.
		stopCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, _ = r.dev.Do(stopCtx, control.Command{Verb: control.VerbStop})
		err = ErrUntagged
	}
	return status, err
}

// startSync estimates the device's clock from a few exchanges before the
// stream starts, so that the first samples have a PC time too.
func (r *Recording) startSync(ctx context.Context) {
	src, ok := r.dev.(timesync.Source)
	if !ok || r.cfg.NoSync {
		return
	}
	s := timesync.NewSyncer(src)
	s.Prime(ctx, 8)
	if s.Unsupported() {
		return
	}
	r.mu.Lock()
	r.sync = s
	r.rec.SetClock(s)
	r.mu.Unlock()
}

func (r *Recording) isTagged() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tagged
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
		if r.sync == nil {
			r.sess.Keep(keepCtx, r.refreshFailed)
			return
		}
		synced := make(chan struct{})
		go func() { defer close(synced); r.sync.Run(keepCtx) }()
		r.sess.Keep(keepCtx, r.refreshFailed)
		<-synced
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
	writeErr = rec.Close()
	res.Summary = rec.Summary()
	if r.sync != nil {
		if e, ok := r.sync.Estimate(); ok {
			failed, _ := r.sync.Failed()
			res.Sync = syncSummary(e, failed)
		}
	}
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
	meta.TimeSync = res.Sync
	if r.cfg.MCAP != nil {
		meta.FileFormat = "mcap"
	}
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

// send is the session's: a start carries the recording's nonce (with a
// Key), its reply names the stream's source, and one that works after
// failed refreshes is news.
func (r *Recording) send(ctx context.Context, cmd control.Command) error {
	if cmd.Verb != control.VerbStart {
		_, err := r.dev.Do(ctx, cmd)
		return err
	}
	cmd.Nonce = r.nonce
	r.mu.Lock()
	r.starting++
	r.mu.Unlock()
	reply, err := r.dev.Do(ctx, cmd)
	r.replied(reply, err)
	if err == nil {
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
	if r.sync != nil {
		p.Sync, p.Synced = r.sync.Estimate()
	}
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
