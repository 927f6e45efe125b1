//go:build !linux

package main

import (
	"errors"
	"io"
)

// The bench needs Linux: kernel receive timestamps and /proc.
var errBenchLinux = errors.New("bench: needs Linux")

func runBench(string, []string, io.Writer, io.Writer) error    { return errBenchLinux }
func runBaseline(string, []string, io.Writer, io.Writer) error { return errBenchLinux }
func runSpin(string, []string, io.Writer, io.Writer) error     { return errBenchLinux }
func runFloor(string, []string, io.Writer, io.Writer) error    { return errBenchLinux }
