package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
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
	lease    time.Duration
	strict   bool
}

// runRecord streams to this host, writes CSV and prints a loss summary.
func runRecord(name string, args []string, stdout, stderr io.Writer) error {
	var f recordFlags
	fs := newFlags(name, stderr)
	f.ctl.register(fs)
	fs.DurationVar(&f.duration, "duration", 0, "how long to record (0: until Ctrl-C)")
	fs.StringVar(&f.out, "out", "", "CSV file to write ('-' for standard output; default: statistics only)")
	fs.DurationVar(&f.lease, "lease", 3*time.Second, "lease the stream is kept alive with; it ends by itself this long after the recorder dies")
	fs.BoolVar(&f.strict, "strict", false, "exit 1 if any sample was lost or the count is off by more than 1 % of rate × duration")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.lease < control.MinLease || f.lease > control.MaxLease {
		return fmt.Errorf("%w: --lease %s outside %s..%s", errUsage, f.lease, control.MinLease, control.MaxLease)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	return record(ctx, f, stdout, stderr)
}

func record(ctx context.Context, f recordFlags, stdout, stderr io.Writer) error {
	var w io.Writer
	switch f.out {
	case "":
	case "-":
		w = stdout
	default:
		file, err := os.Create(f.out)
		if err != nil {
			return fmt.Errorf("record: %w", err)
		}
		defer file.Close()
		w = file
	}
	var (
		mu  sync.Mutex
		rec = receiver.NewRecorder(w)
		c   *control.Client // dialled below; the session sends only after that
	)
	sess, err := receiver.NewSession(func(ctx context.Context, cmd control.Command) error {
		_, err := c.Do(ctx, cmd)
		return err
	}, "", f.lease)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	onData := func(b []byte, _ netip.AddrPort) {
		mu.Lock()
		failed := rec.Err() != nil
		_ = rec.Add(b) // malformed datagrams are counted in rec.Stats
		if err := rec.Err(); err != nil && !failed {
			// Say so now, not only at the end of a long recording.
			fmt.Fprintf(stderr, "\nrecord: %v; the file keeps the %d bytes of whole rows written so far, the statistics go on\n", err, rec.Written())
		}
		mu.Unlock()
		sess.Observe(b)
	}
	if c, err = f.ctl.dial(control.ClientOptions{OnData: onData}); err != nil {
		return err
	}
	defer c.Close()

	bg := context.Background()
	if err := sess.Start(bg); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	began := time.Now()
	keepCtx, stopKeep := context.WithCancel(ctx)
	defer stopKeep()
	go sess.Keep(keepCtx, func(err error) { fmt.Fprintf(stderr, "\nrecord: lease refresh: %v\n", err) })
	var live <-chan time.Time
	if isTerminal(stderr) {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		live = t.C
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-sess.Ended():
			break loop
		case <-live:
			mu.Lock()
			line := rec.LiveLine(time.Since(began))
			mu.Unlock()
			fmt.Fprintf(stderr, "\r%s", line)
		}
	}
	stopKeep()
	if live != nil {
		fmt.Fprintln(stderr)
	}
	// Stop and wait briefly for the end-of-stream marker so the samples
	// already in flight are recorded too.
	stopErr := sess.Stop(bg, time.Second)
	if errors.Is(stopErr, receiver.ErrNoEnd) {
		stopErr = nil // the summary says "end of stream false"
	}
	c.Close()
	mu.Lock()
	defer mu.Unlock()
	writeErr := rec.Flush()
	ok := summary(stdout, rec, f)
	if err := errors.Join(stopErr, writeErr); err != nil {
		return err
	}
	if f.strict && !ok {
		return errors.New("record: strict check failed")
	}
	return nil
}

// summary prints the recording's statistics and reports whether it passes
// the strict check.
func summary(w io.Writer, rec *receiver.Recorder, f recordFlags) bool {
	sum := rec.Summary()
	sum.WriteText(w, f.ctl.device)
	if f.out != "" && f.out != "-" {
		if rec.Err() != nil {
			fmt.Fprintf(w, "  csv            %s (%d bytes of whole rows, INCOMPLETE: writing failed)\n", f.out, rec.Written())
		} else {
			fmt.Fprintf(w, "  csv            %s (%d bytes)\n", f.out, rec.Written())
		}
	}
	if f.strict {
		verdict := "PASS"
		if !sum.OK() {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "  strict check   %s (no loss, count within 1 %%)\n", verdict)
	}
	return sum.OK()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
