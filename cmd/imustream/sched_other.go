//go:build !linux

package main

// lastCPUs: CPU affinity is Linux only, so one unpinned sender thread.
func lastCPUs(int) ([]int, error) { return nil, nil }
