package receiver

import (
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

const period = int64(5 * time.Millisecond) // 200 Hz

// stream feeds r n samples of session from seq, one per datagram, the
// first read at mono on a device that booted at boot (wall clock, ns).
func stream(t *testing.T, r *Recorder, session, seq uint32, n int, mono, boot int64) {
	t.Helper()
	for i := range n {
		m := mono + int64(i)*period
		if err := r.Add(dgram(session, seq+uint32(i), sensor.Sample{MonoNs: m, WallNs: boot + m})); err != nil {
			t.Fatal(err)
		}
	}
}

func summaryText(s Summary) string {
	var b strings.Builder
	s.WriteText(&b, "pi:7600")
	return b.String()
}

// TestSummarySessionGap: the daemon restarts the stream on the same clock
// after 1 s: the 199 samples it never sent are lost, between sessions,
// and the summary says so instead of "lost 0" next to a count 33 % short.
func TestSummarySessionGap(t *testing.T) {
	const boot = int64(1_767_225_600_000_000_000)
	r := NewRecorder(nil)
	stream(t, r, 0xa, 0, 200, 1e9, boot)
	last := int64(1e9) + 199*period
	stream(t, r, 0xb, 77, 200, last+int64(time.Second), boot+3e6) // NTP moved the clock 3 ms
	s := r.Summary()
	if s.Sessions != 2 || s.Lost != 199 || s.LostBetween != 199 || s.UnknownGaps != 0 || s.OK() {
		t.Errorf("summary %+v, OK %v; want 2 sessions, 199 lost between them, not OK", s, s.OK())
	}
	if want := 199*period*2 + int64(time.Second); int64(s.Span) != want {
		t.Errorf("span %v, want %v: both sessions and the gap", s.Span, time.Duration(want))
	}
	// 400 samples where 599 fit: the count is as short as the loss says.
	if want := (400.0 - 599) / 599 * 100; s.CountOffPct < want-0.01 || s.CountOffPct > want+0.01 {
		t.Errorf("count off %.2f %%, want %.2f %%", s.CountOffPct, want)
	}
	if len(s.Gaps) != 1 || s.Gaps[0] != (SessionGap{From: "0000000a", To: "0000000b", AfterSeq: 199, Known: true, Duration: time.Second, Missing: 199}) {
		t.Errorf("gaps %+v", s.Gaps)
	}
	if g, ok := r.LastGap(); !ok || !strings.Contains(g.String(), "199 samples missing over 1.000 s") {
		t.Errorf("LastGap %q, %v", g, ok)
	}
	text := summaryText(s)
	for _, want := range []string{"lost           199 (199 of them between sessions", "(2 seen: the stream restarted 1 time)"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
}

// TestSummaryUnknownGap: after a reboot (the device's clock starts again)
// or a clock step, the gap cannot be measured: the summary says that loss
// is unknown, the strict check fails, and the count is checked per run.
func TestSummaryUnknownGap(t *testing.T) {
	const boot = int64(1_767_225_600_000_000_000)
	for _, tc := range []struct {
		name       string
		mono, boot int64
	}{
		{"reboot", 2e9, boot + 3600e9},                  // t_mono_ns starts again
		{"clock stepped", 1e9 + 300*period, boot + 5e9}, // t_mono_ns goes on, the boot time jumps
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRecorder(nil)
			stream(t, r, 1, 0, 200, 1e9, boot)
			stream(t, r, 2, 0, 200, tc.mono, tc.boot)
			s := r.Summary()
			if s.UnknownGaps != 1 || s.Lost != 0 || s.LostBetween != 0 || s.OK() || len(s.Gaps) != 1 || s.Gaps[0].Known {
				t.Errorf("summary %+v, OK %v; want one unknown gap, not OK", s, s.OK())
			}
			if int64(s.Span) != 2*199*period || s.CountOffPct != 0 {
				t.Errorf("span %v, count off %.2f %%; want the two sessions' spans and 0", s.Span, s.CountOffPct)
			}
			text := summaryText(s)
			if !strings.Contains(text, "lost           at least 0, and 1 gap between sessions of unknown length") || strings.Contains(text, "lost           0\n") {
				t.Errorf("summary does not say the loss is unknown:\n%s", text)
			}
		})
	}
}

// TestSummaryTailLost: the end of stream says which seq would have come
// next; samples before it that never arrived are lost.
func TestSummaryTailLost(t *testing.T) {
	r := NewRecorder(nil)
	stream(t, r, 5, 10, 100, 1e9, 0)
	if err := r.Add(telemetry.AppendEnd(nil, 4, 999, 200)); err != nil { // another session's: ignored
		t.Fatal(err)
	}
	if err := r.Add(telemetry.AppendEnd(nil, 5, 113, 200)); err != nil {
		t.Fatal(err)
	}
	if s := r.Summary(); s.Lost != 3 || !s.EndSeen || s.OK() {
		t.Errorf("summary %+v; want 3 lost at the end", s)
	}
	// A new session 101 periods after the last sample: the 3 of the tail
	// and 97 more are missing between them.
	stream(t, r, 6, 0, 10, 1e9+200*period, 0)
	if s := r.Summary(); s.Lost != 100 || s.LostBetween != 97 {
		t.Errorf("summary %+v; want the 3 of the tail and 97 between sessions", s)
	}
}

// TestRecorderStopAfter: a recording of 1 s keeps the samples less than
// 1 s of device time after the first, whenever the stream is stopped.
func TestRecorderStopAfter(t *testing.T) {
	var buf strings.Builder
	r := NewRecorder(&buf)
	r.StopAfter(time.Second)
	stream(t, r, 9, 0, 199, 7e9, 0)
	if r.Full() {
		t.Fatal("full before the span was recorded")
	}
	stream(t, r, 9, 199, 100, 7e9+199*period, 0)
	if err := r.Add(telemetry.AppendEnd(nil, 9, 299, 200)); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	s := r.Summary()
	if !r.Full() || s.Samples != 200 || r.Stats.PastEnd != 99 || s.Span != time.Second-time.Duration(period) || s.Lost != 0 || !s.OK() {
		t.Errorf("Full %v, summary %+v; want 200 samples over 995 ms, 99 past the end, none lost", r.Full(), s)
	}
	if rows := parseRecording(t, []byte(buf.String())); len(rows) != 200 || rows[199].mono != 7e9+199*period {
		t.Errorf("%d rows; want 200, up to 995 ms", len(rows))
	}
}
