// Command imustream is both sides of the IMU stream: the daemon that runs
// on the Raspberry Pi (run) and the commands a control PC uses to start,
// stop, inspect and record the stream.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/imustream/imustream/internal/bench"
	"github.com/imustream/imustream/sensor"
)

// Set by the Makefile with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "unknown"
)

type command struct {
	name, args, help string
	run              func(name string, args []string, stdout, stderr io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{"run", "[--sensor auto|mpu6050|lsm9ds1|sim] [--sim] [--bus 1] [--calibration FILE] [--listen ADDR] [--allow CIDR]… [--rate HZ]", "run the daemon: stream the IMU to subscribers", runDaemon},
		{"probe", "[--bus 1] [--record FILE]", "list the I²C devices at the IMU and barometer addresses (on the Pi)", runProbe},
		{"calibrate", "[--seconds N] [--out FILE] [--level] [--mount AXES|MATRIX] [--sensor …|--sim]", "estimate gyro bias and accel offset at rest; run loads the file", runCalibrate},
		{"start", "[--device ADDR] [--to HOST:PORT|:PORT] [--lease DUR]", "start a stream (to this host's socket unless --to)", runCtl},
		{"stop", "[--device ADDR] [--to HOST:PORT|:PORT|all]", "stop a stream", runCtl},
		{"status", "[--device ADDR]", "show the daemon's state and counters", runCtl},
		{"ping", "[--device ADDR]", "check that the daemon answers", runCtl},
		{"record", "[--device ADDR] [--duration D] [--out FILE.csv]", "stream to this host and record CSV with loss statistics", runRecord},
		{"bench", "[--duration D] [--rate HZ] [--batch N] [--load N] [--flood PPS] [--baseline] [--json]", "measure the stream's timing on loopback, optionally against a time.Ticker baseline", runBench},
		{"keygen", "--out FILE", "write a new 256-bit key for signed commands (run --key, start|stop|status|ping|record --key)", runKeygen},
		{"version", "", "print version, commit and platform", runVersion},
		// Hidden (no help): child processes of bench.
		{bench.BaselineCommand, "", "", runBaseline},
		{bench.SpinCommand, "", "", runSpin},
		{bench.FloorCommand, "", "", runFloor},
	}
}

// errUsage marks errors that are the caller's flags; they exit 2.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(c.name, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintln(stderr, "imustream:", err)
			return 2
		default:
			fmt.Fprintln(stderr, "imustream:", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "imustream: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: imustream COMMAND [flags]\n\ncommands:")
	for _, c := range commands {
		if c.help == "" {
			continue
		}
		fmt.Fprintf(w, "  %-8s %s\n           %s\n", c.name, c.help, c.args)
	}
	fmt.Fprintln(w, "\n'imustream COMMAND -h' lists a command's flags.")
}

func runVersion(_ string, _ []string, stdout, _ io.Writer) error {
	fmt.Fprintf(stdout, "imustream %s (commit %s) %s/%s%s %s\n", version, commit, runtime.GOOS, runtime.GOARCH, goarm(), runtime.Version())
	return nil
}

// newFlags returns a FlagSet whose errors come back to run instead of
// exiting, so bad flags exit 2 with the FlagSet's message.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("imustream "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// checkRate refuses a --rate outside the range a sensor is read at.
func checkRate(hz int) error {
	if sensor.CheckRate(hz) != nil {
		return fmt.Errorf("%w: --rate %d Hz out of range %d..%d", errUsage, hz, sensor.MinRateHz, sensor.MaxRateHz)
	}
	return nil
}
