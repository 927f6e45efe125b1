package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/imustream/imustream/bridge"
	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/mcaprec"
	"github.com/imustream/imustream/receiver"
	"github.com/imustream/imustream/view"
)

type recordFlags struct {
	receiver.RecordFlags
	ctl   ctlFlags
	out   string
	force bool
	nats  natsFlags
}

// runRecord streams to this host, writes CSV and prints a loss summary.
func runRecord(name string, args []string, stdout, stderr io.Writer) error {
	var f recordFlags
	fs := app.NewFlags(name, stderr)
	f.ctl.register(fs)
	f.RegisterFlags(fs)
	fs.StringVar(&f.out, "out", "", "CSV `FILE` to write, its metadata to FILE.json; the rows go to a partial file that becomes FILE once the recording is complete ('-': standard output; default: statistics only)")
	fs.BoolVar(&f.force, "force", false, "replace an existing --out FILE, once the new recording is complete")
	f.nats.register(fs)
	app.GroupFlags(fs, "Recording: duration out format frame-id force lease strict no-sync", ctlDeviceGroup, ctlSecurityGroup, recordNATSGroup)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := f.Check(f.out, cli.IsTerminal(os.Stdout)); err != nil {
		return cli.Usagef("%w", err)
	}
	if err := control.CheckLease(f.Lease); err != nil {
		return cli.Usagef("%w", err)
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
	ctx, stop := interrupted()
	defer stop()
	if f.nats.URLs != "" {
		return recordNATS(ctx, f, out, stdout, stderr)
	}
	return record(ctx, f, out, stdout, stderr)
}

// record runs one recording and prints what came of it: its notes and
// live line on stderr as they come, its summary on stdout.
func record(ctx context.Context, f recordFlags, out *receiver.Output, stdout, stderr io.Writer) error {
	// control.Dial takes a host alone to mean the default port; the
	// sidecar and the summary name the device with it.
	f.ctl.Device = control.WithDefaultPort(f.ctl.Device)
	cfg := receiver.RecordConfig{
		Output: out, Duration: f.Duration, Lease: f.Lease, Device: f.ctl.Device,
		Program: fmt.Sprintf("imustream %s (commit %s) record", version, commit), NoSync: f.NoSync,
	}
	if f.Format == receiver.FormatMCAP {
		cfg.MCAP = &mcaprec.Options{FrameID: f.FrameID, Metadata: map[string]string{"device": f.ctl.Device, "recorder": cfg.Program}}
	}
	// The recording checks the stream's tags with the key the client
	// signs with (dial loads it again for the client).
	var err error
	if cfg.Key, err = control.LoadKeyIf(f.ctl.KeyFile); err != nil {
		return err
	}
	rows := "" // where the rows go, for the notes
	switch {
	case out != nil:
		rows = out.Partial
	case f.out == "-":
		cfg.CSV, rows = stdout, "standard output"
	}
	cfg.OnNote = func(n receiver.Note) { receiver.WriteNote(stderr, n, rows) }
	live := cli.IsTerminal(stderr)
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
	receiver.WriteEnding(stderr, res)
	rep := receiver.Report{Device: f.ctl.Device, Out: out, Path: f.out, Format: f.Format, Strict: f.Strict, NoSync: f.NoSync}
	rep.Write(stdout, res)
	return rep.Err(res, err)
}

// natsFlags are record's flags for reading from NATS instead of a daemon.
type natsFlags struct {
	view.NATSFlags
	catchUp bool
}

const recordNATSGroup = "NATS (instead of a daemon): nats subject start-at catch-up"

func (n *natsFlags) register(fs *flag.FlagSet) {
	n.RegisterFlags(fs)
	fs.BoolVar(&n.catchUp, "catch-up", false, "with --nats and --start-at: end once everything the stream holds is read")
}

// recordNATS records one device's samples from NATS: the same CSV,
// sidecar and summary as a recording over UDP.
func recordNATS(ctx context.Context, f recordFlags, out *receiver.Output, stdout, stderr io.Writer) error {
	src, err := f.nats.Source()
	if err != nil {
		return cli.Usagef("%w", err)
	}
	nc, err := bridge.Connect(f.nats.URLs, "imustream record", false)
	if err != nil {
		return err
	}
	defer nc.Close()
	cfg := bridge.RecordConfig{Conn: nc, Subject: src.Subject, From: src.From, Duration: f.Duration, CatchUp: f.nats.catchUp}
	switch {
	case out != nil:
		cfg.CSV = out.File()
	case f.out == "-":
		cfg.CSV = stdout
	}
	res, err := bridge.Record(ctx, cfg)
	if res == nil {
		return err
	}
	rep := bridge.RecordReport{Source: f.nats.Subject + " on " + nc.ConnectedUrlRedacted(), Out: out, Duration: f.Duration, Strict: f.Strict,
		Program: fmt.Sprintf("imustream %s (commit %s) record --nats", version, commit)}
	return rep.Finish(stdout, stderr, res, err)
}
