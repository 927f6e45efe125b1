package main

import (
	"flag"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/internal/config"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/rig"
)

// rigFlags are the daemon's rig front-end settings (docs/rig.md).
type rigFlags struct {
	listen, command, to, layout string
	timeout                     time.Duration
}

func (r *rigFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.listen, "rig-listen", "", "UDP `HOST:PORT` for a rig's binary start/stop packets (off by default; senders on the allow list only)")
	fs.StringVar(&r.command, "rig-command", rig.DefaultCommand, "the rig packet, a `SPEC`: len, offset and type (u8 u16 u32 u64 i8 i16 i32 i64 f32 f64) of the command field, start and stop values, order=le|be, match=OFFSET:HEX")
	fs.StringVar(&r.to, "rig-to", "", "where the rig's samples go: `HOST:PORT`, or :PORT for the rig's own address")
	fs.DurationVar(&r.timeout, "rig-timeout", rig.DefaultTimeout, "end the rig's stream after this `DURATION` without a start packet")
	fs.StringVar(&r.layout, "rig-layout", rig.DefaultLayout, "the rig's sample struct, a `SPEC`: simulink, labview or NAME:TYPE,… with order=le|be and every=N (see imustream rig-layout)")
}

// config is the daemon's RigConfig; the front-end is off without --rig-listen.
func (r *rigFlags) config() (daemon.RigConfig, error) {
	c, err := daemon.ParseRig(r.listen, r.command, r.to, r.layout, r.timeout)
	if err != nil {
		return c, cli.Usagef("%w", err)
	}
	return c, nil
}

// runRigLayout prints what a rig needs to read the samples.
func runRigLayout(name string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(name, stderr)
	spec := fs.String("rig-layout", rig.DefaultLayout, "the layout `SPEC`, as the daemon's --rig-layout")
	as := fs.String("as", "c", "`FORMAT`: "+strings.Join(rig.Formats, ", "))
	cfg := fs.String("config", "", "the daemon's config `FILE`: its rig-layout applies unless --rig-layout is given")
	groupFlags(fs, "Layout: as rig-layout config")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if !slices.Contains(rig.Formats, *as) {
		return cli.Usagef("--as %q: want %s", *as, strings.Join(rig.Formats, ", "))
	}
	if *cfg != "" && !cli.IsSet(fs, "rig-layout") {
		v, err := config.Value(*cfg, "rig-layout")
		if err != nil {
			return cli.Usagef("%w", err)
		}
		if v != "" {
			*spec = v
		}
	}
	l, err := rig.ParseLayout(*spec)
	if err != nil {
		return cli.Usagef("--rig-layout: %w", err)
	}
	b, err := l.Describe(*as)
	if err != nil {
		return err
	}
	_, err = stdout.Write(b)
	return err
}
