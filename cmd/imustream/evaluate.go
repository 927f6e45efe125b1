package main

import (
	"io"
	"os"

	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/sensor/fusion"
	"github.com/imustream/imustream/sensor/fusion/evaluate"
)

// runEvaluate measures the orientation filter against the simulator's
// truth: in process on simulated time, or from a recording of a daemon
// that ran the simulator.
func runEvaluate(name string, args []string, stdout, stderr io.Writer) error {
	var (
		simx           simFlags
		fus            fusionFlags
		cal            calibFlags
		seed           uint64
		rate           int
		seconds, skip  float64
		recording, out string
	)
	fs := newFlags(name, stderr)
	fs.Uint64Var(&seed, "seed", 1, "seed `N` of the simulated sensor")
	simx.register(fs)
	fus.register(fs, "9")
	cal.register(fs)
	fs.IntVar(&rate, "rate", 200, "sample rate in `HZ`")
	fs.Float64Var(&seconds, "seconds", 60, "simulated `SECONDS` to run")
	fs.Float64Var(&skip, "skip", 0, "leave the first `SECONDS` out of the figures (the filter converging)")
	fs.StringVar(&recording, "recording", "", "evaluate this CSV `FILE` of imustream record instead, made from run --sim with the same simulator flags, the first stream after the daemon started")
	fs.StringVar(&out, "out", "", "write the estimate next to the truth, per sample, to this CSV `FILE`")
	groupFlags(fs, "Simulator: seed "+simGroup[len("Simulator: "):], fusionGroup, "Run: rate seconds skip calibration mount recording out")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	simx.opts.Seed = seed
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
		rc := evaluate.RecordingConfig{Sim: simx.opts, Skip: skip}
		if rowCSV != nil {
			rc.Row = rowCSV.Row
		}
		e, err = evaluate.RecordingFile(recording, rc)
	} else {
		cfg := evaluate.Config{Sim: simx.opts, RateHz: rate, Seconds: seconds, Skip: skip}
		if cfg.Fusion, err = fus.options(); err != nil {
			return err
		}
		if cfg.Fusion.Mode == fusion.Off {
			return cli.Usagef("--fusion off: nothing to evaluate")
		}
		if cfg.Calibration, err = cal.load(); err != nil {
			return err
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
