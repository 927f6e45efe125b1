package main

import (
	"io"
	"os"

	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/sensor/calib"
	"github.com/imustream/imustream/sensor/fusion"
	"github.com/imustream/imustream/sensor/fusion/evaluate"
	"github.com/imustream/imustream/sensor/sim"
)

// runEvaluate measures the orientation filter against the simulator's
// truth: in process on simulated time, or from a recording of a daemon
// that ran the simulator.
func runEvaluate(name string, args []string, stdout, stderr io.Writer) error {
	var (
		cfg            evaluate.Config
		fus            fusion.Flags
		cal            calib.Flags
		recording, out string
	)
	fs := app.NewFlags(name, stderr)
	cfg.RegisterFlags(fs)
	fus.RegisterFlags(fs, "9")
	cal.RegisterFlags(fs)
	fs.StringVar(&recording, "recording", "", "evaluate this CSV `FILE` of imustream record instead, made from run --sim with the same simulator flags, the first stream after the daemon started")
	fs.StringVar(&out, "out", "", "write the estimate next to the truth, per sample, to this CSV `FILE`")
	app.GroupFlags(fs, "Simulator: seed "+sim.FlagGroup[len("Simulator: "):], fusion.FlagGroup, "Run: rate seconds skip calibration mount recording out")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	var rowCSV *evaluate.TruthCSV
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		rowCSV = evaluate.NewTruthCSV(f)
	}
	var e evaluate.Errors
	var err error
	if recording != "" {
		rc := evaluate.RecordingConfig{Sim: cfg.Sim, Skip: cfg.Skip}
		if rowCSV != nil {
			rc.Row = rowCSV.Row
		}
		e, err = evaluate.RecordingFile(recording, rc)
	} else {
		if cfg.Fusion, err = fus.Options(); err != nil {
			return cli.Usagef("%w", err)
		}
		if cfg.Fusion.Mode == fusion.Off {
			return cli.Usagef("--fusion off: nothing to evaluate")
		}
		if cfg.Calibration, err = cal.Load(); err != nil {
			return cli.Usagef("--calibration: %w", err)
		}
		if rowCSV != nil {
			cfg.Row = rowCSV.Sample
		}
		e, err = evaluate.Run(cfg)
	}
	if err != nil {
		return err
	}
	if rowCSV != nil {
		if err := rowCSV.Flush(); err != nil {
			return err
		}
	}
	e.WriteText(stdout)
	return nil
}
