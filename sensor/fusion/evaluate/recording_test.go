package evaluate

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/fusion"
	"github.com/imustream/imustream/sensor/sim"
)

// A recording written from the in-process run gives the same figures as
// the run itself: the truth is recomputed from the timestamps.
func TestRecordingMatchesRun(t *testing.T) {
	so := sim.Opts{Seed: 2, Scripted: true, Pose: pose}
	var b strings.Builder
	b.WriteString("session,seq,t_mono_ns,flags,qw,qx,qy,qz,extra\n")
	seq := 0
	cfg := Config{Sim: so, Calibration: levelCalibration(t, 2), Fusion: fusion.Opts{Mode: fusion.NineAxis}, Seconds: 20, Skip: 1,
		Row: func(s *sensor.Sample, _ [3]float64) {
			fmt.Fprintf(&b, "0000abcd,%d,%d,%d,%v,%v,%v,%v,x\n", seq, s.MonoNs+5e9, uint16(s.Status), s.Quat[0], s.Quat[1], s.Quat[2], s.Quat[3])
			seq++
		}}
	want, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Recording(strings.NewReader(b.String()), RecordingConfig{Sim: so, Skip: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got.N != want.N || math.Abs(got.HeadingRMS-want.HeadingRMS) > 1e-3 || math.Abs(got.RollRMS-want.RollRMS) > 1e-3 {
		t.Errorf("from the recording %v\nin process         %v", got, want)
	}
}

func TestRecordingRefuses(t *testing.T) {
	for _, tc := range []struct{ csv, says string }{
		{"", "header"},
		{"session,t_mono_ns,flags,qw,qx,qy\n", "no column qz"},
		{"session,t_mono_ns,flags,qw,qx,qy,qz\na,1,128,1,0,0,0\nb,2,128,1,0,0,0\n", "second session"},
		{"session,t_mono_ns,flags,qw,qx,qy,qz\na,x,128,1,0,0,0\n", "line 2"},
		{"session,t_mono_ns,flags,qw,qx,qy,qz\na,1,128,,0,0,0\n", "qw"},
		{"session,t_mono_ns,flags,qw,qx,qy,qz\na,1,0,,,,\n", "no orientation"},
		{"session,t_mono_ns,flags,qw,qx,qy,qz\na,1,128,NaN,0,0,0\n", "not a unit quaternion"},
		{"session,t_mono_ns,flags,qw,qx,qy,qz\na,1,128,2,0,0,0\n", "not a unit quaternion"},
	} {
		_, err := Recording(strings.NewReader(tc.csv), RecordingConfig{})
		if err == nil || !strings.Contains(err.Error(), tc.says) || !strings.HasPrefix(err.Error(), "evaluate: ") {
			t.Errorf("%q: %v; want %q", tc.csv, err, tc.says)
		}
		if err != nil && tc.says != "no orientation" && !errors.Is(err, ErrRecording) {
			t.Errorf("%q: %v does not wrap ErrRecording", tc.csv, err)
		}
	}
}
