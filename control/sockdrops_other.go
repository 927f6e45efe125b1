//go:build !linux

package control

// socketDrops: the kernel's drop counter is read on Linux only.
func socketDrops(any) (uint64, bool) { return 0, false }
