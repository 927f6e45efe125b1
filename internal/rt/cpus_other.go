//go:build !linux

package rt

// LastCPUs: CPU affinity is Linux only, so one unpinned sender thread.
func LastCPUs(int) ([]int, error) { return nil, nil }
