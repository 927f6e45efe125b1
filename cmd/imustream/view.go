package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/foxglove"
	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/receiver"
	"github.com/imustream/imustream/view"
)

// runView serves the live page (and Foxglove) until Ctrl-C, then sums up.
func runView(name string, args []string, stdout, stderr io.Writer) error {
	var ctl ctlFlags
	var nf view.NATSFlags
	var httpAddr, foxAddr, frameID string
	var cfg view.Config
	fs := app.NewFlags(name, stderr)
	ctl.register(fs)
	fs.StringVar(&httpAddr, "http", "127.0.0.1:8080", "serve the page on `HOST:PORT` (port 0: any free one); Foxglove may connect at ws://HOST:PORT/foxglove too")
	fs.StringVar(&foxAddr, "foxglove", "127.0.0.1:8765", "serve the Foxglove WebSocket protocol on `HOST:PORT` as well ('': only at /foxglove on --http)")
	fs.StringVar(&frameID, "frame-id", "imu", "the Foxglove messages' header.frame_id, a `NAME`")
	cfg.RegisterFlags(fs)
	nf.RegisterFlags(fs)
	app.GroupFlags(fs, "View: http foxglove frame-id lease", ctlDeviceGroup, ctlSecurityGroup, "NATS (instead of a daemon; the page has no start/stop): nats subject start-at")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := control.CheckLease(cfg.Lease); err != nil {
		return cli.Usagef("%w", err)
	}
	ctl.Device = control.WithDefaultPort(ctl.Device)
	cfg.Device, cfg.Program = ctl.Device, fmt.Sprintf("imustream %s (commit %s) view", version, commit)
	cfg.ReportTo(stderr, cli.IsTerminal(stderr))
	var err error
	if cfg.Key, err = control.LoadKeyIf(ctl.KeyFile); err != nil {
		return err
	}
	site, err := view.Listen(httpAddr, foxAddr, foxglove.ServerConfig{Name: "imustream " + version})
	if err != nil {
		return err
	}
	imu, err := foxglove.NewIMU(site.Fox, frameID)
	if err != nil {
		site.Shutdown()
		return err
	}
	cfg.Sinks = []view.Sink{imu}
	v, where := view.New(cfg), ctl.Device
	if nf.URLs != "" {
		src, err := nf.Source()
		if err != nil {
			site.Shutdown()
			return cli.Usagef("%w", err)
		}
		v, where = view.NewNATS(cfg, src), src.Subject
	}
	fmt.Fprintln(stderr, site.Where())
	var c *control.Client
	if nf.URLs == "" {
		if c, err = ctl.dial(control.ClientOptions{OnData: v.Receive}); err != nil {
			site.Shutdown()
			return err
		}
		defer c.Close()
	}
	site.Serve(v)
	ctx, stop := interrupted()
	defer stop()
	var results []*receiver.RecordResult
	var runErr error
	if c != nil {
		results, runErr = v.Run(ctx, c)
	} else {
		results, runErr = v.RunNATS(ctx)
	}
	site.Shutdown()
	if cfg.OnLive != nil {
		fmt.Fprintln(stderr)
	}
	site.WriteSummary(stdout, where, results)
	if len(results) == 0 && runErr == nil {
		runErr = errors.New("no stream was started")
	}
	return runErr
}
