package calib

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
)

// TestJobCheck: the flags' ranges, the file named, and enough samples at
// the rate; each refusal names the flag.
func TestJobCheck(t *testing.T) {
	for _, tc := range []struct {
		args []string
		rate int
		want string // "" for none
	}{
		{nil, 200, ""},
		{[]string{"--seconds", "0"}, 200, "--seconds 0 out of range (0, 3600]"},
		{[]string{"--seconds", "-1"}, 200, "--seconds -1 out of range (0, 3600]"},
		{[]string{"--seconds", "3601"}, 200, "--seconds 3601 out of range (0, 3600]"},
		{[]string{"--out", ""}, 200, "--out must name a file"},
		{[]string{"--seconds", "0.4"}, 200, "--seconds 0.4 at --rate 200 gives 80 samples; the estimate needs at least 100"},
		{[]string{"--seconds", "0.5"}, 200, ""},
	} {
		var j Job
		fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
		j.RegisterFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		err := j.Check(tc.rate)
		if got := errText(err); got != tc.want {
			t.Errorf("%q at %d Hz: %q; want %q", tc.args, tc.rate, got, tc.want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// fastForward runs a simulator's time 20 times as fast as the reads, so
// that a short test tumbles it through every direction.
type fastForward struct{ *sim.Sim }

func (f fastForward) Read(s *sensor.Sample) error {
	s.MonoNs *= 20
	return f.Sim.Read(s)
}

// TestJobRun: a run at rest writes a new file; a magnetometer run updates
// it, keeping the rest; a failed fit, a file that is no calibration, or a
// run before Check write nothing.
func TestJobRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "cal.json")
	mount, err := ParseMounting("x=-y,y=x,z=z")
	if err != nil {
		t.Fatal(err)
	}

	var stdout, log bytes.Buffer
	if err := (&Job{Out: path}).Run(ctx, sim.New(sim.Opts{Seed: 1, Still: true}), &stdout, &log); err == nil {
		t.Error("Run before Check: no error")
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("Run before Check wrote the file")
	}

	rest := Job{Seconds: 0.2, Out: path, Mount: mount}
	if err := rest.Check(1000); err != nil {
		t.Fatal(err)
	}
	if err := rest.Load(); err != nil { // nothing to load at rest
		t.Fatal(err)
	}
	if err := rest.Run(ctx, sim.New(sim.Opts{Seed: 1, Still: true}), &stdout, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "keep the device still for 200ms") ||
		!strings.HasSuffix(stdout.String(), "wrote "+path+"; apply it with: imustream run --calibration "+path+"\n") {
		t.Errorf("at rest: log %q, output %q", log.String(), stdout.String())
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.GyroBias == (Vec3{}) || c.Mounting.String() != "x=-y,y=x,z=z" || c.Mag != (MagCal{}) {
		t.Fatalf("at rest: %+v", c)
	}

	// A device that lies still covers too few directions: no file change.
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	still := Job{Seconds: 0.2, Out: path, Mag: true}
	if err := still.Check(1000); err != nil {
		t.Fatal(err)
	}
	if err := still.Load(); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	err = still.Run(ctx, sim.New(sim.Opts{Seed: 2, Still: true, Mag: true}), &stdout, &log)
	if !errors.Is(err, ErrMagCoverage) || !strings.HasSuffix(err.Error(), "; nothing written") || strings.Contains(stdout.String(), "wrote") {
		t.Errorf("a still magnetometer: %v, output %q", err, stdout.String())
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Error("a failed fit changed the file")
	}

	// A tumbling one fits, into the file that is there; Run loads it
	// itself when the caller did not.
	for _, load := range []bool{true, false} {
		turned := Job{Seconds: 0.6, Out: path, Mag: true}
		if err := turned.Check(1000); err != nil {
			t.Fatal(err)
		}
		if load {
			if err := turned.Load(); err != nil {
				t.Fatal(err)
			}
		}
		stdout.Reset()
		d := fastForward{sim.New(sim.Opts{Seed: 3, Tumble: true, Mag: true, HardIron: [3]float64{20, -35, 12}})}
		if err := turned.Run(ctx, d, &stdout, &log); err != nil {
			t.Fatalf("Load %v: %v\n%s", load, err, stdout.String())
		}
		m, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if m.GyroBias != c.GyroBias || m.AccelOffset != c.AccelOffset || m.Mounting != c.Mounting || m.Created != c.Created {
			t.Errorf("Load %v: the magnetometer run changed the rest: %+v; was %+v", load, m, c)
		}
		if off := m.Mag.Offset; off[0] < 19 || off[0] > 21 || off[1] > -34 || off[1] < -36 || off[2] < 11 || off[2] > 13 {
			t.Errorf("Load %v: hard iron %v; want about [20 -35 12]", load, off)
		}
	}

	// A file that is no calibration is refused before any run, and kept.
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("not a calibration\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := Job{Seconds: 1, Out: other, Mag: true}
	if err := bad.Check(200); err != nil {
		t.Fatal(err)
	}
	if err := bad.Load(); err == nil || !strings.HasPrefix(err.Error(), "--out "+other+" exists and is not a calibration file: calib: ") {
		t.Errorf("Load of a file that is no calibration: %v", err)
	}
	if err := bad.Run(ctx, sim.New(sim.Opts{Seed: 3, Tumble: true, Mag: true}), &stdout, &log); err == nil {
		t.Error("Run without Load on a file that is no calibration: no error")
	}
	if b, _ := os.ReadFile(other); string(b) != "not a calibration\n" {
		t.Errorf("the file that is no calibration became %q", b)
	}
}
