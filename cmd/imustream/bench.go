package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/imustream/imustream/internal/bench"
	"github.com/imustream/imustream/internal/cli"
)

// runBench is the bench command: its flags are a bench.Config, for one
// run (a table, or --json) or the comparison runs (--suite).
func runBench(name string, args []string, stdout, stderr io.Writer) error {
	c := bench.DefaultConfig()
	var asJSON bool
	var suite string
	fs := app.NewFlags(name, stderr)
	c.RegisterFlags(fs)
	fs.BoolVar(&asJSON, "json", false, "print one JSON object instead of the table")
	fs.StringVar(&suite, "suite", "", "run the standard comparison runs (each --duration long) and write their results as JSON to FILE, which go run ./internal/bench/perfdoc renders as docs/performance.md")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := c.Check(); err != nil {
		return benchErr(err)
	}
	ctx, stop := interrupted()
	defer stop()
	if suite != "" {
		return benchErr(bench.Suite(ctx, c, suite, stdout, stderr))
	}
	if !asJSON {
		fmt.Fprintf(stderr, "imustream bench: measuring %s (+%s warm-up)…\n", c.Duration, c.Warmup)
	}
	r, err := bench.Run(ctx, c)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	bench.WriteTable(stdout, r)
	return nil
}

// runBenchChild runs the bench's hidden child commands; it writes and
// parses their flags. Only the baseline ends on a signal by itself: the
// others die of it.
func runBenchChild(name string, args []string, stdout, stderr io.Writer) error {
	ctx := context.Background()
	if name == bench.BaselineCommand {
		c, stop := interrupted()
		defer stop()
		ctx = c
	}
	return benchErr(bench.Child(ctx, name, args, stdout, stderr))
}

// benchErr makes the bench's configuration errors usage errors: exit 2.
func benchErr(err error) error {
	if errors.Is(err, bench.ErrConfig) {
		return cli.Usagef("%w", err)
	}
	return err
}
