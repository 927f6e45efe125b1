package control

import (
	"encoding/binary"
	"net"

	"golang.org/x/sys/unix"
)

// rxStampOOB is room for the SCM_TIMESTAMPNS control message.
const rxStampOOB = 64

// enableRxStamps asks the kernel to stamp every datagram c receives with
// its arrival time (SO_TIMESTAMPNS), and reports whether it will: a time
// exchange's receive times then do not include how long the reading
// goroutine took to wake. Where the system refuses (qemu-user) the
// reader's own clock reading stands in.
func enableRxStamps(c *net.UDPConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return false
	}
	return serr == nil
}

// rxStamp finds the arrival time (CLOCK_REALTIME ns) among a datagram's
// control messages; it does not allocate.
func rxStamp(oob []byte) (int64, bool) {
	for len(oob) > 0 {
		level, typ, data, rest, ok := nextCmsg(oob)
		if !ok {
			return 0, false
		}
		if level == unix.SOL_SOCKET && typ == unix.SCM_TIMESTAMPNS {
			switch len(data) { // a struct timespec of the platform's word size
			case 16:
				return int64(binary.NativeEndian.Uint64(data))*1e9 + int64(binary.NativeEndian.Uint64(data[8:])), true
			case 8:
				return int64(int32(binary.NativeEndian.Uint32(data)))*1e9 + int64(int32(binary.NativeEndian.Uint32(data[4:]))), true
			}
			return 0, false
		}
		oob = rest
	}
	return 0, false
}
