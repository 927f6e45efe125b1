package main

import (
	"fmt"
	"io"
	"time"

	"github.com/imustream/imustream/discovery"
	"github.com/imustream/imustream/internal/cli"
)

// runDiscover lists the daemons that announce themselves on the LAN.
func runDiscover(name string, args []string, stdout, stderr io.Writer) error {
	var (
		wait   time.Duration
		asJSON bool
	)
	fs := app.NewFlags(name, stderr)
	fs.DurationVar(&wait, "wait", discovery.DefaultWait, "how long to listen for answers, a `DURATION`")
	fs.BoolVar(&asJSON, "json", false, "print the daemons as JSON, one object a line")
	app.GroupFlags(fs, "Discovery: wait json")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if wait <= 0 {
		return cli.Usagef("--wait %s must be positive", wait)
	}
	ctx, stop := interrupted()
	defer stop()
	es, err := discovery.Browse(ctx, wait)
	if err != nil {
		return err
	}
	if asJSON {
		return discovery.WriteJSON(stdout, es)
	}
	if len(es) == 0 {
		fmt.Fprintf(stderr, "discover: no daemon answered within %s (a daemon announces itself unless it listens on loopback or runs with --announce=false)\n", wait)
		return nil
	}
	return discovery.WriteTable(stdout, es)
}
