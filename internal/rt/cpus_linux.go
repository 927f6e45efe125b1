package rt

import (
	"slices"

	"golang.org/x/sys/unix"
)

// LastCPUs returns up to n of the highest-numbered CPUs the process may
// run on, in increasing order. On a Raspberry Pi the interrupts go to CPU
// 0, so the last ones are the quiet ones.
func LastCPUs(n int) ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, err
	}
	var last []int
	for c := len(set)*64 - 1; c >= 0 && len(last) < n; c-- {
		if set.IsSet(c) {
			last = append(last, c)
		}
	}
	slices.Reverse(last)
	return last, nil
}
