package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/imustream/imustream/bridge"
	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/receiver"
	"github.com/imustream/imustream/view"
)

// natsFlags are record's flags for reading from NATS instead of a daemon.
type natsFlags struct {
	urls, subject, from string
	catchUp             bool
}

const recordNATSGroup = "NATS (instead of a daemon): nats subject start-at catch-up"

func (n *natsFlags) register(fs *flag.FlagSet) {
	n.registerSource(fs)
	fs.BoolVar(&n.catchUp, "catch-up", false, "with --nats and --start-at: end once everything the stream holds is read")
}

// registerSource registers the flags that name a stream on NATS (view's).
func (n *natsFlags) registerSource(fs *flag.FlagSet) {
	fs.StringVar(&n.urls, "nats", "", "read from NATS server `URLS` (comma-separated) instead of a daemon")
	fs.StringVar(&n.subject, "subject", "", "with --nats: one device's `SUBJECT`, PREFIX.DEVICE.imu as imustream bridge publishes it")
	fs.StringVar(&n.from, "start-at", "live", "with --nats: `WHERE` to start: live, all (the stream's start), a stream sequence, or an RFC 3339 time")
}

// source is the stream on NATS the flags name.
func (n *natsFlags) source() (view.NATSSource, error) {
	if n.subject == "" {
		return view.NATSSource{}, cli.Usagef("--nats needs --subject PREFIX.DEVICE.imu")
	}
	from, err := bridge.ParseFrom(n.from)
	if err != nil {
		return view.NATSSource{}, cli.Usagef("%w", err)
	}
	return view.NATSSource{URLs: n.urls, Subject: n.subject, From: from}, nil
}

// recordNATS records one device's samples from NATS: the same CSV,
// sidecar and summary as a recording over UDP.
func recordNATS(ctx context.Context, f recordFlags, out *receiver.Output, stdout, stderr io.Writer) error {
	if f.nats.subject == "" {
		return cli.Usagef("--nats needs --subject PREFIX.DEVICE.imu")
	}
	from, err := bridge.ParseFrom(f.nats.from)
	if err != nil {
		return cli.Usagef("%w", err)
	}
	nc, err := bridge.Connect(f.nats.urls, "imustream record", false)
	if err != nil {
		return err
	}
	defer nc.Close()
	cfg := bridge.RecordConfig{Conn: nc, Subject: f.nats.subject, From: from, Duration: f.duration, CatchUp: f.nats.catchUp}
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
	rec := res.Recorder
	s := rec.Summary()
	if res.Bad > 0 || res.Other > 0 {
		fmt.Fprintf(stderr, "record: %d messages dropped: %d malformed, %d of another device than %s\n", res.Bad+res.Other, res.Bad, res.Other, res.Device)
	}
	source := f.nats.subject + " on " + nc.ConnectedUrlRedacted()
	s.WriteText(stdout, source)
	if out != nil {
		meta := rec.NewMetadata()
		meta.Complete, meta.Ended = err == nil, "read from NATS "+source
		meta.Device, meta.DurationAsked = res.Device, f.duration
		meta.Recorder = fmt.Sprintf("imustream %s (commit %s) record --nats", version, commit)
		var ferr error
		switch {
		case s.Samples == 0:
			ferr = out.Discard()
		case err == nil:
			ferr = out.Commit(meta)
		default:
			ferr = out.Keep(meta)
		}
		if ferr != nil {
			return ferr
		}
		if s.Samples > 0 {
			fmt.Fprintf(stdout, "  csv            %s (%d bytes)\n  metadata       %s\n", out.Where(), rec.Written(), receiver.SidecarPath(out.Where()))
		}
	}
	if err != nil {
		return err
	}
	if f.strict && s.Lost > 0 {
		return fmt.Errorf("strict check failed: %d samples lost", s.Lost)
	}
	return nil
}
