//go:build !linux

package bench

import (
	"context"
	"io"
)

// Run needs Linux: kernel receive timestamps and /proc.
func Run(context.Context, Config) (*Result, error) { return nil, ErrNeedsLinux }

// Baseline needs Linux, as the bench that runs it.
func Baseline(context.Context, []string, io.Writer) error { return ErrNeedsLinux }

// Spin needs Linux, as the bench that runs it.
func Spin([]string, io.Writer) error { return ErrNeedsLinux }

// Floor needs Linux, as the bench that runs it.
func Floor([]string, io.Writer, io.Writer) error { return ErrNeedsLinux }
