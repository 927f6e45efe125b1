package receiver

import (
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// A 200 Hz stream of 201 samples over 1 s passes; one lost sample, or a
// count 2 % short of rate × time, fails.
func TestSummary(t *testing.T) {
	const period = int64(5 * time.Millisecond)
	record := func(skip map[uint32]bool, n uint32) Summary {
		r := NewRecorder(nil)
		for seq := range n {
			if skip[seq] {
				continue
			}
			_ = r.Add(dgram(7, seq, sensor.Sample{MonoNs: 1e9 + int64(seq)*period}))
		}
		_ = r.Add(telemetry.AppendEnd(nil, 7, n, 200))
		return r.Summary()
	}
	s := record(nil, 201)
	if s.Samples != 201 || s.Span != time.Second || s.RateHz != 200 || s.CountOffPct != 0 || !s.EndSeen || s.Session != 7 || !s.OK() {
		t.Errorf("whole stream: %+v", s)
	}
	s = record(map[uint32]bool{100: true}, 201)
	if s.Lost != 1 || s.OK() {
		t.Errorf("one lost: %+v, OK %v", s, s.OK())
	}
	// 197 samples over 1.2 s of device time: late starts are not loss,
	// but the count is off.
	r := NewRecorder(nil)
	for i := range 197 {
		_ = r.Add(dgram(7, uint32(i), sensor.Sample{MonoNs: 1e9 + int64(i)*period*6/5}))
	}
	if s := r.Summary(); s.OK() || s.CountOffPct > -10 {
		t.Errorf("count off: %+v, OK %v", s, s.OK())
	}
	if s := NewRecorder(nil).Summary(); s.OK() {
		t.Error("nothing recorded passes")
	}
	var b strings.Builder
	record(nil, 201).WriteText(&b, "pi:7600")
	for _, want := range []string{"recorded 201 samples over 1.000 s of device time from pi:7600", "lost           0", "end of stream  true", "session        00000007 (1 seen)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}
