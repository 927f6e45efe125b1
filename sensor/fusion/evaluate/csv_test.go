package evaluate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/fusion"
	"github.com/imustream/imustream/sensor/sim"
)

// TestTruthCSVFromRunAndFile: the rows Sample writes in process and those
// Row writes from the same samples recorded to a file agree, and the text
// evaluate prints has the figures.
func TestTruthCSVFromRunAndFile(t *testing.T) {
	so := sim.Opts{Seed: 2, Still: true, Pose: pose}
	var rec, inProc strings.Builder
	rec.WriteString("session,seq,t_mono_ns,flags,qw,qx,qy,qz\n")
	truth := NewTruthCSV(&inProc)
	seq := 0
	cfg := Config{Sim: so, Fusion: fusion.Opts{Mode: fusion.SixAxis}, Seconds: 2,
		Row: func(s *sensor.Sample, tr [3]float64) {
			truth.Sample(s, tr)
			fmt.Fprintf(&rec, "0000abcd,%d,%d,%d,%v,%v,%v,%v\n", seq, s.MonoNs, uint16(s.Status), s.Quat[0], s.Quat[1], s.Quat[2], s.Quat[3])
			seq++
		}}
	e, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := truth.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rec.csv")
	if err := os.WriteFile(path, []byte(rec.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var fromFile strings.Builder
	truth2 := NewTruthCSV(&fromFile)
	e2, err := RecordingFile(path, RecordingConfig{Sim: so, Row: truth2.Row})
	if err != nil {
		t.Fatal(err)
	}
	if err := truth2.Flush(); err != nil {
		t.Fatal(err)
	}
	a, b := strings.Split(inProc.String(), "\n"), strings.Split(fromFile.String(), "\n")
	if a[0]+"\n" != TruthCSVHeader || len(a) != e.N+2 || len(b) != len(a) || e2.N != e.N {
		t.Fatalf("in process %d lines (n %d), from the file %d (n %d)", len(a), e.N, len(b), e2.N)
	}
	// The same time and truth; the quaternion went through %v.
	for i := 1; i < len(a)-1; i++ {
		fa, fb := strings.Split(a[i], ","), strings.Split(b[i], ",")
		if fa[0] != fb[0] || fa[5] != fb[5] || fa[7] != fb[7] {
			t.Fatalf("row %d: %s\nvs       %s", i, a[i], b[i])
		}
	}
	var out strings.Builder
	e.WriteText(&out)
	if !strings.HasPrefix(out.String(), fmt.Sprintf("samples       %d\nrms error     roll ", e.N)) || !strings.Contains(out.String(), "heading drift ") {
		t.Errorf("text:\n%s", out.String())
	}
	if _, err := RecordingFile(filepath.Join(t.TempDir(), "missing.csv"), RecordingConfig{Sim: so}); err == nil {
		t.Error("RecordingFile of a missing file: no error")
	}
}
