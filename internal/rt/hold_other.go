//go:build !linux

package rt

import "errors"

func setPreemptSignal(bool) error { return errors.ErrUnsupported }
