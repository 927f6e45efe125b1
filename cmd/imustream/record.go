package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/receiver"
)

type recordFlags struct {
	ctl      ctlFlags
	duration time.Duration
	out      string
	force    bool
	lease    time.Duration
	strict   bool
}

// runRecord streams to this host, writes CSV and prints a loss summary.
func runRecord(name string, args []string, stdout, stderr io.Writer) error {
	var f recordFlags
	fs := newFlags(name, stderr)
	f.ctl.register(fs)
	fs.DurationVar(&f.duration, "duration", 0, "how long to record, counted from the first sample: a `DURATION` like 90s or 5m (0: until Ctrl-C)")
	fs.StringVar(&f.out, "out", "", "CSV `FILE` to write, its metadata to FILE.json; the rows go to a partial file that becomes FILE once the recording is complete ('-': standard output; default: statistics only)")
	fs.BoolVar(&f.force, "force", false, "replace an existing --out FILE, once the new recording is complete")
	fs.DurationVar(&f.lease, "lease", 3*time.Second, "the stream's lease, a `DURATION`: it ends by itself this long after the recorder dies")
	fs.BoolVar(&f.strict, "strict", false, "exit 1 if any sample was lost or the count is off by more than 1 % of rate × duration")
	groupFlags(fs, "Recording: duration out force lease strict", ctlDeviceGroup, ctlSecurityGroup)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.duration < 0 {
		return usagef("--duration %s is negative: give how long to record, or 0 to record until Ctrl-C", f.duration)
	}
	if f.lease < control.MinLease || f.lease > control.MaxLease {
		return usagef("--lease %s outside %s..%s", f.lease, control.MinLease, control.MaxLease)
	}
	// The file is checked and created before the daemon is asked for
	// anything: a refusal or a bad directory costs no stream.
	var out *receiver.Output
	if f.out != "" && f.out != "-" {
		o, err := receiver.CreateOutput(f.out, f.force)
		if e, ok := errors.AsType[*receiver.ExistsError](err); ok {
			return usagef("%s exists; --force replaces it once the new recording is complete", e.Path)
		}
		if err != nil {
			return err
		}
		out = o
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return record(ctx, f, out, stdout, stderr)
}

// ending is how a recording ended.
type ending int

const (
	endDuration    ending = iota // --duration of samples recorded
	endSignal                    // Ctrl-C (or SIGTERM) without --duration: as asked
	endInterrupted               // Ctrl-C before --duration was reached
	endDaemon                    // the daemon sent the end of stream
)

func (e ending) String() string {
	switch e {
	case endDuration:
		return "the duration was recorded"
	case endSignal:
		return "stopped by a signal (Ctrl-C)"
	case endInterrupted:
		return "interrupted by a signal (Ctrl-C) before the duration was recorded"
	}
	return "the daemon ended the stream"
}

// recording is the state the client's reader goroutine shares with the
// main loop.
type recording struct {
	mu      sync.Mutex
	rec     *receiver.Recorder
	sess    *receiver.Session
	errw    io.Writer
	partial string    // where the rows go, for messages
	firstAt time.Time // arrival of the first sample recorded
	lastAt  time.Time // and of the latest
	first   chan struct{}
	full    chan struct{}
	isFull  bool
}

func (r *recording) onData(b []byte, _ netip.AddrPort) {
	r.mu.Lock()
	rec := r.rec
	failed, samples, sessions := rec.Err() != nil, rec.Stats.Samples, rec.Track.Sessions
	_ = rec.Add(b) // malformed datagrams are counted in rec.Stats
	if err := rec.Err(); err != nil && !failed {
		// Say so now, not only at the end of a long recording.
		fmt.Fprintf(r.errw, "\nrecord: %v; %s keeps the %d bytes of whole rows written so far, the statistics go on\n", err, r.partial, rec.Written())
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
			fmt.Fprintf(r.errw, "\nrecord: %s\n", g)
		}
	}
	if rec.Full() && !r.isFull {
		r.isFull = true
		close(r.full)
	}
	r.mu.Unlock()
	r.sess.Observe(b)
}

// quiet returns how long no sample came.
func (r *recording) quiet() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lastAt.IsZero() {
		return 0
	}
	return time.Since(r.lastAt)
}

// refreshNotes says once that lease refreshes fail and once that they
// work again, rather than a line per refresh while the daemon is away.
type refreshNotes struct {
	mu      sync.Mutex
	w       io.Writer
	failing bool
}

