package bench

import (
	"encoding/binary"
	"time"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// streamRec collects one stream's arrivals.
type streamRec struct {
	arr []arrival
	// spacing is every sample's t_mono_ns step from the one before, with
	// the datagram's arrival, for Timing.Spacing.
	spacing []spacingStep
	prevSeq uint32
	prevNs  int64
	cnt     counter
	dg      telemetry.Datagram
}

// newStreamRec returns a record with room for frames arrivals.
func newStreamRec(frames int) *streamRec {
	return &streamRec{arr: make([]arrival, 0, frames), spacing: make([]spacingStep, 0, frames)}
}

type spacingStep struct{ rxNs, stepNs int64 }

// add records datagram b received at rxNs and reports its type; ok is
// false for anything that is not a telemetry datagram (command replies).
func (s *streamRec) add(b []byte, rxNs int64) (telemetry.Type, bool) {
	if !telemetry.Is(b) || telemetry.Parse(b, &s.dg) != nil {
		return 0, false
	}
	switch s.dg.Type {
	case telemetry.TypeSamples:
		s.cnt.samples(&s.dg)
		last := &s.dg.Samples[len(s.dg.Samples)-1]
		a := arrival{rxNs: rxNs, seq: s.dg.Seq, count: s.dg.Count,
			monoNs: last.MonoNs, wallNs: last.WallNs, lateNs: last.LateNs}
		for i := range s.dg.Samples {
			a.flags |= s.dg.Samples[i].Status
			seq, mono := s.dg.Seq+uint32(i), s.dg.Samples[i].MonoNs
			if s.prevNs != 0 && seq == s.prevSeq+1 {
				s.spacing = append(s.spacing, spacingStep{rxNs, mono - s.prevNs})
			}
			s.prevSeq, s.prevNs = seq, mono
		}
		s.arr = append(s.arr, a)
	case telemetry.TypeEnd:
		s.cnt.end(&s.dg)
	}
	return s.dg.Type, true
}

// addPeer records a peer's datagram b received at rxNs: a u32 seq and a
// u64 wall-clock ns, little-endian, then anything. The peer has no
// deadline grid, so its lateness figures stay zero.
func (s *streamRec) addPeer(b []byte, rxNs int64) {
	if len(b) < 12 {
		return
	}
	seq := binary.LittleEndian.Uint32(b)
	s.cnt.raw(seq)
	s.arr = append(s.arr, arrival{rxNs: rxNs, seq: seq, count: 1, wallNs: int64(binary.LittleEndian.Uint64(b[4:]))})
}

// samplesBetween counts the samples of the datagrams that arrived in
// [from, to): the ticks of that time, less any lost.
func (s *streamRec) samplesBetween(from, to int64) uint64 {
	n := uint64(0)
	for _, a := range s.arr {
		if a.rxNs >= from && a.rxNs < to {
			n += uint64(a.count)
		}
	}
	return n
}

// finish fills r with the counts and with the timing of the arrivals in
// [from, to).
func (s *streamRec) finish(r *StreamResult, from, to, period int64) {
	r.Counts = s.cnt.result()
	i, j := 0, len(s.arr)
	for i < j && s.arr[i].rxNs < from {
		i++
	}
	for j > i && s.arr[j-1].rxNs >= to {
		j--
	}
	r.Timing = analyze(s.arr[i:j], period)
	var dev []int64
	for _, st := range s.spacing {
		if st.rxNs >= from && st.rxNs < to {
			dev = append(dev, abs(st.stepNs-period))
		}
	}
	r.Timing.Spacing = summarize(dev)
}

// phases splits the arrivals in [from, to) by whether the flood was on
// when they arrived; pairs across a phase change are left out of the
// intervals, as they are not consecutive in either half.
func (s *streamRec) phases(from, to, period int64, on func(time.Time) bool) (onP, offP *FloodPhase) {
	var halves [2][]arrival
	for _, a := range s.arr {
		if a.rxNs < from || a.rxNs >= to {
			continue
		}
		i := 0
		if on(time.Unix(0, a.rxNs)) {
			i = 1
		}
		halves[i] = append(halves[i], a)
	}
	ph := func(as []arrival) *FloodPhase {
		t := analyze(as, period)
		p := &FloodPhase{Interval: t.Interval, Reported: t.Reported}
		for _, a := range as {
			if a.flags&sensor.StatusSkipped != 0 {
				p.Skipped++
			}
		}
		return p
	}
	return ph(halves[1]), ph(halves[0])
}
