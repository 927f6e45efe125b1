package control

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// socketDrops returns how many datagrams the kernel dropped from c's
// receive queue (SO_MEMINFO's drops: a full queue under a flood), and
// whether it could tell.
func socketDrops(c any) (uint64, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var mem [unix.SK_MEMINFO_VARS]uint32
	var errno syscall.Errno
	err = raw.Control(func(fd uintptr) {
		n := uint32(unsafe.Sizeof(mem))
		_, _, errno = unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.SOL_SOCKET, unix.SO_MEMINFO,
			uintptr(unsafe.Pointer(&mem[0])), uintptr(unsafe.Pointer(&n)), 0)
	})
	if err != nil || errno != 0 {
		return 0, false
	}
	return uint64(mem[unix.SK_MEMINFO_DROPS]), true
}
