package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/discovery"
	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/receiver"
)

// The help groups of ctlFlags, for the commands that register them.
const (
	ctlDeviceGroup   = "Device: device timeout retries"
	ctlSecurityGroup = "Security: key from"
)

// ctlFlags are control.ClientFlags with $IMUSTREAM_DEVICE as the
// default device.
type ctlFlags struct{ control.ClientFlags }

func (c *ctlFlags) register(fs *flag.FlagSet) { c.RegisterFlagsEnv(fs, DefaultListen) }

func (c *ctlFlags) dial(opts control.ClientOptions) (*control.Client, error) {
	if err := c.Check(); err != nil {
		return nil, cli.Usagef("%w", err)
	}
	return c.Dial(opts, discovery.LookupDevice)
}

// runCtl serves start, stop, status and ping.
func runCtl(name string, args []string, stdout, stderr io.Writer) error {
	var cf ctlFlags
	var to string
	var lease, syncFor time.Duration
	fs := app.NewFlags(name, stderr)
	cf.register(fs)
	switch name {
	case control.VerbStart:
		fs.StringVar(&to, "to", "", "the receiver to stream to: `HOST:PORT`, or :PORT on this host (required)")
		fs.DurationVar(&lease, "lease", 0, "end the stream unless start is repeated within this `DURATION` (0: no lease)")
		app.GroupFlags(fs, "Stream: to lease", ctlDeviceGroup, ctlSecurityGroup)
	case control.VerbStop:
		fs.StringVar(&to, "to", "", "the receiver whose stream to stop: `HOST:PORT`, :PORT on this host, or all (required)")
		app.GroupFlags(fs, "Stream: to", ctlDeviceGroup, ctlSecurityGroup)
	case control.VerbStatus:
		fs.DurationVar(&syncFor, "sync", 0, "also run time exchanges for this `DURATION` (10s or more fits the drift) before printing the device's clock offset, RTT and drift")
		app.GroupFlags(fs, "Time: sync", ctlDeviceGroup, ctlSecurityGroup)
	default:
		app.GroupFlags(fs, ctlDeviceGroup, ctlSecurityGroup)
	}
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	// Without --to the daemon would stream to this command's own socket,
	// which closes when the command exits.
	switch {
	case name == control.VerbStart && to == "":
		return cli.Usagef("--to is required: the stream needs a receiver that outlives this command, " +
			"e.g. --to :9000 for port 9000 on this host, or --to HOST:PORT (imustream record receives the stream itself)")
	case name == control.VerbStop && to == "":
		return cli.Usagef("--to is required: name the receiver whose stream to stop, e.g. --to :9000, or --to all")
	}
	c, err := cf.dial(control.ClientOptions{})
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.Do(context.Background(), control.Command{Verb: name, Target: to, Lease: lease})
	var refused *control.ReplyError
	if name == control.VerbStop && errors.As(err, &refused) && refused.Reply.Verb == control.CodeNotSubscribed {
		// Stopping what does not stream is done: it exits 0 like stop --to all.
		fmt.Fprintf(stdout, "nothing was streaming to %s\n", to)
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case name == control.VerbStatus:
		r.WriteFields(stdout)
		receiver.WriteSync(stdout, c, syncFor)
		return nil
	case name == control.VerbStop && to == "all":
		if n, _ := r.Get("stopped"); n == "0" {
			fmt.Fprintln(stdout, "nothing was streaming")
			return nil
		}
	}
	r.ID = ""
	fmt.Fprint(stdout, r.String())
	return nil
}
