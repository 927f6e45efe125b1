//go:build !linux

package control

import "net"

const rxStampOOB = 0

// enableRxStamps: kernel receive times are read on Linux only.
func enableRxStamps(*net.UDPConn) bool { return false }

func rxStamp([]byte) (int64, bool) { return 0, false }
