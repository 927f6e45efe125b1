package receiver

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/imustream/imustream/timesync"
)

// Summary is what a recording amounted to, from a Recorder's counters.
// Its JSON form is the summary in a recording's sidecar.
type Summary struct {
	Samples uint64 `json:"samples"`
	// Span is the device time the recording covers: each session from its
	// first sample to its last, and the known gaps between sessions.
	Span        time.Duration `json:"span_ns"`
	RateHz      float64       `json:"rate_hz"`         // measured over Span
	NominalHz   uint16        `json:"nominal_rate_hz"` // the rate the datagrams announce
	CountOffPct float64       `json:"count_off_pct"`   // samples against rate × time, in %
	Session     uint32        `json:"-"`               // the latest session
	Sessions    uint64        `json:"sessions"`        // sessions seen
	// Lost counts the samples missing: in transit within a session, before
	// an end of stream, and in the known gaps between sessions.
	Lost        uint64 `json:"lost"`
	LostBetween uint64 `json:"lost_between_sessions"` // of Lost, in the gaps between sessions
	// UnknownGaps counts the gaps between sessions across which the
	// device's clock changed (a reboot): what they miss is unknown.
	UnknownGaps  uint64       `json:"unknown_gaps"`
	Gaps         []SessionGap `json:"gaps"`
	Duplicated   uint64       `json:"duplicated"`
	Reordered    uint64       `json:"reordered"`
	Late         uint64       `json:"late"`    // samples flagged late
	Skipped      uint64       `json:"skipped"` // samples flagged as following skipped ticks
	SensorErrors uint64       `json:"sensor_errors"`
	Malformed    uint64       `json:"malformed"`     // datagrams
	PastEnd      uint64       `json:"past_duration"` // samples after the span asked for, not recorded
	EndSeen      bool         `json:"end_seen"`

	// Auth says how the datagrams were told from forgeries: AuthTag,
	// AuthSource or AuthNone. Forged and WrongSource count the datagrams
	// dropped by the first two, Suspicious those set aside for their seq
	// or session (Tracker.Admit). They are not loss, but for the samples of
	// a far jump that later datagrams confirmed.
	Auth        string `json:"auth"`
	Forged      uint64 `json:"forged"`
	WrongSource uint64 `json:"wrong_source"`
	Suspicious  uint64 `json:"suspicious"`
}

// The values of Summary.Auth.
const (
	AuthTag    = "hmac-sha256" // every datagram's tag checked (a key)
	AuthSource = "source"      // only datagrams from the start reply's src= taken
	AuthNone   = "none"        // neither: no key, and no src= to check
)

// Summary sums up what r received.
func (r *Recorder) Summary() Summary {
	st, tr := r.Stats, &r.Track
	s := Summary{
		Samples: st.Samples, NominalHz: st.RateHz,
		Sessions: tr.Sessions, Duplicated: tr.Duplicates, Reordered: tr.Reordered,
		Late: st.Late, Skipped: st.Skipped, SensorErrors: st.SensorErrors, Malformed: st.Malformed,
		PastEnd: st.PastEnd, EndSeen: st.Ends > 0,
		Auth: cmp.Or(r.auth, AuthNone), Forged: st.Forged, WrongSource: st.WrongSource, Suspicious: tr.Suspicious,
		LostBetween: r.spans.gapLost, UnknownGaps: r.spans.unknownGaps,
		Gaps: append([]SessionGap{}, r.spans.gaps...),
	}
	s.Session, _ = tr.Session()
	s.Lost = tr.Lost() + r.spans.tailLost + r.spans.gapLost
	if highest, ok := tr.Highest(); ok && !r.full { // past the span, the tail is not wanted
		s.Lost += r.spans.tail(highest)
	}
	span, runs := r.spans.covered(st.Samples > 0)
	s.Span = span
	// Each run of n samples spans n-1 periods.
	if expected := s.Span.Seconds()*float64(st.RateHz) + float64(runs); st.RateHz > 0 && st.Samples > 0 {
		s.CountOffPct = (float64(st.Samples) - expected) / expected * 100
	}
	if s.Span > 0 && st.Samples > runs {
		s.RateHz = float64(st.Samples-runs) / s.Span.Seconds()
	}
	return s
}

// OK reports whether the recording passes the strict check: samples came,
// none is missing (nor an unknown number of them), and their count is
// within 1 % of rate × time.
func (s Summary) OK() bool {
	return s.Samples > 0 && s.Lost == 0 && s.UnknownGaps == 0 && math.Abs(s.CountOffPct) <= 1
}

