package calib

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/sensor/sim"
)

// TestCalibrateRest: the simulator at rest gives a calibration that names
// it and the mounting, and the text calibrate prints.
func TestCalibrateRest(t *testing.T) {
	mount, err := ParseMounting("x=-y,y=x,z=z")
	if err != nil {
		t.Fatal(err)
	}
	d := sim.New(sim.Opts{Seed: 3, Still: true})
	r, err := CalibrateRest(context.Background(), d, 200, time.Millisecond, true, mount)
	if err != nil {
		t.Fatal(err)
	}
	if r.Cal.Sensor != d.String() || r.Cal.Mounting.String() != "x=-y,y=x,z=z" || r.Report.N != 200 || r.Cal.Created == "" {
		t.Errorf("calibration %+v, report %+v", r.Cal, r.Report)
	}
	var b strings.Builder
	r.WriteText(&b)
	for _, w := range []string{"sensor        " + d.String() + "\n", "samples       200 used, 0 flagged and skipped (0 read errors)\n",
		"(whole vector, body level)\n", "mounting      x=-y,y=x,z=z\n"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("the text lacks %q:\n%s", w, b.String())
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := CalibrateRest(ctx, d, 200, time.Millisecond, false, Mounting{}); !errors.Is(err, context.Canceled) {
		t.Errorf("interrupted: %v", err)
	}
}

// TestCalibrateMag: a device hardly turned fails the fit, which comes with
// what was read; a fit goes into a calibration, keeping the rest of it.
func TestCalibrateMag(t *testing.T) {
	d := sim.New(sim.Opts{Seed: 4, Still: true, Mag: true})
	m, err := CalibrateMag(context.Background(), d, 250, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(m.Err, ErrMagCoverage) || m.Report.N != 250 {
		t.Fatalf("a still device: %v, %+v; want ErrMagCoverage", m.Err, m.Report)
	}
	var b strings.Builder
	m.WriteText(&b)
	if !strings.Contains(b.String(), "readings      250 (0 read errors)\n") || strings.Contains(b.String(), "hard iron") {
		t.Errorf("a failed fit's text:\n%s", b.String())
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "cal.json")
	c, err := LoadOrNew(path)
	if err != nil || c.Format != Format || c.Sensor != "" {
		t.Fatalf("LoadOrNew of no file: %+v, %v", c, err)
	}
	c.Sensor, c.Created, c.GyroBias = "mpu6050@0x68", "2026-01-01T00:00:00Z", Vec3{0.1, 0, 0}
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	fit := &MagRun{Sensor: "other", Cal: MagCal{Offset: Vec3{20, -35, 12}, Matrix: [3]Vec3{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}, Report: MagReport{N: 600, FieldUT: 50, Covered: 24}}
	c, err = LoadOrNew(path)
	if err != nil {
		t.Fatal(err)
	}
	fit.Into(&c)
	if c.Sensor != "mpu6050@0x68" || c.Created != "2026-01-01T00:00:00Z" || c.GyroBias[0] != 0.1 || c.Mag.Offset != fit.Cal.Offset {
		t.Errorf("Into: %+v", c)
	}
	b.Reset()
	fit.WriteText(&b)
	if !strings.Contains(b.String(), "hard iron     [20.000 -35.000 12.000] µT\n") {
		t.Errorf("a fit's text:\n%s", b.String())
	}
	if err := os.WriteFile(path, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrNew(path); err == nil {
		t.Error("LoadOrNew of a file that is no calibration: no error")
	}
}

// TestLoadMounted: nothing without a file or a mounting; the mounting
// given replaces the file's.
func TestLoadMounted(t *testing.T) {
	if c, err := LoadMounted("", nil); c != nil || err != nil {
		t.Errorf("neither: %+v, %v", c, err)
	}
	mount, err := ParseMounting("x=-y,y=x,z=z")
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadMounted("", &mount)
	if err != nil || c.Format != Format || c.Mounting.String() != "x=-y,y=x,z=z" {
		t.Errorf("a mounting alone: %+v, %v", c, err)
	}
	path := filepath.Join(t.TempDir(), "cal.json")
	if err := Save(path, Calibration{Format: Format, GyroBias: Vec3{0.5, 0, 0}}); err != nil {
		t.Fatal(err)
	}
	if c, err = LoadMounted(path, &mount); err != nil || c.GyroBias[0] != 0.5 || c.Mounting.String() != "x=-y,y=x,z=z" {
		t.Errorf("file and mounting: %+v, %v", c, err)
	}
	if c, err = LoadMounted(path, nil); err != nil || !c.Mounting.IsZero() {
		t.Errorf("the file alone: %+v, %v", c, err)
	}
	if _, err := LoadMounted(filepath.Join(t.TempDir(), "none.json"), nil); err == nil {
		t.Error("a missing file: no error")
	}
}
