package control

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// ClientFlags are the flags of the commands that talk to a daemon: where
// it is, how long to wait for it, and the key to sign with.
type ClientFlags struct {
	Device  string
	Timeout time.Duration
	Retries int
	KeyFile string
	From    string
}

// RegisterFlags adds --device, defaulting to def (env names the
// environment variable that sets def, for the help), --timeout, --retries,
// --key and --from to fs.
func (c *ClientFlags) RegisterFlags(fs *flag.FlagSet, def, env string) {
	fs.StringVar(&c.Device, "device", def, fmt.Sprintf("the daemon's control address `HOST[:PORT]`; port %d unless given; IPv6 as [ADDR]:PORT, or ADDR alone. The environment variable %s sets the default for every command", DefaultPort, env))
	fs.DurationVar(&c.Timeout, "timeout", 300*time.Millisecond, "how long to wait for each reply, as a `DURATION` like 300ms or 2s")
	fs.IntVar(&c.Retries, "retries", 3, "how often to resend (same request id) when no reply comes, `N` ≥ 0")
	fs.StringVar(&c.KeyFile, "key", "", "key `FILE` (from imustream keygen): sign commands, accept only signed replies")
	fs.StringVar(&c.From, "from", "", "this controller's `NAME` in signed commands (default: the host name)")
}

// Check refuses flags that contradict each other or are out of range;
// its messages name the flags, for a usage error.
func (c *ClientFlags) Check() error {
	switch {
	case c.Retries < 0:
		return errors.New("--retries must be ≥ 0")
	case c.KeyFile == "" && c.From != "":
		return errors.New("--from names the sender of signed commands; it needs --key")
	}
	return nil
}

// Options are opts with the flags' settings, the key file read.
func (c *ClientFlags) Options(opts ClientOptions) (ClientOptions, error) {
	opts.Timeout, opts.Retries, opts.Probe, opts.From = c.Timeout, c.Retries, true, c.From
	if c.Retries == 0 {
		opts.Retries = -1 // the client's zero means its default
	}
	var err error
	opts.Key, err = LoadKeyIf(c.KeyFile)
	return opts, err
}
