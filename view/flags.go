package view

import (
	"errors"
	"flag"

	"github.com/imustream/imustream/bridge"
	"github.com/imustream/imustream/receiver"
)

// NATSFlags name a device's stream on NATS on a command line (view,
// record), instead of a daemon; Source checks them.
type NATSFlags struct {
	URLs, Subject, From string
}

// RegisterFlags adds --nats, --subject and --start-at to fs.
func (n *NATSFlags) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&n.URLs, "nats", "", "read from NATS server `URLS` (comma-separated) instead of a daemon")
	fs.StringVar(&n.Subject, "subject", "", "with --nats: one device's `SUBJECT`, PREFIX.DEVICE.imu as imustream bridge publishes it")
	fs.StringVar(&n.From, "start-at", "live", "with --nats: `WHERE` to start: live, all (the stream's start), a stream sequence, or an RFC 3339 time")
}

// Source is the stream the flags name; its errors name the flags.
func (n *NATSFlags) Source() (NATSSource, error) {
	if n.Subject == "" {
		return NATSSource{}, errors.New("--nats needs --subject PREFIX.DEVICE.imu")
	}
	from, err := bridge.ParseFrom(n.From)
	if err != nil {
		return NATSSource{}, err
	}
	return NATSSource{URLs: n.URLs, Subject: n.Subject, From: from}, nil
}

// RegisterFlags adds --lease to fs, bound to c, with the CLI's default.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.Lease, "lease", receiver.DefaultLease, "the stream's lease, a `DURATION`: it ends by itself this long after view dies")
}
