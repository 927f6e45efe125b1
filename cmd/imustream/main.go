// Command imustream is both sides of the IMU stream: the daemon that runs
// on the Raspberry Pi (run) and the commands a control PC uses to start,
// stop, inspect and record the stream.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/bench"
	"github.com/imustream/imustream/internal/cli"
)

// Set by the Makefile with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "unknown"
)

// app is the command table; init builds it, since the commands' flag
// help reads it.
var app *cli.App

func init() {
	app = &cli.App{
		Name: "imustream",
		Head: "imustream streams an IMU from a Raspberry Pi over UDP.\n\nusage: imustream COMMAND [flags]\n\ncommands:\n",
		Tail: fmt.Sprintf("\n'imustream help COMMAND' or 'imustream COMMAND -h' shows a command's flags.\n"+
			"The commands of the control PC talk to the daemon at --device HOST[:PORT] (port %d\n"+
			"unless given); $%s sets its default, else %s.\n", control.DefaultPort, control.DeviceEnv, DefaultListen),
		Commands: []cli.Command{
			{Name: "run", Args: "[--sim | --sensor KIND] [--listen HOST:PORT] [--allow CIDR]… [--rate HZ] [--key FILE] [flags]", Help: "run the daemon: stream the IMU to subscribers", Run: runDaemon},
			{Name: "probe", Args: "[--bus BUS] [--record FILE]", Help: "list the I²C devices at the IMU and barometer addresses (on the Pi)", Run: runProbe},
			{Name: "calibrate", Args: "[--seconds N] [--out FILE] [--level] [--mount AXES|MATRIX] [--mag] [--sensor KIND | --sim]", Help: "estimate gyro bias and accel offset at rest, or with --mag the magnetometer's hard and soft iron; run loads the file", Run: runCalibrate},
			{Name: "evaluate", Args: "[--sim-motion still|scripted] [--sim-pose roll=R,pitch=P,yaw=Y] [--fusion 6|9] [--calibration FILE] [--recording FILE.csv] [--out FILE.csv]", Help: "measure the orientation filter against the simulator's truth", Run: runEvaluate},
			{Name: "start", Args: "--to HOST:PORT|:PORT [--lease DURATION] [--device HOST[:PORT]]", Help: "start a stream to a receiver: a port on this host or another", Run: runCtl},
			{Name: "stop", Args: "--to HOST:PORT|:PORT|all [--device HOST[:PORT]]", Help: "stop the stream to a receiver, or all of them", Run: runCtl},
			{Name: "status", Args: "[--device HOST[:PORT]]", Help: "show the daemon's state and counters", Run: runCtl},
			{Name: "ping", Args: "[--device HOST[:PORT]]", Help: "check that the daemon answers", Run: runCtl},
			{Name: "record", Args: "[--device HOST[:PORT]] [--duration DURATION] [--out FILE.csv]", Help: "stream to this host and record CSV with loss statistics", Run: runRecord},
			{Name: "view", Args: "[--device HOST[:PORT]] [--http HOST:PORT] [--foxglove HOST:PORT]", Help: "live plots and stream health in a browser; Foxglove connects too", Run: runView},
			{Name: "bridge", Args: "--nats URLS (--device NAME=HOST[:PORT]… | --devices FILE | --discover) [--replicas N]", Help: "publish devices' streams to NATS JetStream, subjects imustream.DEVICE.imu", Run: runBridge},
			{Name: "discover", Args: "[--wait DURATION] [--json]", Help: "list the daemons that announce themselves on the LAN (DNS-SD over mDNS)", Run: runDiscover},
			{Name: "bench", Args: "[--duration D] [--rate HZ] [--batch N] [--load N] [--flood PPS] [--baseline] [--json]", Help: "measure the stream's timing on loopback, optionally against a time.Ticker baseline", Run: runBench},
			{Name: "rig-layout", Args: "[--rig-layout SPEC] [--config FILE] --as c|simulink|labview|json", Help: "print the rig's sample struct for C, Simulink, LabVIEW or as JSON (docs/rig.md)", Run: runRigLayout},
			{Name: "keygen", Args: "--out FILE", Help: "write a new 256-bit key for signed commands (run --key, start|stop|status|ping|record --key)", Run: runKeygen},
			{Name: "version", Args: "", Help: "print version, commit and platform", Run: runVersion},
			// Hidden (no help): child processes of bench.
			{Name: bench.BaselineCommand, Args: "", Help: "", Run: runBenchChild},
			{Name: bench.SpinCommand, Args: "", Help: "", Run: runBenchChild},
			{Name: bench.FloorCommand, Args: "", Help: "", Run: runBenchChild},
		}}
}

func main() {
	os.Exit(app.Run(os.Args[1:], os.Stdout, os.Stderr))
}

func runVersion(name string, args []string, stdout, stderr io.Writer) error {
	if err := cli.Parse(app.NewFlags(name, stderr), args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imustream %s (commit %s) %s/%s%s %s\n", version, commit, runtime.GOOS, runtime.GOARCH, goarm(), runtime.Version())
	return nil
}

// interrupted is the context of a command that ends on SIGINT or SIGTERM.
func interrupted() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
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