// WriteText prints the summary as record does, naming the device.
func (s Summary) WriteText(w io.Writer, device string) {
	fmt.Fprintf(w, "recorded %d samples over %.3f s of device time from %s\n", s.Samples, s.Span.Seconds(), device)
	if s.Sessions > 1 {
		fmt.Fprintf(w, "  session        %08x (%d seen: the stream restarted %s)\n", s.Session, s.Sessions, plural(s.Sessions-1, "time"))
	} else {
		fmt.Fprintf(w, "  session        %08x (%d seen)\n", s.Session, s.Sessions)
	}
	fmt.Fprintf(w, "  rate           %.2f Hz (nominal %d), count %+.2f %% vs rate × time\n", s.RateHz, s.NominalHz, s.CountOffPct)
	switch {
	case s.UnknownGaps > 0:
		fmt.Fprintf(w, "  lost           at least %d, and %s between sessions of unknown length (the device's clock changed: rebooted?)\n", s.Lost, plural(s.UnknownGaps, "gap"))
	case s.LostBetween > 0:
		fmt.Fprintf(w, "  lost           %d (%d of them between sessions, while the stream was down)\n", s.Lost, s.LostBetween)
	default:
		fmt.Fprintf(w, "  lost           %d\n", s.Lost)
	}
	fmt.Fprintf(w, "  duplicated     %d\n", s.Duplicated)
	fmt.Fprintf(w, "  reordered      %d\n", s.Reordered)
	fmt.Fprintf(w, "  late ticks     %d\n", s.Late)
	fmt.Fprintf(w, "  skipped ticks  %d samples flagged\n", s.Skipped)
	fmt.Fprintf(w, "  sensor errors  %d\n", s.SensorErrors)
	fmt.Fprintf(w, "  malformed      %d datagrams\n", s.Malformed)
	if s.Auth == AuthTag || s.Forged > 0 {
		fmt.Fprintf(w, "  forged         %s dropped (tag missing or wrong)\n", plural(s.Forged, "datagram"))
	}
	if s.Auth == AuthSource || s.WrongSource > 0 {
		fmt.Fprintf(w, "  wrong source   %s dropped (not from the address the daemon named)\n", plural(s.WrongSource, "datagram"))
	}
	if s.Auth == AuthNone {
		fmt.Fprintln(w, "  forged         not checked (no key, and the daemon named no source address)")
	}
	fmt.Fprintf(w, "  suspicious     %s set aside (seq far outside the session's window, or an earlier session)\n", plural(s.Suspicious, "datagram"))
	fmt.Fprintf(w, "  end of stream  %v\n", s.EndSeen)
}

func plural(n uint64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Progress is how a running recording goes, for a live view.
type Progress struct {
	// Started says that the first sample came; the rest counts from it.
	Started bool
	Elapsed time.Duration // since the first sample arrived
	Samples uint64
	// Lost, Duplicated and Reordered are the Tracker's counts so far;
	// Late and SensorErrors count flagged samples.
	Lost, Duplicated, Reordered, Late, SensorErrors uint64
	// Written is the bytes in the file so far.
	Written int64
	// Sync is the time sync's latest estimate, when Synced.
	Sync   timesync.Estimate
	Synced bool
}

// progress is r's Progress, elapsed after its first sample arrived.
func (r *Recorder) progress(elapsed time.Duration) Progress {
	st, tr := r.Stats, &r.Track
	return Progress{
		Started: true, Elapsed: elapsed, Samples: st.Samples,
		Lost: tr.Lost(), Duplicated: tr.Duplicates, Reordered: tr.Reordered,
		Late: st.Late, SensorErrors: st.SensorErrors, Written: r.Written(),
	}
}

// String is the one line of progress a terminal shows while recording.
func (p Progress) String() string {
	if !p.Started {
		return "waiting for the first sample"
	}
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Samples) / s
	}
	line := fmt.Sprintf("%6.1f s  %7.1f Hz  samples %d  lost %d  dup %d  reord %d  late %d  sensor_err %d  %s",
		p.Elapsed.Seconds(), rate, p.Samples, p.Lost, p.Duplicated, p.Reordered, p.Late, p.SensorErrors, Bytes(p.Written))
	if p.Synced {
		e := p.Sync
		line += fmt.Sprintf("  clock %s rtt %s %+.1fppm", Nanos(e.OffsetAt(e.Ref)), Nanos(e.RTT), e.Drift*1e6)
	}
	return line + " "
}

// Bytes formats a file size: 812 B, 64.0 KiB, 3.2 MiB.
func Bytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// Nanos formats a time offset or round trip at µs resolution, in s past
// 10 s (a device clock counts from its boot, far from the PC's).
func Nanos(ns int64) string {
	if ns >= 10e9 || ns <= -10e9 {
		return fmt.Sprintf("%+.6f s", float64(ns)/1e9)
	}
	return time.Duration(ns).Round(time.Microsecond).String()
}
