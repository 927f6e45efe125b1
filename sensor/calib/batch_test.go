package calib

import (
	"math"
	"testing"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
)

// A sensor read through its FIFO stays one through the calibration, and
// every sample of a batch is corrected as Read corrects one.
func TestApplyBatch(t *testing.T) {
	c := Calibration{GyroBias: Vec3{0.01, -0.02, 0.03}, AccelOffset: Vec3{0.1, 0.2, -0.3}}
	raw := sim.New(sim.Opts{Seed: 2, FIFORateHz: 1000})
	ref := sim.New(sim.Opts{Seed: 2, FIFORateHz: 1000})
	s, err := Apply(raw, c)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := sensor.AsBatcher(s)
	if !ok || b.FIFORateHz() != 1000 {
		t.Fatal("calibrated FIFO sensor is not a Batcher")
	}
	got := make([]sensor.Sample, 16)
	want := make([]sensor.Sample, 16)
	for _, now := range []int64{1e9, 1e9 + 5e6, 1e9 + 10e6} {
		got[0].MonoNs, want[0].MonoNs = now, now
		n, err := b.ReadBatch(got)
		m, _ := ref.ReadBatch(want)
		if err != nil || n != m || n == 0 && now > 1e9 {
			t.Fatalf("ReadBatch: %d, %v; uncalibrated %d", n, err, m)
		}
		for i := range n {
			for k := range 3 {
				if d := float64(want[i].Accel[k]) - c.AccelOffset[k] - float64(got[i].Accel[k]); math.Abs(d) > 1e-5 {
					t.Errorf("sample %d accel[%d] %v, want %v − %v", i, k, got[i].Accel[k], want[i].Accel[k], c.AccelOffset[k])
				}
				if d := float64(want[i].Gyro[k]) - c.GyroBias[k] - float64(got[i].Gyro[k]); math.Abs(d) > 1e-6 {
					t.Errorf("sample %d gyro[%d] %v, want %v − %v", i, k, got[i].Gyro[k], want[i].Gyro[k], c.GyroBias[k])
				}
			}
			if got[i].MonoNs != want[i].MonoNs {
				t.Errorf("sample %d time %d, want %d", i, got[i].MonoNs, want[i].MonoNs)
			}
		}
	}
	// A sensor without a FIFO is no Batcher through the calibration.
	plain, _ := Apply(sim.New(sim.Opts{}), c)
	if _, ok := sensor.AsBatcher(plain); ok {
		t.Error("calibrated plain sensor claims a FIFO")
	}
}
