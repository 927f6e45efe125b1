package receiver

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// The field and the orientation reach the CSV from 84-byte records, each
// only with its flag, and never from shorter records.
func TestRecorderMagQuat(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	var samples []sensor.Sample
	for i := range 8 {
		s := randSample(rng, int64(i+1)*5e6)
		for k := range 4 {
			if k < 3 {
				s.Mag[k] = randFloat32(rng)
			}
			s.Quat[k] = randFloat32(rng)
		}
		s.Status &^= sensor.StatusMag | sensor.StatusOrientation
		s.Status |= sensor.Status(i%4) << 6 // every combination of bits 6 and 7
		samples = append(samples, s)
	}
	var buf bytes.Buffer
	r := NewRecorder(&buf)
	h := telemetry.Header{Session: 7, Seq: 0, RateHz: 200}
	if err := r.Add(telemetry.AppendDatagramMagQuat(nil, h, samples[:4])); err != nil {
		t.Fatal(err)
	}
	h.Seq = 4
	if err := r.Add(telemetry.AppendDatagramPressure(nil, h, samples[4:])); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	rows := parseRecording(t, buf.Bytes())
	if len(rows) != 8 {
		t.Fatalf("%d rows", len(rows))
	}
	f := func(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
	for i, row := range rows {
		s := samples[i]
		var want [7]string
		if i < 4 && s.Status&sensor.StatusMag != 0 {
			want[0], want[1], want[2] = f(s.Mag[0]), f(s.Mag[1]), f(s.Mag[2])
		}
		if i < 4 && s.Status&sensor.StatusOrientation != 0 {
			for k := range 4 {
				want[3+k] = f(s.Quat[k])
			}
		}
		if row.magQuat != want {
			t.Errorf("row %d (flags %#x): %q, want %q", i, s.Status, row.magQuat, want)
		}
	}
}
