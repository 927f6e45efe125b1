package main

import (
	"io"
	"slices"
	"strings"

	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/internal/config"
	"github.com/imustream/imustream/rig"
)

// runRigLayout prints what a rig needs to read the samples.
func runRigLayout(name string, args []string, stdout, stderr io.Writer) error {
	fs := app.NewFlags(name, stderr)
	spec := fs.String("rig-layout", rig.DefaultLayout, "the layout `SPEC`, as the daemon's --rig-layout")
	as := fs.String("as", "c", "`FORMAT`: "+strings.Join(rig.Formats, ", "))
	cfg := fs.String("config", "", "the daemon's config `FILE`: its rig-layout applies unless --rig-layout is given")
	app.GroupFlags(fs, "Layout: as rig-layout config")
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