func (n *refreshNotes) failed(err error, quiet time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.failing {
		return
	}
	n.failing = true
	fmt.Fprintf(n.w, "\nrecord: lease refresh failed: %v; no samples for %.1f s. Still trying: record says when it works again, and the summary counts what is missing\n", err, quiet.Seconds())
}

func (n *refreshNotes) ok() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.failing {
		n.failing = false
		fmt.Fprintln(n.w, "\nrecord: the daemon answers again")
	}
}

func (n *refreshNotes) isFailing() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.failing
}

// lockedWriter serialises the lines of the goroutines that report.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func record(ctx context.Context, f recordFlags, out *receiver.Output, stdout, stderr io.Writer) error {
	var live <-chan time.Time
	if isTerminal(stderr) {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		live = t.C
	}
	errw := &lockedWriter{w: stderr}
	var w io.Writer
	r := &recording{errw: errw, first: make(chan struct{}), full: make(chan struct{})}
	finished := false // the partial file was put in place, kept or removed
	switch {
	case out != nil:
		w, r.partial = out.File(), out.Partial
		defer func() {
			if !finished {
				out.Discard() // the stream never started: leave nothing behind
			}
		}()
	case f.out == "-":
		w, r.partial = stdout, "standard output"
	}
	r.rec = receiver.NewRecorder(w)
	if f.duration > 0 {
		r.rec.StopAfter(f.duration)
	}
	notes := &refreshNotes{w: errw}
	var c *control.Client // dialled below; the session sends only after that
	sess, err := receiver.NewSession(func(ctx context.Context, cmd control.Command) error {
		_, err := c.Do(ctx, cmd)
		if err == nil && cmd.Verb == control.VerbStart {
			notes.ok()
		}
		return err
	}, "", f.lease)
	if err != nil {
		return usagef("%w", err)
	}
	r.sess = sess
	if c, err = f.ctl.dial(control.ClientOptions{OnData: r.onData}); err != nil {
		return err
	}
	defer c.Close()

	// The status says what the sidecar records of the daemon.
	status, err := c.Status(ctx)
	if err == nil {
		err = sess.Start(ctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted before the stream started: %w", ctx.Err())
		}
		return err
	}
	keepCtx, stopKeep := context.WithCancel(ctx)
	defer stopKeep()
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		sess.Keep(keepCtx, func(err error) { notes.failed(err, r.quiet()) })
	}()

	// --duration counts from the first sample: the start may take retries,
	// and the first sample comes a tick after it.
	first, full := r.first, r.full
	var timer <-chan time.Time
	var how ending
