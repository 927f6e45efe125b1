package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// The hidden commands the bench runs itself as; the program's command
// table routes them to Baseline, Spin and Floor.
const (
	BaselineCommand = "bench-baseline"
	SpinCommand     = "bench-spin"
	FloorCommand    = "bench-floor"
)

// Child runs the hidden command name (BaselineCommand, SpinCommand or
// FloorCommand) with its arguments; ctx ends the baseline.
func Child(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	switch name {
	case BaselineCommand:
		return Baseline(ctx, args, stderr)
	case SpinCommand:
		return Spin(args, stderr)
	case FloorCommand:
		return Floor(args, stdout, stderr)
	}
	return fmt.Errorf("bench: no child command %q", name)
}

// baselineArgs is the baseline's command line.
type baselineArgs struct {
	to            netip.AddrPort
	rateHz, batch int
	seed          uint64
}

func (b baselineArgs) args() []string {
	return []string{BaselineCommand, "--to", b.to.String(),
		"--rate", strconv.Itoa(b.rateHz), "--batch", strconv.Itoa(b.batch)}
}

func parseBaselineArgs(args []string, stderr io.Writer) (baselineArgs, error) {
	var b baselineArgs
	fs := childFlags(BaselineCommand, stderr)
	fs.TextVar(&b.to, "to", netip.AddrPort{}, "stream to HOST:PORT")
	fs.IntVar(&b.rateHz, "rate", 200, "sample rate in Hz")
	fs.IntVar(&b.batch, "batch", 1, "samples per datagram")
	fs.Uint64Var(&b.seed, "seed", 1, "seed of the simulated sensor")
	if err := parseChild(fs, args); err != nil {
		return b, err
	}
	if sensor.CheckRate(b.rateHz) != nil || b.batch < 1 || b.batch > telemetry.MaxBatch {
		return b, fmt.Errorf("%w: --rate %d..%d and --batch 1..%d", ErrConfig, sensor.MinRateHz, sensor.MaxRateHz, telemetry.MaxBatch)
	}
	if !b.to.IsValid() {
		return b, fmt.Errorf("%w: --to HOST:PORT is missing", ErrConfig)
	}
	return b, nil
}

// floorArgs is the floor probe's command line: the daemon's sender
// scheduling, and ticks deadlines from start (CLOCK_MONOTONIC ns).
type floorArgs struct {
	rateHz, ticks, rtPriority int
	start                     int64
	cpu                       daemon.CPUs
	spin                      time.Duration
}

func (f floorArgs) args() []string {
	return []string{FloorCommand, "--rate", strconv.Itoa(f.rateHz),
		"--ticks", strconv.Itoa(f.ticks), "--start", strconv.FormatInt(f.start, 10),
		"--rt-priority", strconv.Itoa(f.rtPriority), "--cpu", f.cpu.String(), "--spin", f.spin.String()}
}

func parseFloorArgs(args []string, stderr io.Writer) (floorArgs, error) {
	d := DefaultConfig()
	var f floorArgs
	fs := childFlags(FloorCommand, stderr)
	fs.IntVar(&f.rateHz, "rate", 200, "ticks per second")
	fs.IntVar(&f.ticks, "ticks", 1000, "how many ticks")
	fs.Int64Var(&f.start, "start", 0, "CLOCK_MONOTONIC ns of the first deadline")
	fs.IntVar(&f.rtPriority, "rt-priority", d.RTPriority, "the daemon's --rt-priority")
	fs.TextVar(&f.cpu, "cpu", d.CPU, "the daemon's --cpu")
	fs.DurationVar(&f.spin, "spin", d.Spin, "the daemon's --spin")
	if err := parseChild(fs, args); err != nil {
		return f, err
	}
	if sensor.CheckRate(f.rateHz) != nil || f.ticks < 2 || f.rtPriority < 0 || f.rtPriority > 99 || f.spin < 0 {
		return f, fmt.Errorf("%w: --rate %d..%d, --ticks ≥ 2, --rt-priority 0..99, --spin ≥ 0", ErrConfig, sensor.MinRateHz, sensor.MaxRateHz)
	}
	return f, nil
}

// childFlags returns a FlagSet for a child's command line whose errors
// come back to the caller.
func childFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("imustream "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseChild parses a child's command line; its errors wrap ErrConfig,
// but for flag.ErrHelp.
func parseChild(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", ErrConfig, fs.Arg(0))
	}
	return nil
}
