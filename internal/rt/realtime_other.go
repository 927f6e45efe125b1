//go:build !linux

package rt

import (
	"errors"
	"fmt"
)

var errNoRealtime = fmt.Errorf("rt: real-time scheduling: %w", errors.ErrUnsupported)

func setFIFO(int) error                { return errNoRealtime }
func setTimerSlack() error             { return errNoRealtime }
func pinThread(int) error              { return errNoRealtime }
func LockMemory() error                { return errNoRealtime }
func ScheduleProcess(int) (int, error) { return 0, errNoRealtime }
func TrimExecutable() error            { return errNoRealtime }
func SetThreadPriority(int) error      { return errNoRealtime }
