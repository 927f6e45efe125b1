package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/sensor/fusion/evaluate"
	"github.com/imustream/imustream/sensor/sim"
)

// End to end: calibrate the simulator lying level, run the daemon with the
// 9-axis filter holding roll 10°, pitch −5°, yaw 30°, record 6 s, and read
// the orientation back from the CSV: from 5 s on, roll and pitch within
// 0.5° and heading within 2° of the truth (the acceptance of the filter).
func TestFusionEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cal := filepath.Join(dir, "cal.json")
	if _, stderr, code := runCmd(t, "calibrate", "--sim", "--level", "--seconds", "5", "--out", cal); code != 0 {
		t.Fatalf("calibrate: exit %d\n%s", code, stderr)
	}
	simArgs := []string{"--sim-motion", "still", "--sim-pose", "roll=10,pitch=-5,yaw=30"}
	_, addr := startDaemon(t, append([]string{"--calibration", cal, "--fusion", "9"}, simArgs...)...)
	out := filepath.Join(dir, "still.csv")
	rec := startRecord(t, "--device", addr, "--duration", "6s", "--out", out)
	if code := rec.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("record: %v", rec)
	}
	rows := readCSV(t, out)
	for i, r := range rows {
		if r[14] == "" || r[17] == "" {
			t.Fatalf("row %d has no field or orientation: %q", i, r)
		}
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pose, _ := sim.ParsePose("roll=10,pitch=-5,yaw=30")
	e, err := evaluate.Recording(f, evaluate.RecordingConfig{Sim: sim.Opts{Seed: 1, Still: true, Pose: pose}, Skip: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("from 5 s on, through the daemon and the recorder: %v", e)
	if e.N < 50 || e.RollMax > 0.5 || e.PitchMax > 0.5 || e.HeadingMax > 2 {
		t.Errorf("%v; want ≥ 50 samples after 5 s, roll and pitch within 0.5°, heading within 2°", e)
	}
	// The same through the command.
	stdout, stderr, code := runCmd(t, append([]string{"evaluate", "--recording", out, "--skip", "5"}, simArgs...)...)
	if code != 0 || !strings.Contains(stdout, "rms error") || !strings.Contains(stdout, "max error") {
		t.Errorf("evaluate --recording: exit %d\n%s%s", code, stdout, stderr)
	}
}

// The in-process evaluation prints figures and writes the truth next to
// the estimate.
func TestEvaluateCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "truth.csv")
	stdout, stderr, code := runCmd(t, "evaluate", "--sim-motion", "scripted", "--seconds", "10", "--fusion", "6", "--out", out)
	if code != 0 || !strings.Contains(stdout, "heading drift") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0]+"\n" != evaluate.TruthCSVHeader || len(lines) != 2001 {
		t.Errorf("%d lines, header %q", len(lines), lines[0])
	}
	for _, args := range [][]string{
		{"evaluate", "--fusion", "off"},
		{"evaluate", "--fusion", "7"},
		{"evaluate", "--sim-pose", "roll=x"},
		{"evaluate", "--sim-motion", "wobbly"},
		{"evaluate", "--sim-hard-iron", "1,2"},
		{"run", "--sim", "--fusion", "9", "--batch", "22"},
		{"run", "--sim", "--fusion", "5"},
		{"run", "--sim", "--fusion", "9", "--fusion-gain", "-1"},
	} {
		if _, stderr, code := runCmd(t, args...); code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
			t.Errorf("%q: exit %d, want 2 with a short message:\n%s", args, code, stderr)
		}
	}
}
