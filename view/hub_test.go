package view

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/dropq"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

type frameMsg struct {
	Type    string
	Frame   uint64
	N       uint64
	Total   uint64
	Session []string
	Seq     []uint32
	Mono    []string
	Ax, Az  []*float64
	Temp    []*float64
	Mx      []*float64
	P       []*float64
	Health  *struct {
		Running       bool
		NominalHz     uint16
		Samples, Lost uint64
		JitterEdgesUs []int64
		Jitter        []uint64
	}
}

// TestHubDecimatesAndCounts: 1 kHz to 250 points a second keeps every
// 4th sample as it was; the frame counts all of them, and the jitter
// histogram has every interval.
func TestHubDecimatesAndCounts(t *testing.T) {
	h := NewHub(HubConfig{PointsPerSecond: 250})
	p := &page{q: dropq.New(4)}
	h.add(p)
	hd := &telemetry.Header{Session: 0xabc, RateHz: 1000}
	for seq := range uint32(100) {
		mono := int64(5e9) + int64(seq)*int64(time.Millisecond)
		if seq == 50 {
			mono += 150 * int64(time.Microsecond) // one late sample: +150 µs, then -150 µs
		}
		s := sensor.Sample{MonoNs: mono, Accel: [3]float32{float32(seq) / 3, 0, 9.80665}, TempC: 25, Status: sensor.StatusPressure, PressurePa: 101325}
		if seq == 10 {
			s.Status |= sensor.StatusMag
			s.Mag = [3]float32{1, 2, 3}
		}
		h.Sample(hd, seq, &s)
	}
	b := h.frame(nil, 1, true, time.Now())
	var f frameMsg
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if f.Type != "data" || f.N != 100 || f.Total != 100 || len(f.Seq) != 25 {
		t.Fatalf("frame: type %q, n %d, total %d, %d points; want data, 100, 100, 25", f.Type, f.N, f.Total, len(f.Seq))
	}
	for i, seq := range f.Seq {
		if seq != uint32(4*i) || f.Session[i] != "00000abc" || float32(*f.Ax[i]) != float32(seq)/3 || float32(*f.Az[i]) != float32(9.80665) {
			t.Fatalf("point %d: seq %d session %s ax %v az %v", i, seq, f.Session[i], *f.Ax[i], *f.Az[i])
		}
		if mono, _ := strconv.ParseInt(f.Mono[i], 10, 64); mono < 5e9 {
			t.Fatalf("point %d: mono %s", i, f.Mono[i])
		}
		// Magnetometer only where the sample had one (seq 10 was not kept).
		if f.Mx[i] != nil || f.P[i] == nil || *f.P[i] != 101325 {
			t.Fatalf("point %d: mx %v p %v", i, f.Mx[i], f.P[i])
		}
	}
	if f.Health == nil || f.Health.NominalHz != 1000 {
		t.Fatalf("health %+v", f.Health)
	}
	var all uint64
	for _, n := range f.Health.Jitter {
		all += n
	}
	mid := len(JitterEdgesUs) / 2 // -10..10 µs
	if all != 99 || f.Health.Jitter[mid] != 97 || f.Health.Jitter[mid+4] != 1 || f.Health.Jitter[3] != 1 {
		t.Fatalf("jitter %v over edges %v: want 97 at ±10 µs, 1 at 100..200, 1 at -200..-100", f.Health.Jitter, f.Health.JitterEdgesUs)
	}
	// The next frame has only what came since.
	var f2 frameMsg
	if err := json.Unmarshal(h.frame(nil, 2, false, time.Now()), &f2); err != nil || f2.N != 0 || len(f2.Seq) != 0 || f2.Health != nil {
		t.Fatalf("second frame %+v, %v", f2, err)
	}
}

// TestHubSlowPage: a page that never reads loses frames, counted, and
// the samples keep coming.
func TestHubSlowPage(t *testing.T) {
	h := NewHub(HubConfig{Queue: 2})
	p := &page{q: dropq.New(2)}
	h.add(p)
	hd := &telemetry.Header{Session: 1, RateHz: 200}
	for i := range uint32(10) {
		h.Sample(hd, i, &sensor.Sample{MonoNs: int64(i) * 5e6})
		h.broadcast(h.frame(nil, uint64(i+1), false, time.Now()))
	}
	if st := h.Stats(); st.Frames != 10 || st.Dropped != 9 || st.Samples != 10 { // the hello, then 10 frames into 2 places
		t.Fatalf("stats %+v: want 10 frames, 9 dropped, 10 samples", st)
	}
}

// BenchmarkHubSample: the view's cost on the receive path, per sample.
func BenchmarkHubSample(b *testing.B) {
	h := NewHub(HubConfig{})
	hd := &telemetry.Header{Session: 1, RateHz: 1000}
	s := sensor.Sample{Accel: [3]float32{1, 2, 3}}
	b.ReportAllocs()
	var seq uint32
	for b.Loop() {
		s.MonoNs += 1e6
		h.Sample(hd, seq, &s)
		seq++
		if seq%30 == 0 {
			h.frame(nil, 0, false, time.Now())
		}
	}
}

// TestHubKicksPerFramePeriod: the receive path wakes the frame loop once
// per frame period of device time (and at a clock going back, a new
// run), not per sample.
func TestHubKicksPerFramePeriod(t *testing.T) {
	h := NewHub(HubConfig{FPS: 50}) // 20 ms
	hd := &telemetry.Header{Session: 1, RateHz: 1000}
	kicks := 0
	feed := func(from, n int64) {
		for i := range n {
			h.Sample(hd, uint32(from+i), &sensor.Sample{MonoNs: (from + i) * int64(time.Millisecond)})
			select {
			case <-h.kick:
				kicks++
			default:
			}
		}
	}
	feed(1000, 100) // 100 ms of device time: the first sample and every 20 ms after
	if kicks != 5 {
		t.Fatalf("%d kicks over 100 ms at 50 FPS, want 5", kicks)
	}
	feed(10, 1) // device time went back
	if kicks != 6 {
		t.Fatalf("no kick when the device time went back")
	}
}
