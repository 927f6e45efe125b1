package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/mcaprec"
	"github.com/imustream/imustream/receiver"
)

type recordFlags struct {
	ctl      ctlFlags
	duration time.Duration
	out      string
	force    bool
	lease    time.Duration
	strict   bool
	format   string
	frameID  string
	noSync   bool
	nats     natsFlags
}

// runRecord streams to this host, writes CSV and prints a loss summary.
func runRecord(name string, args []string, stdout, stderr io.Writer) error {
	var f recordFlags
	fs := newFlags(name, stderr)
	f.ctl.register(fs)
	fs.DurationVar(&f.duration, "duration", 0, "how long to record, counted from the first sample: a `DURATION` like 90s or 5m (0: until Ctrl-C)")
	fs.StringVar(&f.out, "out", "", "CSV `FILE` to write, its metadata to FILE.json; the rows go to a partial file that becomes FILE once the recording is complete ('-': standard output; default: statistics only)")
	fs.BoolVar(&f.force, "force", false, "replace an existing --out FILE, once the new recording is complete")
	fs.DurationVar(&f.lease, "lease", receiver.DefaultLease, "the stream's lease, a `DURATION`: it ends by itself this long after the recorder dies")
	fs.BoolVar(&f.strict, "strict", false, "exit 1 if any sample was lost or the count is off by more than 1 % of rate × duration")
	fs.StringVar(&f.format, "format", "", "`csv` or mcap (ROS 2 messages, zstd chunks); default: mcap for an --out FILE ending in .mcap, else csv")
	fs.StringVar(&f.frameID, "frame-id", mcaprec.DefaultFrameID, "the MCAP messages' header.frame_id, a `NAME`")
	fs.BoolVar(&f.noSync, "no-sync", false, "do not estimate the device's clock: t_pc_ns stays empty, MCAP stamps are the device's wall clock")
	f.nats.register(fs)
	groupFlags(fs, "Recording: duration out format frame-id force lease strict no-sync", ctlDeviceGroup, ctlSecurityGroup, recordNATSGroup)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := f.pickFormat(); err != nil {
		return err
	}
	if f.duration < 0 {
		return cli.Usagef("--duration %s is negative: give how long to record, or 0 to record until Ctrl-C", f.duration)
	}
	if f.lease < control.MinLease || f.lease > control.MaxLease {
		return cli.Usagef("--lease %s outside %s..%s", f.lease, control.MinLease, control.MaxLease)
	}
	// The file is checked and created before the daemon is asked for
	// anything: a refusal or a bad directory costs no stream.
	var out *receiver.Output
	if f.out != "" && f.out != "-" {
		o, err := receiver.CreateOutput(f.out, f.force)
		if e, ok := errors.AsType[*receiver.ExistsError](err); ok {
			return cli.Usagef("%s exists; --force replaces it once the new recording is complete", e.Path)
		}
		if err != nil {
			return err
		}
		out = o
		defer out.Discard() // after an early return; nothing once the recording finished with it
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if f.nats.urls != "" {
		return recordNATS(ctx, f, out, stdout, stderr)
	}
	return record(ctx, f, out, stdout, stderr)
}

// record runs one recording and prints what came of it: its notes and
// live line on stderr as they come, its summary on stdout.
func record(ctx context.Context, f recordFlags, out *receiver.Output, stdout, stderr io.Writer) error {
	// control.Dial takes a host alone to mean the default port; the
	// sidecar and the summary name the device with it.
	f.ctl.device = control.WithDefaultPort(f.ctl.device)
	cfg := receiver.RecordConfig{
		Output: out, Duration: f.duration, Lease: f.lease, Device: f.ctl.device,
		Program: fmt.Sprintf("imustream %s (commit %s) record", version, commit), NoSync: f.noSync,
	}
	if f.format == formatMCAP {
		cfg.MCAP = &mcaprec.Options{FrameID: f.frameID, Metadata: map[string]string{"device": f.ctl.device, "recorder": cfg.Program}}
	}
	if f.ctl.key != "" {
		// The recording checks the stream's tags with the key the client
		// signs with (dial loads it again for the client).
		k, err := control.LoadKey(f.ctl.key)
		if err != nil {
			return err
		}
		cfg.Key = &k
	}
	rows := "" // where the rows go, for the notes
	switch {
	case out != nil:
		rows = out.Partial
	case f.out == "-":
		cfg.CSV, rows = stdout, "standard output"
	}
	cfg.OnNote = func(n receiver.Note) { printNote(stderr, n, rows) }
	live := isTerminal(stderr)
	if live {
		cfg.LiveEvery = 500 * time.Millisecond
		cfg.OnLive = func(p receiver.Progress) { fmt.Fprintf(stderr, "\r%s", p) }
	}
	rc, err := receiver.NewRecording(cfg)
	if err != nil {
		return cli.Usagef("%w", err)
	}
	c, err := f.ctl.dial(control.ClientOptions{OnData: rc.Receive})
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := rc.Run(ctx, c)
	if res == nil {
		return err
	}
	if live {
		fmt.Fprintln(stderr)
	}
	if s := res.Summary; res.Ending == receiver.EndDaemon {
		fmt.Fprintf(stderr, "record: the daemon ended the stream (session %08x, %d samples recorded, %.3f s of device time); %s\n", s.Session, s.Samples, s.Span.Seconds(), res.AfterEnd)
	}
	printRecording(stdout, f, out, res)
	return recordErr(f, out, res, err)
}

const (
	formatCSV  = "csv"
	formatMCAP = "mcap"
)

// pickFormat checks --format, or takes it from --out's extension.
func (f *recordFlags) pickFormat() error {
	switch f.format {
	case "":
		f.format = formatCSV
		if strings.EqualFold(filepath.Ext(f.out), ".mcap") {
			f.format = formatMCAP
		}
	case formatCSV, formatMCAP:
	default:
		return cli.Usagef("--format %q: want csv or mcap", f.format)
	}
	if f.format == formatMCAP && f.out == "-" && isTerminal(os.Stdout) {
		return cli.Usagef("--format mcap to standard output, which is a terminal: give --out FILE.mcap or redirect it")
	}
	return nil
}

// printNote says what happened while recording; rows names where the
// rows go.
func printNote(w io.Writer, n receiver.Note, rows string) {
	switch n := n.(type) {
	case receiver.WriteFailed:
		fmt.Fprintf(w, "\nrecord: %v; %s keeps the %d bytes of whole rows written so far, the statistics go on\n", n.Err, rows, n.Written)
	case receiver.SessionGap:
		fmt.Fprintf(w, "\nrecord: %s\n", n)
	case receiver.RefreshFailed:
		fmt.Fprintf(w, "\nrecord: lease refresh failed: %v; no samples for %.1f s. Still trying: record says when it works again, and the summary counts what is missing\n", n.Err, n.Quiet.Seconds())
	case receiver.RefreshResumed:
		fmt.Fprintln(w, "\nrecord: the daemon answers again")
	}
}

// printRecording prints the summary and what became of the file.
func printRecording(w io.Writer, f recordFlags, out *receiver.Output, res *receiver.RecordResult) {
	res.Summary.WriteText(w, f.ctl.device)
	if s := res.Sync; s != nil {
		fmt.Fprintf(w, "  time sync      offset %s (device − PC monotonic), rtt %s, drift %+.2f ppm, %d exchanges, %d failed\n",
			receiver.Nanos(s.OffsetNs), receiver.Nanos(s.RTTNs), s.DriftPPM, s.Exchanges, s.Failed)
	} else if !f.noSync {
		fmt.Fprintf(w, "  time sync      none: the daemon does not answer the time command; t_pc_ns is empty\n")
	}
	fmt.Fprintf(w, "  ended          %s\n", res.Ended)
	label := fmt.Sprintf("  %-14s ", f.format) // "  csv            "
	switch at := res.At; {
	case out == nil:
	case res.Summary.Samples == 0:
		fmt.Fprintf(w, label+"none: no samples recorded; %s\n", unchanged(f.out))
	case at == out.Path:
		fmt.Fprintf(w, label+"%s (%d bytes)\n  metadata       %s\n", at, res.Written, receiver.SidecarPath(at))
	default:
		fmt.Fprintf(w, label+"%s (%d bytes of whole rows, INCOMPLETE: %s; %s)\n  metadata       %s\n",
			at, res.Written, res.Incomplete, unchanged(f.out), receiver.SidecarPath(at))
	}
	if f.strict {
		verdict := "PASS"
		if !res.Summary.OK() {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "  strict check   %s (no loss, count within 1 %%)\n", verdict)
	}
}

// recordErr is record's error: what failed (runErr), an incomplete
// recording, no samples, or a failed strict check.
func recordErr(f recordFlags, out *receiver.Output, res *receiver.RecordResult, runErr error) error {
	errs := []error{runErr}
	switch {
	case res.Incomplete != "":
		where := ""
		if out != nil && res.At != "" && res.At != out.Path {
			where = fmt.Sprintf(": its %d rows are in %s; %s", res.Rows, res.At, unchanged(f.out))
		}
		errs = append(errs, fmt.Errorf("the recording is incomplete (%s)%s", res.Incomplete, where))
	case out != nil && res.Summary.Samples == 0:
		errs = append(errs, fmt.Errorf("no samples received; %s", unchanged(f.out)))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if f.strict && !res.Summary.OK() {
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

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
