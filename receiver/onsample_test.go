package receiver

import (
	"io"
	"math/rand/v2"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// TestOnSample: a live output gets each sample the CSV gets, once, with
// its own seq: not a duplicate, not a malformed datagram's.
func TestOnSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	r := NewRecorder(io.Discard)
	var seqs []uint32
	var got []sensor.Sample
	r.OnSample = func(h *telemetry.Header, seq uint32, s *sensor.Sample) {
		if h.Session != 7 {
			t.Errorf("session %x", h.Session)
		}
		seqs = append(seqs, seq)
		got = append(got, *s)
	}
	a, b := randSample(rng, 1e9), randSample(rng, 2e9)
	r.Add(dgram(7, 0, a))
	r.Add(dgram(7, 0, a)) // a duplicate
	r.Add([]byte("not a datagram"))
	r.Add(dgram(7, 1, b))
	if len(seqs) != 2 || seqs[0] != 0 || seqs[1] != 1 || got[0].MonoNs != a.MonoNs || got[1].WallNs != b.WallNs || r.Stats.Samples != 2 {
		t.Fatalf("OnSample got seqs %v (%d samples recorded)", seqs, r.Stats.Samples)
	}
}
