package bridge

import (
	"net/netip"
	"testing"

	"github.com/imustream/imustream/telemetry"
)

// BenchmarkReceive is the bridge's UDP receive path: one 200 Hz datagram
// appended to its device's batch, a full batch handed to the queue.
func BenchmarkReceive(b *testing.B) {
	br := &Bridge{cfg: Config{Prefix: "imustream"}, queue: make(chan *batch, 1)}
	dv := newDevice(br, Device{Name: "pi", Addr: "127.0.0.1:7600"})
	dg := datagram(1, 0, 1)
	b.ReportAllocs()
	for i := range b.N {
		telemetry.PutSessionSeq(dg, 1, uint32(i))
		dv.receive(dg, netip.AddrPort{})
		select {
		case bt := <-br.queue:
			putBatch(bt)
		default:
		}
	}
}
