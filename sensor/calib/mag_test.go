package calib

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
)

var (
	hardIron = [3]float64{20, -35, 12}
	softIron = [3][3]float64{{1.15, 0.06, -0.03}, {0.06, 0.9, 0.04}, {-0.03, 0.04, 1.05}}
)

// readMag reads n samples of d at 100 Hz into a MagAccumulator.
func readMag(t *testing.T, d *sim.Sim, n int) *MagAccumulator {
	t.Helper()
	var a MagAccumulator
	var s sensor.Sample
	for i := range n {
		s.MonoNs, s.Status = int64(i)*10e6, 0
		if err := d.Read(&s); err != nil {
			t.Fatal(err)
		}
		a.Add(&s)
	}
	return &a
}

// The fit recovers the hard iron and undoes the soft iron: the corrected
// readings are a sphere, the same field in every direction.
func TestFitMagTumble(t *testing.T) {
	d := sim.New(sim.Opts{Seed: 4, Tumble: true, Mag: true, HardIron: hardIron, SoftIron: softIron})
	cal, rep, err := readMag(t, d, 3000).Fit(nil)
	if err != nil {
		t.Fatalf("%v (%+v)", err, rep)
	}
	t.Logf("report %+v", rep)
	for i := range 3 {
		if math.Abs(cal.Offset[i]-hardIron[i]) > 0.5 {
			t.Errorf("offset %v, want %v", cal.Offset, hardIron)
		}
	}
	if rep.ResidualPct > 1.5 || rep.Covered < 24 || rep.N != 3000 || math.Abs(rep.AxisRatio-1.3) > 0.2 {
		t.Errorf("report %+v", rep)
	}
	// M·S is a rotation times the fitted strength over 50 µT: with a
	// symmetric S, the identity.
	m := cal.matrix()
	k := rep.FieldUT / 50
	for i := range 3 {
		for j := range 3 {
			var v float64
			for l := range 3 {
				v += m[i][l] * softIron[l][j]
			}
			want := 0.0
			if i == j {
				want = k
			}
			if math.Abs(v-want) > 0.01 {
				t.Errorf("M·S[%d][%d] = %.4f, want %.4f", i, j, v, want)
			}
		}
	}
}

// Too thin: turning about one axis only, rocking a few degrees, or a
// handful of readings is refused with what to do.
func TestFitMagRefusesThinCoverage(t *testing.T) {
	// About the vertical only: yaw round and round, level.
	var ring [][3]float64
	for i := range 1000 {
		a := 2 * math.Pi * float64(i) / 250
		ring = append(ring, [3]float64{21 * math.Cos(a), 21 * math.Sin(a), -45})
	}
	if _, rep, err := FitMag(ring, nil); !errors.Is(err, ErrMagCoverage) || rep.Covered > 12 {
		t.Errorf("ring: %v %+v", err, rep)
	}
	rocking := sim.New(sim.Opts{Seed: 1, Mag: true, HardIron: hardIron})
	if _, rep, err := readMag(t, rocking, 3000).Fit(nil); !errors.Is(err, ErrMagCoverage) {
		t.Errorf("rocking: %v %+v", err, rep)
	}
	if _, _, err := FitMag(ring[:50], nil); err == nil {
		t.Error("50 readings accepted")
	}
	same := make([][3]float64, 500)
	if _, _, err := FitMag(same, nil); !errors.Is(err, ErrMagCoverage) {
		t.Errorf("constant: %v", err)
	}
	// Lying still: noise around one point covers every direction around
	// its mean, but spreads by a fraction of a µT.
	still := sim.New(sim.Opts{Seed: 1, Still: true, Mag: true})
	if _, _, err := readMag(t, still, 1000).Fit(nil); !errors.Is(err, ErrMagCoverage) || !strings.Contains(err.Error(), "hardly turned") {
		t.Errorf("still: %v", err)
	}
}

// Readings that are not an ellipsoid (a field that changes strength as
// the device turns: a magnet moving along) are refused.
func TestFitMagRefusesNonEllipsoid(t *testing.T) {
	d := sim.New(sim.Opts{Seed: 4, Tumble: true, Mag: true})
	a := readMag(t, d, 3000)
	for i := range a.m {
		k := 1 + 0.3*math.Sin(float64(i)/37)
		for j := range 3 {
			a.m[i][j] *= k
		}
	}
	if _, rep, err := a.Fit(nil); !errors.Is(err, ErrMagFit) {
		t.Errorf("%v %+v", err, rep)
	}
}

func TestMagAccumulatorSkips(t *testing.T) {
	var a MagAccumulator
	s := sensor.Sample{Mag: [3]float32{1, 2, 3}, Status: sensor.StatusMag}
	if !a.Add(&s) || a.Add(&s) { // a repeat of the same reading
		t.Error("first taken, repeat skipped")
	}
	for _, st := range []sensor.Status{0, sensor.StatusMagOverflow, sensor.StatusMag | sensor.StatusMagOverflow, sensor.StatusMag | sensor.StatusSensorError} {
		s.Status, s.Mag[0] = st, s.Mag[0]+1
		if a.Add(&s) {
			t.Errorf("status %#x taken", st)
		}
	}
	if a.N() != 1 {
		t.Error(a.N())
	}
}

// Applied: hard and soft iron out, then the mounting; stored and loaded.
func TestMagCalApplyAndFile(t *testing.T) {
	d := sim.New(sim.Opts{Seed: 4, Tumble: true, Mag: true, HardIron: hardIron, SoftIron: softIron})
	mc, _, err := readMag(t, d, 3000).Fit(nil)
	if err != nil {
		t.Fatal(err)
	}
	mount, _ := ParseMounting("x=-y,y=x,z=z")
	c := Calibration{Format: Format, Mag: mc, Mounting: mount}
	path := filepath.Join(t.TempDir(), "cal.json")
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil || back != c {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, back, c)
	}
	still := sim.New(sim.Opts{Seed: 4, Still: true, Mag: true, NoiseFree: true, HardIron: hardIron, SoftIron: softIron})
	s, err := Apply(still, back)
	if err != nil {
		t.Fatal(err)
	}
	var x sensor.Sample
	if err := s.Read(&x); err != nil {
		t.Fatal(err)
	}
	// Level, so body = mounting·sensor of the undistorted field (0, 21.1, -45.3) × strength ratio.
	w := sim.DefaultField.World()
	k := mc.FieldUT / 50
	want := [3]float64{-w[1] * k, w[0] * k, w[2] * k} // x=-y, y=x
	for i := range 3 {
		if math.Abs(float64(x.Mag[i])-want[i]) > 0.3 {
			t.Fatalf("corrected body field %v, want %v", x.Mag, want)
		}
	}
	// Refused: singular or wildly stretched matrices, non-finite values.
	for _, bad := range []MagCal{
		{Matrix: [3]Vec3{{1, 0, 0}, {0, 1, 0}, {0, 0, 0}}},
		{Matrix: [3]Vec3{{10, 0, 0}, {0, 1, 0}, {0, 0, 1}}},
		{Offset: Vec3{math.NaN(), 0, 0}},
		{Offset: Vec3{1e6, 0, 0}},
	} {
		if _, err := Apply(still, Calibration{Mag: bad}); err == nil {
			t.Errorf("%+v applied", bad)
		}
	}
	var raw map[string]json.RawMessage
	b, _ := json.Marshal(back)
	if json.Unmarshal(b, &raw) != nil || raw["mag"] == nil {
		t.Errorf("no mag in %s", b)
	}
}
