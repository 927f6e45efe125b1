package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/foxglove"
	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/receiver"
	"github.com/imustream/imustream/view"
)

// runView serves the live page (and Foxglove) until Ctrl-C, then sums up.
func runView(name string, args []string, stdout, stderr io.Writer) error {
	var ctl ctlFlags
	var nf natsFlags
	var httpAddr, foxAddr, frameID string
	var lease time.Duration
	fs := newFlags(name, stderr)
	ctl.register(fs)
	fs.StringVar(&httpAddr, "http", "127.0.0.1:8080", "serve the page on `HOST:PORT` (port 0: any free one); Foxglove may connect at ws://HOST:PORT/foxglove too")
	fs.StringVar(&foxAddr, "foxglove", "127.0.0.1:8765", "serve the Foxglove WebSocket protocol on `HOST:PORT` as well ('': only at /foxglove on --http)")
	fs.StringVar(&frameID, "frame-id", "imu", "the Foxglove messages' header.frame_id, a `NAME`")
	fs.DurationVar(&lease, "lease", receiver.DefaultLease, "the stream's lease, a `DURATION`: it ends by itself this long after view dies")
	nf.registerSource(fs)
	groupFlags(fs, "View: http foxglove frame-id lease", ctlDeviceGroup, ctlSecurityGroup, "NATS (instead of a daemon; the page has no start/stop): nats subject start-at")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if lease < control.MinLease || lease > control.MaxLease {
		return cli.Usagef("--lease %s outside %s..%s", lease, control.MinLease, control.MaxLease)
	}
	ctl.device = control.WithDefaultPort(ctl.device)
	cfg := view.Config{Lease: lease, Device: ctl.device, Program: fmt.Sprintf("imustream %s (commit %s) view", version, commit),
		OnNote: func(n receiver.Note) { viewNote(stderr, n) },
		OnRestart: func(after time.Duration) {
			fmt.Fprintf(stderr, "\nview: the daemon ended the stream; starting it again in %s\n", after)
		},
		OnRun: func(res *receiver.RecordResult, err error) {
			if res == nil && err != nil {
				fmt.Fprintf(stderr, "\nview: the stream did not start: %v; the page's Start tries again\n", err)
			}
		}}
	if ctl.key != "" {
		k, err := control.LoadKey(ctl.key)
		if err != nil {
			return err
		}
		cfg.Key = &k
	}
	fox := foxglove.NewServer(foxglove.ServerConfig{Name: "imustream " + version})
	imu, err := foxglove.NewIMU(fox, frameID)
	if err != nil {
		return err
	}
	cfg.Sinks = []view.Sink{imu}
	if isTerminal(stderr) {
		cfg.OnLive = func(p receiver.Progress) { fmt.Fprintf(stderr, "\r%s", p) }
	}
	v, where := view.New(cfg), ctl.device
	if nf.urls != "" {
		src, err := nf.source()
		if err != nil {
			return err
		}
		v, where = view.NewNATS(cfg, src), src.Subject
	}

	mux := http.NewServeMux()
	mux.Handle("/foxglove", fox)
	mux.Handle("/", v.Handler())
	servers := []*http.Server{{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	lns := []net.Listener{}
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return fmt.Errorf("view: --http: %w", err)
	}
	lns = append(lns, ln)
	fmt.Fprintf(stderr, "view: open http://%s/ (Foxglove: ws://%s/foxglove", ln.Addr(), ln.Addr())
	if foxAddr != "" {
		fln, err := net.Listen("tcp", foxAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("view: --foxglove: %w", err)
		}
		lns = append(lns, fln)
		servers = append(servers, &http.Server{Handler: fox, ReadHeaderTimeout: 10 * time.Second})
		fmt.Fprintf(stderr, " or ws://%s", fln.Addr())
	}
	fmt.Fprintln(stderr, ")")

	var c *control.Client
	if nf.urls == "" {
		if c, err = ctl.dial(control.ClientOptions{OnData: v.Receive}); err != nil {
			for _, l := range lns {
				l.Close()
			}
			return err
		}
		defer c.Close()
	}
	for i, s := range servers {
		go s.Serve(lns[i])
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var results []*receiver.RecordResult
	var runErr error
	if c != nil {
		results, runErr = v.Run(ctx, c)
	} else {
		results, runErr = v.RunNATS(ctx)
	}
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	fox.Close()
	for _, s := range servers {
		s.Shutdown(shut)
	}
	if cfg.OnLive != nil {
		fmt.Fprintln(stderr)
	}
	for _, res := range results {
		res.Summary.WriteText(stdout, where)
		fmt.Fprintf(stdout, "  ended          %s\n", res.Ended)
	}
	hs, fs2 := v.Hub().Stats(), fox.Stats()
	fmt.Fprintf(stdout, "view: %d page connections, %d frames sent, %d dropped for slow pages; Foxglove: %d clients, %d messages, %d dropped for slow clients\n",
		hs.Pages, hs.Frames-hs.Dropped, hs.Dropped, fs2.Clients, fs2.Published-fs2.Dropped, fs2.Dropped)
	if len(results) == 0 && runErr == nil {
		runErr = errors.New("no stream was started")
	}
	return runErr
}

// viewNote says what happened to the stream (a view writes no file).
func viewNote(w io.Writer, n receiver.Note) {
	switch n := n.(type) {
	case receiver.SessionGap:
		fmt.Fprintf(w, "\nview: %s\n", n)
	case receiver.RefreshFailed:
		fmt.Fprintf(w, "\nview: lease refresh failed: %v; no samples for %.1f s. Still trying\n", n.Err, n.Quiet.Seconds())
	case receiver.RefreshResumed:
		fmt.Fprintln(w, "\nview: the daemon answers again")
	}
}
