// Package timesync estimates a daemon's clock against this host's from
// the four-timestamp exchanges of the control protocol's time command
// (docs/protocol.md, "Time sync"), and maps the device's sample times to
// this host's clocks.
//
// The estimator sees only the exchanges (control.TimeSample): this host's
// send and receive times and the daemon's receive and reply times. Over a
// sliding window it takes the offset from the smallest delay of each way
// (a queue or a late wake-up only ever adds delay, so each way's minimum
// is close to the bare delay, even when both ways were seldom quick in
// the same exchange) and the drift from the exchanges with the smallest
// round trips. A Syncer runs the exchanges beside a recording and
// publishes the latest Estimate for the receiving goroutine.
package timesync

import (
	"math"
	"slices"
	"time"

	"github.com/imustream/imustream/control"
)

// Estimate is the device's CLOCK_MONOTONIC as this host sees it: at this
// host's CLOCK_MONOTONIC t, the device's reads t + Offset + Drift·(t − Ref).
type Estimate struct {
	Ref    int64   // this host's CLOCK_MONOTONIC the fit is centred on, ns
	Offset int64   // device − this host at Ref, ns
	Drift  float64 // the offset's change per ns of this host's clock (1e-6 = 1 ppm)
	// WallMinusMono is this host's CLOCK_REALTIME − CLOCK_MONOTONIC at the
	// latest exchange: PC wall time = PC monotonic time + WallMinusMono.
	WallMinusMono int64
	RTT           int64 // the smallest round trip in the window, ns
	// Spread is half the largest RTT of the exchanges the fit used: a bound
	// on how far their way there and way back could differ.
	Spread    int64
	Used      int   // exchanges the fit used
	Window    int   // exchanges in the window
	Exchanges int64 // exchanges taken since the start (or the last reset)
	Resets    int64 // times the window was dropped because the device's clock jumped (a restart)
}

// OffsetAt returns the device − host offset at this host's monotonic t.
func (e Estimate) OffsetAt(t int64) int64 {
	return e.Offset + int64(math.Round(e.Drift*float64(t-e.Ref)))
}

// Mono returns this host's CLOCK_MONOTONIC at the device's monotonic dev.
func (e Estimate) Mono(dev int64) int64 {
	// dev = t + Offset + Drift·(t − Ref) solved for t; Drift ≪ 1.
	return e.Ref + int64(math.Round(float64(dev-e.Offset-e.Ref)/(1+e.Drift)))
}

// Wall returns this host's CLOCK_REALTIME (ns since the Unix epoch) at
// the device's monotonic dev: a sample's t_pc_ns.
func (e Estimate) Wall(dev int64) int64 { return e.Mono(dev) + e.WallMinusMono }

// Estimator defaults.
const (
	// DefaultWindow is how long an exchange stays in the window.
	DefaultWindow = 60 * time.Second
	// MaxWindow bounds the exchanges in the window.
	MaxWindow = 512
	// MinDriftSpan is the span of the kept exchanges from which the drift
	// is fitted; before, it is taken as 0: a slope over a short span is
	// mostly noise.
	MinDriftSpan = 10 * time.Second
	// MaxDrift bounds the fitted drift: crystals are within ±100 ppm.
	MaxDrift = 500e-6
)

// Estimator turns exchanges into Estimates. Use it from one goroutine.
// The zero value uses the defaults.
type Estimator struct {
	// Window is how long an exchange is kept; 0: DefaultWindow.
	Window time.Duration

	win  []control.TimeSample
	est  Estimate
	have bool
	n    int64
	rst  int64
}

// Add takes one exchange and returns the new estimate. An exchange whose
// offset disagrees with the estimate by more than a second plus its round
// trip means the device's clock restarted (a reboot): the window starts
// over from it.
func (e *Estimator) Add(s control.TimeSample) Estimate {
	if s.RTT() < 0 {
		return e.est // a broken exchange; ParseTimeReply keeps tx ≥ rx
	}
	mid := s.Sent + (s.Received-s.Sent)/2
	if e.have {
		if d := s.Offset() - e.est.OffsetAt(mid); d > int64(time.Second)+s.RTT() || -d > int64(time.Second)+s.RTT() {
			e.win = e.win[:0]
			e.rst++
		}
	}
	window := e.Window
	if window <= 0 {
		window = DefaultWindow
	}
	e.win = append(e.win, s)
	drop := 0
	for drop < len(e.win)-1 && (s.Received-e.win[drop].Received > int64(window) || len(e.win)-drop > MaxWindow) {
		drop++
	}
	e.win = append(e.win[:0], e.win[drop:]...)
	e.n++
	e.est = fit(e.win)
	e.est.WallMinusMono = s.ReceivedWall - s.Received
	e.est.Exchanges, e.est.Resets = e.n, e.rst
	e.have = true
	return e.est
}

