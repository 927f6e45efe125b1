package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/sensor/detect"
)

// runProbe lists what answers at the known addresses and, with --record,
// records a short session as a trace for the tests.
func runProbe(name string, args []string, stdout, stderr io.Writer) error {
	var sf sensorFlags
	var rate int
	var record string
	fs := app.NewFlags(name, stderr)
	sf.register(fs)
	fs.IntVar(&rate, "rate", 200, "with --record: the rate the samples are read at, `HZ`")
	fs.StringVar(&record, "record", "", "also open the first IMU found with these settings, read 20 samples and write every I²C transaction to this trace `FILE` (it resets the chip: stop a running daemon first)")
	app.GroupFlags(fs, "Sensor: sensor bus addr accel-range gyro-range dlpf", "Recording: record rate")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	kind, err := sf.kindOf(false)
	if err != nil {
		return err
	}
	if kind == "sim" {
		return cli.Usagef("probe looks at the I²C bus; the simulated sensor is not on one")
	}
	sc, err := sf.sensorConfig(kind, rate, 0, false, nil)
	if err != nil {
		return err
	}
	found, err := detect.ProbeBus(sc.Detect, record)
	for _, f := range found {
		fmt.Fprintln(stdout, f)
	}
	// ProbeBus writes the trace, failed session included, once the bus is open.
	if record != "" && !errors.Is(err, detect.ErrNoBus) && !errors.Is(err, detect.ErrPermission) {
		fmt.Fprintf(stdout, "recorded the session to %s: fill in its note (board, Pi model, how it lay) and see docs/hardware.md to contribute it\n", record)
	}
	if detect.InvalidOpts(err) {
		return cli.Usagef("%w", err)
	}
	return err
}
