// Command imustream is both sides of the IMU stream: the daemon that runs
// on the Raspberry Pi (run) and the commands a control PC uses to start,
// stop, inspect and record the stream.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/bench"
	"github.com/imustream/imustream/internal/cli"
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
		{"run", "[--sim | --sensor KIND] [--listen HOST:PORT] [--allow CIDR]… [--rate HZ] [--key FILE] [flags]", "run the daemon: stream the IMU to subscribers", runDaemon},
		{"probe", "[--bus BUS] [--record FILE]", "list the I²C devices at the IMU and barometer addresses (on the Pi)", runProbe},
		{"calibrate", "[--seconds N] [--out FILE] [--level] [--mount AXES|MATRIX] [--mag] [--sensor KIND | --sim]", "estimate gyro bias and accel offset at rest, or with --mag the magnetometer's hard and soft iron; run loads the file", runCalibrate},
		{"evaluate", "[--sim-motion still|scripted] [--sim-pose roll=R,pitch=P,yaw=Y] [--fusion 6|9] [--calibration FILE] [--recording FILE.csv] [--out FILE.csv]", "measure the orientation filter against the simulator's truth", runEvaluate},
		{"start", "--to HOST:PORT|:PORT [--lease DURATION] [--device HOST[:PORT]]", "start a stream to a receiver: a port on this host or another", runCtl},
		{"stop", "--to HOST:PORT|:PORT|all [--device HOST[:PORT]]", "stop the stream to a receiver, or all of them", runCtl},
		{"status", "[--device HOST[:PORT]]", "show the daemon's state and counters", runCtl},
		{"ping", "[--device HOST[:PORT]]", "check that the daemon answers", runCtl},
		{"record", "[--device HOST[:PORT]] [--duration DURATION] [--out FILE.csv]", "stream to this host and record CSV with loss statistics", runRecord},
		{"view", "[--device HOST[:PORT]] [--http HOST:PORT] [--foxglove HOST:PORT]", "live plots and stream health in a browser; Foxglove connects too", runView},
		{"bridge", "--nats URLS (--device NAME=HOST[:PORT]… | --devices FILE | --discover) [--replicas N]", "publish devices' streams to NATS JetStream, subjects imustream.DEVICE.imu", runBridge},
		{"discover", "[--wait DURATION] [--json]", "list the daemons that announce themselves on the LAN (DNS-SD over mDNS)", runDiscover},
		{"bench", "[--duration D] [--rate HZ] [--batch N] [--load N] [--flood PPS] [--baseline] [--json]", "measure the stream's timing on loopback, optionally against a time.Ticker baseline", runBench},
		{"rig-layout", "[--rig-layout SPEC] [--config FILE] --as c|simulink|labview|json", "print the rig's sample struct for C, Simulink, LabVIEW or as JSON (docs/rig.md)", runRigLayout},
		{"keygen", "--out FILE", "write a new 256-bit key for signed commands (run --key, start|stop|status|ping|record --key)", runKeygen},
		{"version", "", "print version, commit and platform", runVersion},
		// Hidden (no help): child processes of bench.
		{bench.BaselineCommand, "", "", runBenchChild},
		{bench.SpinCommand, "", "", runBenchChild},
		{bench.FloorCommand, "", "", runBenchChild},
	}
}

// lookup finds a command by name, hidden ones included.
func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command line: help goes to stdout and exits 0; a
// mistake on the command line prints one line and a hint to stderr and
// exits 2; a failure exits 1.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return 0
	case "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	case "help":
		return runHelp(args[1:], stdout, stderr)
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "imustream: unknown command %q\nrun 'imustream help' for the list of commands\n", args[0])
		return 2
	}
	return exit(c.name, c.run(c.name, args[1:], stdout, stderr), stdout, stderr)
}

// runHelp is "imustream help [COMMAND]": the command's help is its -h.
func runHelp(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		usage(stdout)
		return 0
	case len(args) > 1:
		fmt.Fprintf(stderr, "imustream help: one command at a time, got %q\n", args)
		return 2
	}
	c, ok := lookup(args[0])
	if !ok || c.help == "" {
		fmt.Fprintf(stderr, "imustream help: unknown command %q\nrun 'imustream help' for the list of commands\n", args[0])
		return 2
	}
	return exit(c.name, c.run(c.name, []string{"-h"}, stdout, stderr), stdout, stderr)
}

// exit prints what a command returned and gives its exit code.
func exit(name string, err error, stdout, stderr io.Writer) int {
	var help *cli.HelpRequest
	var nr *control.NoReplyError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		help.FS.SetOutput(stdout)
		help.FS.Usage()
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, cli.ErrUsage):
		fmt.Fprintf(stderr, "imustream %s: %v\nrun 'imustream %s -h' for help\n", name, err, name)
		return 2
	case errors.As(err, &nr):
		fmt.Fprintf(stderr, "imustream %s: %s", name, nr.Explain())
		return 1
	default:
		fmt.Fprintf(stderr, "imustream %s: %v\n", name, err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "imustream streams an IMU from a Raspberry Pi over UDP.\n\nusage: imustream COMMAND [flags]\n\ncommands:")
	for _, c := range commands {
		if c.help == "" {
			continue
		}
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.help)
		if c.args != "" {
			fmt.Fprintf(w, "  %-10s %s\n", "", c.args)
		}
	}
	fmt.Fprintf(w, "\n'imustream help COMMAND' or 'imustream COMMAND -h' shows a command's flags.\n"+
		"The commands of the control PC talk to the daemon at --device HOST[:PORT] (port %d\n"+
		"unless given); $%s sets its default, else %s.\n", defaultPort, deviceEnv, DefaultListen)
}

func runVersion(name string, args []string, stdout, stderr io.Writer) error {
	if err := cli.Parse(newFlags(name, stderr), args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imustream %s (commit %s) %s/%s%s %s\n", version, commit, runtime.GOOS, runtime.GOARCH, goarm(), runtime.Version())
	return nil
}

// newFlags returns a FlagSet whose errors come back to run instead of
// exiting. Its help lists the flags under one heading until the command
// names groups (groupFlags).
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("imustream "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	groupFlags(fs)
	return fs
}

// groupFlags makes a command's help its summary and usage line from the
// command table, then its flags under these headings (cli.Group).
func groupFlags(fs *flag.FlagSet, groups ...string) {
	name := strings.TrimPrefix(fs.Name(), "imustream ")
	c, _ := lookup(name)
	head := fmt.Sprintf("imustream %s — %s\n\nusage: %s\n", name, c.help, strings.TrimSpace("imustream "+name+" "+c.args))
	cli.Group(fs, head, groups...)
}

// interrupted is the context of a command that ends on SIGINT or SIGTERM.
func interrupted() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

// checkRate refuses a --rate outside the range a sensor is read at.
func checkRate(hz int) error {
	if sensor.CheckRate(hz) != nil {
		return cli.Usagef("--rate %d Hz out of range %d..%d", hz, sensor.MinRateHz, sensor.MaxRateHz)
	}
	return nil
}

// goarm names the ARM variant the binary was built for (GOARM=6 for a Pi
// Zero/1, 7 for a Pi 2/3), empty on other architectures.
func goarm() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == "GOARM" || s.Key == "GOARM64" {
			return " (" + s.Key + "=" + s.Value + ")"
		}
	}
	return ""
}