// Estimate returns the latest estimate; ok is false before the first
// exchange.
func (e *Estimator) Estimate() (est Estimate, ok bool) { return e.est, e.have }

// fit finds the drift from the quarter of the exchanges with the smallest
// round trips (at least one, and all of them within 20 µs of the
// smallest): a line through their offsets over time, once they span
// MinDriftSpan, refined by refineDrift; and the offset from each way's
// smallest delay (minOffset).
func fit(win []control.TimeSample) Estimate {
	rtts := make([]int64, len(win))
	for i, s := range win {
		rtts[i] = s.RTT()
	}
	sorted := slices.Clone(rtts)
	slices.Sort(sorted)
	keep := max(1, len(sorted)/4)
	limit := max(sorted[keep-1], sorted[0]+20_000)
	// Relative to the first exchange: float64 holds ns exactly only up to
	// 2^53 (104 days of uptime).
	t0, o0 := win[0].Sent, win[0].Offset()
	var ts, os []float64
	var spread int64
	for i, s := range win {
		if rtts[i] <= limit {
			ts = append(ts, float64(s.Sent+(s.Received-s.Sent)/2-t0))
			os = append(os, float64(s.Offset()-o0))
			spread = max(spread, rtts[i]/2)
		}
	}
	var tm, om float64
	for i := range ts {
		tm += ts[i]
		om += os[i]
	}
	tm /= float64(len(ts))
	om /= float64(len(ts))
	var sxy, sxx float64
	for i := range ts {
		sxy += (ts[i] - tm) * (os[i] - om)
		sxx += (ts[i] - tm) * (ts[i] - tm)
	}
	drift := 0.0
	if span := slices.Max(ts) - slices.Min(ts); span >= float64(MinDriftSpan) && sxx > 0 && len(ts) > 2 {
		// Only a slope the scatter cannot explain (three standard errors):
		// a drift fitted to noise moves every later stamp.
		slope := sxy / sxx
		var rss float64
		for i := range ts {
			r := os[i] - om - slope*(ts[i]-tm)
			rss += r * r
		}
		if se := math.Sqrt(rss / float64(len(ts)-2) / sxx); math.Abs(slope) > 3*se {
			drift = max(-MaxDrift, min(MaxDrift, slope))
		}
	}
	ref := t0 + int64(math.Round(tm))
	if drift != 0 {
		for range 2 {
			drift = refineDrift(win, ref, drift)
		}
	}
	offset := minOffset(win, ref, drift)
	return Estimate{Ref: ref, Offset: offset, Drift: drift, RTT: sorted[0], Spread: spread, Used: len(ts), Window: len(win)}
}

// minOffset is the offset at ref from the smallest delay each way: the
// way there, T2 − T1, is the delay plus the offset, the way back, T4 − T3,
// the delay less it; each with the drift taken out. A queue or a slow
// wake-up only ever adds to a delay, so each way's minimum over the window
// comes close to its bare delay, however seldom both ways were quick in
// the same exchange, and the two bare delays are the same (NTP's
// assumption).
func minOffset(win []control.TimeSample, ref int64, drift float64) int64 {
	there, back := int64(math.MaxInt64), int64(math.MaxInt64)
	for _, s := range win {
		d := int64(math.Round(drift * float64(s.Sent+(s.Received-s.Sent)/2-ref)))
		there = min(there, s.Device.Rx-s.Sent-d)
		back = min(back, s.Received-s.Device.Tx+d)
	}
	return (there - back) / 2
}

// refineDrift corrects drift by what is left of it: the offset from the
// older half of the window's exchanges and from the newer half, each by
// minOffset with drift taken out, differ by the drift's error times the
// time between the halves.
func refineDrift(win []control.TimeSample, ref int64, drift float64) float64 {
	mid := func(s control.TimeSample) int64 { return s.Sent + (s.Received-s.Sent)/2 }
	split := mid(win[0]) + (mid(win[len(win)-1])-mid(win[0]))/2
	i := 0
	for i < len(win) && mid(win[i]) < split {
		i++
	}
	if i == 0 || i == len(win) {
		return drift
	}
	centre := func(w []control.TimeSample) float64 {
		return float64(mid(w[0])-ref)/2 + float64(mid(w[len(w)-1])-ref)/2
	}
	ta, tb := centre(win[:i]), centre(win[i:])
	if tb-ta < float64(MinDriftSpan)/2 {
		return drift
	}
	oa, ob := minOffset(win[:i], ref, drift), minOffset(win[i:], ref, drift)
	return max(-MaxDrift, min(MaxDrift, drift+float64(ob-oa)/(tb-ta)))
}
