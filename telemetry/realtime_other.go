//go:build !linux

package telemetry

import (
	"errors"
	"fmt"
)

var errNoRealtime = fmt.Errorf("telemetry: real-time scheduling: %w", errors.ErrUnsupported)

func setFIFO(int) error    { return errNoRealtime }
func setTimerSlack() error { return errNoRealtime }
func pinThread(int) error  { return errNoRealtime }
func lockMemory() error    { return errNoRealtime }
