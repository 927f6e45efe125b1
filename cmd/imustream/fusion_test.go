package main

import (
	"fmt"
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
	if _, stderr, code := runCmd(t, "calibrate", "--sim", "--level", "--seconds", "2", "--out", cal); code != 0 {
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

// calibrate --mag on the distorted simulator tumbling: the fit goes into
// the calibration file next to the level calibration, and the 9-axis
// heading on the same distorted field is then within 2° RMS. A device
// that is not turned is refused and nothing is written.
func TestCalibrateMag(t *testing.T) {
	dir := t.TempDir()
	cal := filepath.Join(dir, "cal.json")
	distort := []string{"--sim-hard-iron", "20,-35,12", "--sim-soft-iron", "1.15,0.06,-0.03,0.06,0.9,0.04,-0.03,0.04,1.05"}
	if _, stderr, code := runCmd(t, "calibrate", "--sim", "--level", "--seconds", "2", "--out", cal); code != 0 {
		t.Fatalf("calibrate --level: exit %d\n%s", code, stderr)
	}
	stdout, stderr, code := runCmd(t, append([]string{"calibrate", "--sim", "--mag", "--seconds", "12", "--rate", "50", "--out", cal}, distort...)...)
	if code != 0 || !strings.Contains(stdout, "hard iron") || !strings.Contains(stdout, "coverage") {
		t.Fatalf("calibrate --mag: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("calibrate --mag:\n%s", stdout)
	b, err := os.ReadFile(cal)
	if err != nil || !strings.Contains(string(b), `"gyro_bias_rad_s"`) || !strings.Contains(string(b), `"offset_ut"`) {
		t.Fatalf("calibration file keeps the level part and adds the magnetometer's:\n%s", b)
	}
	pose := []string{"--sim-motion", "scripted", "--sim-pose", "roll=10,pitch=-5,yaw=30"}
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{append([]string{"evaluate", "--calibration", cal, "--skip", "5"}, append(pose, distort...)...), true},
		{append([]string{"evaluate", "--skip", "5"}, append(pose, distort...)...), false},
	} {
		stdout, stderr, code := runCmd(t, tc.args...)
		if code != 0 {
			t.Fatalf("%q: exit %d\n%s", tc.args, code, stderr)
		}
		var roll, pitch, heading float64
		for _, line := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(line, "rms error") {
				if _, err := fmt.Sscanf(line, "rms error     roll %f°  pitch %f°  heading %f°", &roll, &pitch, &heading); err != nil {
					t.Fatalf("%q: %v", line, err)
				}
			}
		}
		t.Logf("calibrated %v: heading RMS %.3f°", tc.ok, heading)
		if tc.ok && (heading > 2 || heading == 0) {
			t.Errorf("after calibrate --mag: heading RMS %.3f°, want ≤ 2°\n%s", heading, stdout)
		}
		if !tc.ok && heading < 5 {
			t.Errorf("without it: heading RMS %.3f°; the distortion should show", heading)
		}
	}
	thin := filepath.Join(dir, "thin.json")
	_, stderr, code = runCmd(t, "calibrate", "--sim", "--mag", "--seconds", "5", "--rate", "50", "--sim-motion", "still", "--out", thin)
	if code != 1 || !strings.Contains(stderr, "too few directions") {
		t.Errorf("still device: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(thin); !os.IsNotExist(err) {
		t.Errorf("a refused calibration wrote %s", thin)
	}
}
