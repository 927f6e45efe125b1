//go:build !linux

package fusion

import "testing"

func cpuPerOp(b *testing.B, f func()) {
	b.ReportAllocs()
	for b.Loop() {
		f()
	}
}
