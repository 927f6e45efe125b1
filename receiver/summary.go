package receiver

import (
	"fmt"
	"io"
	"math"
	"time"
)

// Summary is what a recording amounted to, from a Recorder's counters.
type Summary struct {
	Samples      uint64
	Span         time.Duration // device time from the first sample to the last
	RateHz       float64       // measured over Span
	NominalHz    uint16        // the rate the datagrams announce
	CountOffPct  float64       // samples against rate × time, in %
	Session      uint32        // the latest session
	Sessions     uint64        // sessions seen
	Lost         uint64
	Duplicated   uint64
	Reordered    uint64
	Late         uint64 // samples flagged late
	Skipped      uint64 // samples flagged as following skipped ticks
	SensorErrors uint64
	Malformed    uint64 // datagrams
	EndSeen      bool
}

// Summary sums up what r received.
func (r *Recorder) Summary() Summary {
	st, tr := r.Stats, &r.Track
	s := Summary{
		Samples: st.Samples, Span: time.Duration(st.LastMonoNs - st.FirstMonoNs), NominalHz: st.RateHz,
		Sessions: tr.Sessions, Lost: tr.Lost(), Duplicated: tr.Duplicates, Reordered: tr.Reordered,
		Late: st.Late, Skipped: st.Skipped, SensorErrors: st.SensorErrors, Malformed: st.Malformed, EndSeen: st.Ends > 0,
	}
	s.Session, _ = tr.Session()
	// The samples span Span plus one period: n samples, n-1 gaps.
	if expected := s.Span.Seconds()*float64(st.RateHz) + 1; st.RateHz > 0 && st.Samples > 0 {
		s.CountOffPct = (float64(st.Samples) - expected) / expected * 100
	}
	if s.Span > 0 {
		s.RateHz = float64(st.Samples-1) / s.Span.Seconds()
	}
	return s
}

// OK reports whether the recording passes the strict check: samples came,
// none was lost, and their count is within 1 % of rate × time.
func (s Summary) OK() bool {
	return s.Samples > 0 && s.Lost == 0 && math.Abs(s.CountOffPct) <= 1
}

// WriteText prints the summary as record does, naming the device.
func (s Summary) WriteText(w io.Writer, device string) {
	fmt.Fprintf(w, "recorded %d samples over %.3f s of device time from %s\n", s.Samples, s.Span.Seconds(), device)
	fmt.Fprintf(w, "  session        %08x (%d seen)\n", s.Session, s.Sessions)
	fmt.Fprintf(w, "  rate           %.2f Hz (nominal %d), count %+.2f %% vs rate × time\n", s.RateHz, s.NominalHz, s.CountOffPct)
	fmt.Fprintf(w, "  lost           %d\n", s.Lost)
	fmt.Fprintf(w, "  duplicated     %d\n", s.Duplicated)
	fmt.Fprintf(w, "  reordered      %d\n", s.Reordered)
	fmt.Fprintf(w, "  late ticks     %d\n", s.Late)
	fmt.Fprintf(w, "  skipped ticks  %d samples flagged\n", s.Skipped)
	fmt.Fprintf(w, "  sensor errors  %d\n", s.SensorErrors)
	fmt.Fprintf(w, "  malformed      %d datagrams\n", s.Malformed)
	fmt.Fprintf(w, "  end of stream  %v\n", s.EndSeen)
}

// LiveLine is the one-line progress a terminal shows while recording.
func (r *Recorder) LiveLine(elapsed time.Duration) string {
	st, tr := r.Stats, &r.Track
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(st.Samples) / s
	}
	return fmt.Sprintf("%6.1f s  %7.1f Hz  samples %d  lost %d  dup %d  reord %d  late %d  sensor_err %d ",
		elapsed.Seconds(), rate, st.Samples, tr.Lost(), tr.Duplicates, tr.Reordered, st.Late, st.SensorErrors)
}
