// Perfdoc renders docs/performance.md from the results of the bench's
// comparison runs, which imustream bench --suite writes as JSON:
//
//	imustream bench --suite bin/bench-suite.json --duration 1m0s
//	go run ./internal/bench/perfdoc -in bin/bench-suite.json -out docs/performance.md
//
// make bench runs both. The document's template, performance.md.tmpl, is
// embedded here and not in imustream: text/template looks methods up by
// name through reflect, which keeps the linker from dropping any exported
// method of a program that links it, and imustream runs on a Pi Zero.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/imustream/imustream/internal/bench"
)

// errUsage marks errors that are the caller's flags; they exit 2.
var errUsage = errors.New("perfdoc: usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	err := render(args, stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, err)
		return 2
	default:
		fmt.Fprintln(stderr, err)
		return 1
	}
}

// render reads the suite's results named by -in and writes the document to
// -out, or to stdout without it.
func render(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("perfdoc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "the suite's results: the JSON file imustream bench --suite wrote (required)")
	out := fs.String("out", "", "the Markdown file to write (default: standard output)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *in == "":
		return fmt.Errorf("%w: -in FILE is missing", errUsage)
	}
	f, err := os.Open(*in)
	if err != nil {
		return fmt.Errorf("perfdoc: %w", err)
	}
	defer f.Close()
	s, err := bench.ReadSuite(f)
	if err != nil {
		return fmt.Errorf("perfdoc: %s: %w", *in, err)
	}
	cmd := "go run ./internal/bench/perfdoc -in " + *in
	if *out != "" {
		cmd += " -out " + *out
	}
	var b bytes.Buffer
	if err := writeDoc(&b, s, cmd); err != nil {
		return err
	}
	if *out == "" {
		if _, err := stdout.Write(b.Bytes()); err != nil {
			return fmt.Errorf("perfdoc: %w", err)
		}
		return nil
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("perfdoc: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}
