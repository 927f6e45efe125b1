package bench

import (
	"slices"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

const µs = int64(1000)

func TestSummarize(t *testing.T) {
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(100-i) * µs // 100 µs … 1 µs, unsorted
	}
	for _, tc := range []struct {
		name string
		in   []int64
		want Summary
	}{
		{"empty", nil, Summary{}},
		{"one", []int64{7 * µs}, Summary{N: 1, P50: 7, P99: 7, P999: 7, Max: 7}},
		// Nearest rank: p50 of 1..100 is the 50th value, p99 the 99th,
		// p99.9 rounds up to the 100th.
		{"1..100", hundred, Summary{N: 100, P50: 50, P99: 99, P999: 100, Max: 100}},
		// p50 of four values is the 2nd; rounding to 0.1 µs.
		{"four", []int64{4049, 1000, 3000, 2000}, Summary{N: 4, P50: 2, P99: 4, P999: 4, Max: 4}},
	} {
		in := slices.Clone(tc.in)
		if got := summarize(tc.in); got != tc.want {
			t.Errorf("%s: summarize = %+v, want %+v", tc.name, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("%s: summarize modified its input", tc.name)
		}
	}
}

func TestPercentileEdges(t *testing.T) {
	v := []int64{1, 2, 3}
	for _, tc := range []struct {
		p    float64
		want int64
	}{{0, 1}, {1, 1}, {33.4, 2}, {66.7, 3}, {100, 3}} {
		if got := percentile(v, tc.p); got != tc.want {
			t.Errorf("percentile(%v, %v) = %d, want %d", v, tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %d", got)
	}
}

// arrivalsAt builds single-sample arrivals on a 5 ms grid: the k-th of
// ks has deadline d0 + k × period, woke late[k] after it and reached the
// receiver arrive[k] after it (realtime = monotonic + offset), read
// latency ns before arrival.
func arrivalsAt(ks []int, late, arrive []int64, latency int64) []arrival {
	const (
		period = 5_000_000
		d0     = 1_000_000_000_000
		offset = 1_700_000_000_000_000_000 // realtime − monotonic
	)
	var as []arrival
	for i, k := range ks {
		deadline := d0 + int64(k)*period
		rx := offset + deadline + arrive[i]
		as = append(as, arrival{rxNs: rx, seq: uint32(k), count: 1,
			monoNs: deadline + late[i], wallNs: rx - latency, lateNs: late[i]})
	}
	return as
}

func TestAnalyze(t *testing.T) {
	// Tick 3 is lost: the pairs (2,3) and (3,4) do not exist and (2,4)
	// is not an interval.
	ks := []int{0, 1, 2, 4, 5}
	arrive := []int64{10 * µs, 12 * µs, 30 * µs, 11 * µs, 10 * µs}
	late := []int64{8 * µs, 9 * µs, 25 * µs, 9 * µs, 8 * µs}
	got := analyze(arrivalsAt(ks, late, arrive, 3*µs), 5_000_000)
	// Intervals: |12−10| = 2, |30−12| = 18, |10−11| = 1.
	if want := (Summary{N: 3, P50: 2, P99: 18, P999: 18, Max: 18}); got.Interval != want {
		t.Errorf("Interval = %+v, want %+v", got.Interval, want)
	}
	// Lateness against the grid placed by the earliest arrival (10 µs):
	// 0, 2, 20, 1, 0.
	if want := (Summary{N: 5, P50: 1, P99: 20, P999: 20, Max: 20}); got.Lateness != want {
		t.Errorf("Lateness = %+v, want %+v", got.Lateness, want)
	}
	if want := (Summary{N: 5, P50: 9, P99: 25, P999: 25, Max: 25}); got.Reported != want {
		t.Errorf("Reported = %+v, want %+v", got.Reported, want)
	}
	if want := (Summary{N: 5, P50: 3, P99: 3, P999: 3, Max: 3}); got.Latency != want {
		t.Errorf("Latency = %+v, want %+v", got.Latency, want)
	}
}

func TestAnalyzeBatchAndSkip(t *testing.T) {
	const p = 1_000_000 // 1 kHz
	// Batches of 4: datagrams every 4 ms, sent at the tick of their last
	// sample. The third one's tick woke 2.5 periods late (the sender
	// skipped two ticks): its lateness is against its own deadline.
	as := []arrival{
		{rxNs: 3*p + 5*µs, seq: 0, count: 4, monoNs: 3*p + 4*µs, lateNs: 4 * µs},
		{rxNs: 7*p + 6*µs, seq: 4, count: 4, monoNs: 7*p + 5*µs, lateNs: 5 * µs},
		{rxNs: 11*p + 2500*µs, seq: 8, count: 4, monoNs: 11*p + 2499*µs, lateNs: 2499 * µs},
	}
	got := analyze(as, p)
	// |4 ms + 1 µs − 4 ms| = 1 µs and |4 ms + 2494 µs − 4 ms| = 2494 µs.
	if want := (Summary{N: 2, P50: 1, P99: 2494, P999: 2494, Max: 2494}); got.Interval != want {
		t.Errorf("Interval = %+v, want %+v", got.Interval, want)
	}
	// 0, 1 and 2495 µs after the earliest-arrival grid.
	if want := (Summary{N: 3, P50: 1, P99: 2495, P999: 2495, Max: 2495}); got.Lateness != want {
		t.Errorf("Lateness = %+v, want %+v", got.Lateness, want)
	}
	if got := analyze(nil, p); got != (Timing{}) {
		t.Errorf("analyze(nil) = %+v", got)
	}
}

func TestCounterLoss(t *testing.T) {
	dg := func(typ telemetry.Type, seq uint32, n int, st sensor.Status) *telemetry.Datagram {
		d := &telemetry.Datagram{Header: telemetry.Header{Type: typ, Session: 7, Seq: seq, Count: uint8(n)}}
		for range n {
			d.Samples = append(d.Samples, sensor.Sample{Status: st})
		}
		return d
	}
	var k counter
	for seq := uint32(0); seq < 10; seq++ {
		if seq == 3 || seq == 7 {
			continue
		}
		st := sensor.Status(0)
		if seq == 5 {
			st = sensor.StatusLate | sensor.StatusSkipped
		}
		k.samples(dg(telemetry.TypeSamples, seq, 1, st))
	}
	k.samples(dg(telemetry.TypeSamples, 4, 1, 0)) // a duplicate
	c := k.result()
	if c.Lost != 2 || c.EndSeen || c.Samples != 9 || c.Duplicates != 1 || c.Datagrams != 9 ||
		c.FlaggedLate != 1 || c.FlaggedSkipped != 1 || c.Sessions != 1 {
		t.Errorf("before the end: %+v; want 2 lost, 9 samples (1 duplicate), 1 flagged late and skipped", c)
	}
	// The end says 12 samples were sent: 10 and 11 are lost too.
	k.end(dg(telemetry.TypeEnd, 12, 0, 0))
	if c := k.result(); c.Lost != 4 || !c.EndSeen {
		t.Errorf("after the end: %+v; want 4 lost", c)
	}

	// A stream whose first datagram was lost.
	var k2 counter
	k2.samples(dg(telemetry.TypeSamples, 4, 4, 0))
	if c := k2.result(); c.Lost != 4 {
		t.Errorf("first datagram lost: %+v; want 4 lost", c)
	}
}
