//go:build !linux

package telemetry

import (
	"errors"
	"fmt"
)

var errNoRealtime = fmt.Errorf("telemetry: real-time scheduling: %w", errors.ErrUnsupported)

func SetFIFO(int) error    { return errNoRealtime }
func setTimerSlack() error { return errNoRealtime }
func PinThread(int) error  { return errNoRealtime }
func lockMemory() error    { return errNoRealtime }
