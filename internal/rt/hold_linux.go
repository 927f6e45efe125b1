package rt

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// setPreemptSignal blocks (or unblocks) SIGURG on the calling thread.
func setPreemptSignal(block bool) error {
	var set unix.Sigset_t
	bit := uint(unix.SIGURG - 1)
	w := uint(unsafe.Sizeof(set.Val[0])) * 8
	set.Val[bit/w] |= 1 << (bit % w)
	how := unix.SIG_UNBLOCK
	if block {
		how = unix.SIG_BLOCK
	}
	if err := unix.PthreadSigmask(how, &set, nil); err != nil {
		return fmt.Errorf("rt: SIGURG mask: %w", err)
	}
	return nil
}
