package bench

import (
	"math"
	"slices"

	"github.com/imustream/imustream/receiver"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// Summary is the distribution of a set of durations, in µs.
type Summary struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50_us"`
	P99  float64 `json:"p99_us"`
	P999 float64 `json:"p99_9_us"`
	Max  float64 `json:"max_us"`
}

// summarize takes durations in ns. Percentiles are nearest-rank: the
// smallest value that at least p % of the values do not exceed, so p99
// of 100 values is the 99th smallest and never an interpolation.
func summarize(ns []int64) Summary {
	if len(ns) == 0 {
		return Summary{}
	}
	v := slices.Clone(ns)
	slices.Sort(v)
	return Summary{
		N:    len(v),
		P50:  us(percentile(v, 50)),
		P99:  us(percentile(v, 99)),
		P999: us(percentile(v, 99.9)),
		Max:  us(v[len(v)-1]),
	}
}

// percentile returns the nearest-rank p-th percentile of sorted v.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// us converts ns to µs rounded to 0.1 µs.
func us(ns int64) float64 { return math.Round(float64(ns)/100) / 10 }

// arrival is one samples datagram as the bench receiver saw it; the
// sample fields are those of its last record, the one whose tick sent it.
type arrival struct {
	rxNs   int64 // kernel receive timestamp, CLOCK_REALTIME ns
	seq    uint32
	count  uint8
	monoNs int64 // t_mono_ns: when the sender woke for the tick
	wallNs int64 // t_wall_ns
	lateNs int64 // late_ns: the sender's own wake-up lateness
	flags  sensor.Status
}

// deadline is the tick's deadline on the sender's grid: the wake-up time
// less its lateness.
func (a *arrival) deadline() int64 { return a.monoNs - a.lateNs }

// Timing is what the receiver's timestamps say about a stream.
type Timing struct {
	// Interval is |interval − nominal| between consecutive datagrams (the
	// nominal interval is period × batch); pairs around a lost datagram
	// are left out.
	Interval Summary `json:"interval_dev"`
	// Lateness is how long after its deadline on the sender's absolute
	// grid each datagram arrived, the grid placed by the earliest arrival.
	Lateness Summary `json:"grid_lateness"`
	// Reported is the sender's own late_ns, from the datagrams.
	Reported Summary `json:"reported_late"`
	// Latency is kernel arrival − t_wall_ns: read to received, one way.
	Latency Summary `json:"one_way_latency"`
	// Spacing is |t_mono_ns − the previous sample's − period| of every
	// pair of consecutive samples, within datagrams and across them: the
	// sender's wake-ups, or the sensor clock in FIFO mode.
	Spacing Summary `json:"sample_spacing_dev"`
}

// analyze computes the timing of arrivals in arrival order. period is the
// sample period in ns.
func analyze(as []arrival, period int64) Timing {
	var t Timing
	if len(as) == 0 {
		return t
	}
	n := len(as)
	intervals := make([]int64, 0, n)
	late := make([]int64, n)
	reported := make([]int64, n)
	latency := make([]int64, n)
	d0 := as[0].deadline()
	origin := int64(math.MaxInt64)
	for i := range as {
		a := &as[i]
		if i > 0 {
			p := &as[i-1]
			if a.seq == p.seq+uint32(p.count) {
				nominal := period * int64(a.count)
				intervals = append(intervals, abs(a.rxNs-p.rxNs-nominal))
			}
		}
		// The grid is the sender's (CLOCK_MONOTONIC); arrivals are
		// CLOCK_REALTIME, which differs from it by a constant offset
		// unless the clock is stepped during the run. The offset is taken
		// from the earliest arrival, so lateness is ≥ 0.
		late[i] = a.rxNs - (a.deadline() - d0)
		origin = min(origin, late[i])
		reported[i] = a.lateNs
		latency[i] = a.rxNs - a.wallNs
	}
	for i := range late {
		late[i] -= origin
	}
	t.Interval = summarize(intervals)
	t.Lateness = summarize(late)
	t.Reported = summarize(reported)
	t.Latency = summarize(latency)
	return t
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// Counts is what the receiver counted of a stream.
type Counts struct {
	Datagrams uint64 `json:"datagrams"`
	Samples   uint64 `json:"samples"`
	// Lost counts the samples missing from the first received one to the
	// end of the stream (the end-of-stream datagram's seq when it came).
	Lost       uint64 `json:"lost"`
	Duplicates uint64 `json:"duplicates"`
	Reordered  uint64 `json:"reordered"`
	EndSeen    bool   `json:"end_seen"`
	Sessions   uint64 `json:"sessions"`
	// FlaggedLate and FlaggedSkipped count samples flagged late (more than
	// a quarter period) or as following skipped ticks.
	FlaggedLate    uint64 `json:"flagged_late"`
	FlaggedSkipped uint64 `json:"flagged_skipped"`
	// FlaggedOverflow counts samples flagged as following a FIFO
	// overflow: samples lost in the sensor, before the wire (FIFO mode).
	FlaggedOverflow uint64 `json:"flagged_fifo_overflow,omitempty"`
}

// counter counts a stream's datagrams as they arrive. The bench streams
// are one session each, numbered from 0 by both senders.
type counter struct {
	track  receiver.Tracker
	c      Counts
	first  uint32
	endSeq uint32
}

func (k *counter) samples(d *telemetry.Datagram) {
	if k.c.Datagrams == 0 {
		k.first = d.Seq
	}
	k.c.Datagrams++
	for i := range d.Samples {
		k.track.Add(d.Session, d.Seq+uint32(i))
		st := d.Samples[i].Status
		if st&sensor.StatusLate != 0 {
			k.c.FlaggedLate++
		}
		if st&sensor.StatusSkipped != 0 {
			k.c.FlaggedSkipped++
		}
		if st&sensor.StatusFIFOOverflow != 0 {
			k.c.FlaggedOverflow++
		}
	}
}

// raw counts a sample of a stream without sessions (a peer's).
func (k *counter) raw(seq uint32) {
	if k.c.Datagrams == 0 {
		k.first = seq
	}
	k.c.Datagrams++
	k.track.Add(1, seq)
}

func (k *counter) end(d *telemetry.Datagram) {
	if s, ok := k.track.Session(); ok && s == d.Session {
		k.c.EndSeen, k.endSeq = true, d.Seq
	}
}

func (k *counter) result() Counts {
	c := k.c
	t := &k.track
	c.Samples, c.Duplicates, c.Reordered, c.Sessions = t.Received, t.Duplicates, t.Reordered, t.Sessions
	// Samples before the first received one and, when the end-of-stream
	// datagram came, after the highest one are lost too.
	c.Lost = uint64(k.first) + t.Lost()
	if c.EndSeen && t.Sessions == 1 {
		c.Lost = uint64(k.endSeq) - t.Unique()
	}
	return c
}