loop:
	for {
		select {
		case <-ctx.Done():
			how = endSignal
			if f.duration > 0 {
				how = endInterrupted
			}
			break loop
		case <-sess.Ended():
			how = endDaemon
			break loop
		case <-first:
			first = nil
			if f.duration > 0 {
				t := time.NewTimer(f.duration)
				defer t.Stop()
				timer = t.C
			}
		case <-timer:
			how = endDuration
			break loop
		case <-full: // a sample past the duration: the rest is in flight
			how = endDuration
			break loop
		case <-live:
			r.mu.Lock()
			line := "waiting for the first sample"
			if !r.firstAt.IsZero() {
				line = r.rec.LiveLine(time.Since(r.firstAt))
			}
			r.mu.Unlock()
			fmt.Fprintf(errw, "\r%s", line)
		}
	}
	stopKeep()
	<-kept
	if live != nil {
		fmt.Fprintln(errw)
	}
	// Stop and wait briefly for the end-of-stream marker so the samples
	// already in flight are recorded too.
	stopErr := sess.Stop(context.Background(), time.Second)
	if errors.Is(stopErr, receiver.ErrNoEnd) {
		stopErr = nil // the summary says "end of stream false"
	}
	var endNote string
	if how == endDaemon {
		endNote = daemonEnded(c)
	}
	c.Close()

	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.rec
	writeErr := rec.Flush()
	sum := rec.Summary()
	var why string // why the recording is incomplete
	switch {
	case writeErr != nil:
		why = "writing failed"
	case how == endDaemon:
		why = "the daemon ended the stream"
	case how == endInterrupted && r.firstAt.IsZero():
		why = "interrupted before the first sample"
	case how == endInterrupted:
		why = fmt.Sprintf("interrupted after %.1f s of the %s asked", time.Since(r.firstAt).Seconds(), f.duration)
	case stopErr != nil && notes.isFailing():
		why = "the daemon stopped answering"
	}
	ended := how.String()
	if how == endDaemon {
		ended += "; " + endNote
		fmt.Fprintf(errw, "record: the daemon ended the stream (session %08x, %d samples recorded, %.3f s of device time); %s\n", sum.Session, sum.Samples, sum.Span.Seconds(), endNote)
	}

	// The file goes into place only when it is complete; otherwise it
	// stays under its partial name, and the message says where.
	var fileErr error
	csvLine, where := "", ""
	if out != nil {
		meta := rec.NewMetadata()
		meta.Complete, meta.Ended = why == "", ended
		if why != "" {
			meta.Ended += "; incomplete: " + why
		}
		fillMetadata(meta, f, status)
		finished = true
		switch {
		case rec.Stats.Samples == 0:
			fileErr = out.Discard()
			csvLine = "none: no samples recorded; " + unchanged(f.out)
		case why == "":
			fileErr = out.Commit(meta)
		default:
			fileErr = out.Keep(meta)
		}
		switch at := out.Where(); at {
		case "":
		case out.Path:
			csvLine = fmt.Sprintf("%s (%d bytes)\n  metadata       %s", at, rec.Written(), receiver.SidecarPath(at))
		default:
			if why == "" {
				why = "it could not be put in place"
			}
			csvLine = fmt.Sprintf("%s (%d bytes of whole rows, INCOMPLETE: %s; %s)\n  metadata       %s",
				at, rec.Written(), why, unchanged(f.out), receiver.SidecarPath(at))
			where = fmt.Sprintf(": its %d rows are in %s; %s", rec.Rows(), at, unchanged(f.out))
		}
	}
	sum.WriteText(stdout, f.ctl.device)
	fmt.Fprintf(stdout, "  ended          %s\n", ended)
	if csvLine != "" {
		fmt.Fprintf(stdout, "  csv            %s\n", csvLine)
	}
	if f.strict {
		verdict := "PASS"
		if !sum.OK() {
			verdict = "FAIL"
		}
		fmt.Fprintf(stdout, "  strict check   %s (no loss, count within 1 %%)\n", verdict)
	}

	var errs []error
	if writeErr != nil {
		errs = append(errs, writeErr)
	}
	if stopErr != nil {
		errs = append(errs, stopErr)
	}
	if fileErr != nil {
		errs = append(errs, fileErr)
	}
	switch {
	case why != "":
		errs = append(errs, fmt.Errorf("the recording is incomplete (%s)%s", why, where))
	case out != nil && rec.Stats.Samples == 0:
		errs = append(errs, fmt.Errorf("no samples received; %s", unchanged(f.out)))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if f.strict && !sum.OK() {
		return errors.New("strict check failed")
	}
	return nil
}

// unchanged says what became of --out when the recording did not go there.
func unchanged(path string) string {
	if _, err := os.Lstat(path); err == nil {
		return path + " is unchanged"
	}
	return path + " was not written"
}

// daemonEnded finds out whether the daemon that ended the stream still
// runs, to say why it may have ended it.
func daemonEnded(c *control.Client) string {
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	r, err := c.Ping(ctx)
	if err != nil {
		return "it no longer answers: it shut down, or this host left its allow list"
	}
	v, _ := r.Get("version")
	return fmt.Sprintf("it still answers (version %s): another controller stopped the stream, or its lease ran out", v)
}

// fillMetadata adds what record knows to a recording's sidecar: the
// daemon's address and its status when the recording started.
func fillMetadata(m *receiver.Metadata, f recordFlags, status control.Reply) {
	m.Device = f.ctl.device
	m.Recorder = fmt.Sprintf("imustream %s (commit %s) record", version, commit)
	m.DurationAsked = f.duration
	m.Daemon.Status = make(map[string]string, len(status.Fields))
	for _, fl := range status.Fields {
		m.Daemon.Status[fl.Key] = fl.Value
	}
	m.Daemon.Version = m.Daemon.Status["version"]
	m.Daemon.Sensor = m.Daemon.Status["sensor"]
	m.Daemon.RateHz, _ = strconv.Atoi(m.Daemon.Status["rate"])
	m.Daemon.Batch, _ = strconv.Atoi(m.Daemon.Status["batch"])
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
