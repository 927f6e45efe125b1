package receiver

import (
	"fmt"
	"math"
	"time"

	"github.com/imustream/imustream/sensor"
)

// SessionGap is a change of session during a recording: the daemon
// restarted the stream (it was restarted itself, or the stream's lease ran
// out and a refresh started a new one). The samples between the two
// sessions never reached the receiver.
type SessionGap struct {
	From     string `json:"from"` // sessions, 8 hex digits as in the CSV
	To       string `json:"to"`
	AfterSeq uint32 `json:"after_seq"` // the highest seq received of From
	// Known says that the device's clock went on across the gap (its
	// t_mono_ns grew and its boot time, t_wall_ns − t_mono_ns, stayed within
	// a second), so Duration and Missing hold. Across a reboot they are
	// unknown.
	Known    bool          `json:"known"`
	Duration time.Duration `json:"duration_ns"` // device time from From's last sample to To's first
	Missing  uint64        `json:"missing"`     // samples the gap spans at To's rate
}

// maxGaps bounds the gaps a recording lists; the totals count them all.
const maxGaps = 64

// bootSlack is how far the device's boot time on its wall clock may move
// across a gap for its clock to count as the same: NTP slews it by at most
// 500 ppm, so 1 s plus 1 ms per second of gap.
func bootSlack(gapNs int64) int64 { return int64(time.Second) + gapNs/1000 }

// spans follows the device time a recording covers across sessions, and
// what is missing between them and at their ends. Only sample runs on the
// hot path; the rest runs once per session or per end of stream.
type spans struct {
	started     bool
	session     uint32
	counted     bool  // a sample of this session was recorded
	first, last int64 // t_mono_ns of this session's earliest and latest sample
	boot        int64 // t_wall_ns − t_mono_ns of the latest sample
	ended       bool  // this session's end of stream arrived
	endNext     uint32

	closedNs    int64  // device time of the earlier sessions and the known gaps between them
	segments    uint64 // earlier runs of sessions on one clock, ended by an unknown gap
	tailLost    uint64 // earlier sessions' samples missing before their end of stream
	gapLost     uint64 // samples in the known gaps
	unknownGaps uint64
	gaps        []SessionGap // the first maxGaps
	lastGap     SessionGap
	anyGap      bool
}

func (p *spans) sample(s *sensor.Sample) {
	switch {
	case !p.counted:
		p.counted, p.first, p.last, p.boot = true, s.MonoNs, s.MonoNs, s.WallNs-s.MonoNs
	case s.MonoNs > p.last:
		p.last, p.boot = s.MonoNs, s.WallNs-s.MonoNs
	case s.MonoNs < p.first:
		p.first = s.MonoNs
	}
}

// end notes an end of stream: its seq is the one the next sample would
// have had, so samples before it that never came are lost.
func (p *spans) end(session, next uint32) {
	if p.started && session == p.session && !p.ended {
		p.ended, p.endNext = true, next
	}
}

// tail returns the samples missing at the end of the current session.
func (p *spans) tail(highest uint32) uint64 {
	if !p.ended || !p.counted {
		return 0
	}
	if d := int32(p.endNext - (highest + 1)); d > 0 {
		return uint64(d)
	}
	return 0
}

// change closes the current session, whose highest seq is highest, and
// opens session, whose first sample is s and rate rateHz.
func (p *spans) change(session uint32, rateHz uint16, highest uint32, s *sensor.Sample) {
	if p.started && session == p.session {
		return
	}
	if p.counted {
		tail := p.tail(highest)
		p.tailLost += tail
		p.closedNs += p.last - p.first
		g := SessionGap{From: fmt.Sprintf("%08x", p.session), To: fmt.Sprintf("%08x", session), AfterSeq: highest}
		gapNs := s.MonoNs - p.last
		if d := s.WallNs - s.MonoNs - p.boot; gapNs > 0 && max(d, -d) <= bootSlack(gapNs) {
			g.Known, g.Duration = true, time.Duration(gapNs)
			// The lost tail lies in the gap too: count it once.
			if n := math.Round(float64(gapNs)*float64(rateHz)/1e9) - 1 - float64(tail); n > 0 {
				g.Missing = uint64(n)
			}
			p.closedNs += gapNs
			p.gapLost += g.Missing
		} else {
			p.unknownGaps++
			p.segments++
		}
		if len(p.gaps) < maxGaps {
			p.gaps = append(p.gaps, g)
		}
		p.lastGap, p.anyGap = g, true
	}
	*p = spans{
		started: true, session: session,
		closedNs: p.closedNs, segments: p.segments, tailLost: p.tailLost,
		gapLost: p.gapLost, unknownGaps: p.unknownGaps, gaps: p.gaps,
		lastGap: p.lastGap, anyGap: p.anyGap,
	}
}

// covered returns the device time the recording covers and the runs of
// sessions on one clock it is made of, given whether any sample was
// recorded.
func (p *spans) covered(any bool) (time.Duration, uint64) {
	if !any {
		return 0, 0
	}
	ns := p.closedNs
	if p.counted {
		ns += p.last - p.first
	}
	return time.Duration(ns), p.segments + 1
}

// LastGap returns the latest change of session, if there was one.
func (r *Recorder) LastGap() (SessionGap, bool) { return r.spans.lastGap, r.spans.anyGap }

// String says what the gap means for the recording.
func (g SessionGap) String() string {
	if !g.Known {
		return fmt.Sprintf("the stream restarted (session %s after seq %d, now %s); the device's clock changed (rebooted?), so how many samples are missing is unknown", g.From, g.AfterSeq, g.To)
	}
	return fmt.Sprintf("the stream restarted (session %s after seq %d, now %s): %d samples missing over %.3f s of device time", g.From, g.AfterSeq, g.To, g.Missing, g.Duration.Seconds())
}
