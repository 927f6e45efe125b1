package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/imustream/imustream/bridge"
	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/discovery"
	"github.com/imustream/imustream/internal/cli"
)

// runBridge follows devices and publishes their streams to NATS.
func runBridge(name string, args []string, stdout, stderr io.Writer) error {
	var (
		devices         bridge.DeviceList
		file, urls, key string
		cfg             bridge.Config
		discover        bool
		statsEvery      time.Duration
	)
	fs := app.NewFlags(name, stderr)
	fs.Var(&devices, "device", "a daemon to follow, `NAME=HOST[:PORT]` (NAME: its subject token) or HOST[:PORT]; repeatable")
	fs.StringVar(&file, "devices", "", "`FILE` of devices, one NAME=HOST[:PORT] a line")
	fs.BoolVar(&discover, "discover", false, "follow the daemons that announce themselves on the LAN (DNS-SD), as they come and go")
	fs.StringVar(&urls, "nats", nats.DefaultURL, "NATS server `URLS`, comma-separated")
	cfg.RegisterFlags(fs)
	fs.StringVar(&key, "key", "", "key `FILE` (from imustream keygen) to sign the commands to the daemons")
	fs.DurationVar(&statsEvery, "stats", 10*time.Second, "print the counters every `DURATION` (0: never)")
	app.GroupFlags(fs, "Devices: device devices discover key lease", "NATS: nats prefix stream replicas max-age max-bytes flush queue stats")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if file != "" {
		if bad, err := devices.ReadFile(file); bad {
			return cli.Usagef("--devices %s: %w", file, err)
		} else if err != nil {
			return err
		}
	}
	if len(devices) == 0 && !discover {
		return cli.Usagef("no devices: give --device, --devices or --discover")
	}
	var err error
	if cfg.Key, err = control.LoadKeyIf(key); err != nil {
		return err
	}
	nc, err := bridge.Connect(urls, "imustream bridge", true)
	if err != nil {
		return err
	}
	defer nc.Close()
	cfg.Conn = nc
	cfg.Resolve = discovery.ResolveDevice
	cfg.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	b, err := bridge.New(cfg)
	if err != nil {
		return cli.Usagef("%w", err)
	}
	for _, d := range devices {
		if err := b.Add(d); err != nil {
			return cli.Usagef("%w", err)
		}
	}
	ctx, stop := interrupted()
	defer stop()
	if cfg.Stream != "" {
		if err := b.AwaitStream(ctx); err != nil {
			return err
		}
	}
	if discover {
		go b.FollowDiscovered(ctx)
	}
	if statsEvery > 0 {
		go b.LogStats(ctx, statsEvery)
	}
	fmt.Fprintf(stderr, "bridge: publishing %s to %s\n", strings.Join(b.Devices(), ", "), nc.ConnectedUrlRedacted())
	err = b.Run(ctx)
	st := b.Stats()
	fmt.Fprintf(stdout, "bridge: %d samples in %d datagrams, %d messages stored, %d sent again, %d dropped (%d samples), %d malformed\n",
		st.Samples, st.Datagrams, st.Messages, st.Retries, st.Dropped, st.DroppedSamples, st.Malformed)
	return err
}
