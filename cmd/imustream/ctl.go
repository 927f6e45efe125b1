package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/imustream/imustream/control"
)

type ctlFlags struct {
	device  string
	timeout time.Duration
	retries int
	key     string
	from    string
}

func (c *ctlFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.device, "device", DefaultListen, "the daemon's control address HOST:PORT ([ADDR]:PORT for IPv6)")
	fs.DurationVar(&c.timeout, "timeout", 300*time.Millisecond, "how long to wait for each reply")
	fs.IntVar(&c.retries, "retries", 3, "how often to resend (same request id) when no reply comes")
	fs.StringVar(&c.key, "key", "", "key file (from imustream keygen): sign commands, accept only signed replies")
	fs.StringVar(&c.from, "from", "", "this controller's name in signed commands (default: the host name)")
}

func (c *ctlFlags) dial(opts control.ClientOptions) (*control.Client, error) {
	if c.retries < 0 {
		return nil, fmt.Errorf("%w: --retries must be ≥ 0", errUsage)
	}
	opts.Timeout, opts.Retries = c.timeout, c.retries
	if c.retries == 0 {
		opts.Retries = -1 // the client's zero means its default
	}
	if c.key != "" {
		k, err := control.LoadKey(c.key)
		if err != nil {
			return nil, err
		}
		opts.Key, opts.From = &k, c.from
	} else if c.from != "" {
		return nil, fmt.Errorf("%w: --from names the sender of signed commands; it needs --key", errUsage)
	}
	return control.Dial(c.device, &opts)
}

// runCtl serves start, stop, status and ping.
func runCtl(name string, args []string, stdout, stderr io.Writer) error {
	var cf ctlFlags
	var to string
	var lease time.Duration
	fs := newFlags(name, stderr)
	cf.register(fs)
	switch name {
	case control.VerbStart:
		fs.StringVar(&to, "to", "", "stream to HOST:PORT, or :PORT on this host (default: this command's own socket, which closes when it exits)")
		fs.DurationVar(&lease, "lease", 0, "end the stream unless start is repeated within this time (0: no lease)")
	case control.VerbStop:
		fs.StringVar(&to, "to", "", "stop the stream to HOST:PORT, :PORT on this host, or all")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := cf.dial(control.ClientOptions{})
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.Do(context.Background(), control.Command{Verb: name, Target: to, Lease: lease})
	if err != nil {
		return err
	}
	if name == control.VerbStatus {
		for _, f := range r.Fields {
			fmt.Fprintf(stdout, "%-17s %s\n", f.Key, f.Value)
		}
		return nil
	}
	r.ID = ""
	fmt.Fprint(stdout, r.String())
	return nil
}
