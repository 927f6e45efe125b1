package lsm9ds1

import (
	"errors"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/sensor"
)

// Datasheet table 3, magnetic sensitivity M_GN per CTRL_REG2_M FS[1:0]
// (bits 6:5), in mgauss/LSB; 1 mgauss = 0.1 µT.
var magTable = []struct {
	r      MagRange
	fsBits byte
	mgauss float64
}{
	{Mag4Gauss, 0x00, 0.14},
	{Mag8Gauss, 0x20, 0.29},
	{Mag12Gauss, 0x40, 0.43},
	{Mag16Gauss, 0x60, 0.58},
}

// magInitOps: WHO_AM_I_M (0x3D), soft reset, FS, 80 Hz ultra-high
// performance with temperature compensation, OMZ, BDU, continuous.
func magInitOps(addr uint16, fs byte, reset bool) []i2ctest.IO {
	ops := []i2ctest.IO{{Addr: addr, W: []byte{0x0F}, R: []byte{0x3D}}}
	if reset {
		ops = append(ops, i2ctest.IO{Addr: addr, W: []byte{0x21, 0x04}})
	}
	return append(ops,
		i2ctest.IO{Addr: addr, W: []byte{0x21, fs}},
		i2ctest.IO{Addr: addr, W: []byte{0x20, 0xFC}},
		i2ctest.IO{Addr: addr, W: []byte{0x23, 0x0C}},
		i2ctest.IO{Addr: addr, W: []byte{0x24, 0x40}},
		i2ctest.IO{Addr: addr, W: []byte{0x22, 0x00}},
	)
}

// magBurst: STATUS_REG_M and OUT_X_L_M..OUT_Z_H_M, read from 0x27 with
// the auto-increment bit (0xA7).
func magBurst(addr uint16, status byte, raw [3]int16) i2ctest.IO {
	r := []byte{status}
	for _, v := range raw {
		r = append(r, byte(v), byte(uint16(v)>>8))
	}
	return i2ctest.IO{Addr: addr, W: []byte{0xA7}, R: r}
}

func TestMagScalingEveryRange(t *testing.T) {
	raw := [3]int16{2500, -12000, 7}
	for _, tc := range magTable {
		pb := &i2ctest.Playback{DontPanic: true, Ops: append(magInitOps(0x1C, tc.fsBits, true), magBurst(0x1C, 0x0F, raw))}
		m, err := NewMag(pb, 0x1C, &MagOpts{Range: tc.r})
		if err != nil {
			t.Fatal(err)
		}
		var s sensor.Sample
		if err := m.ReadMag(&s); err != nil {
			t.Fatal(err)
		}
		closeOK(t, pb)
		// In the accelerometer's axes: x negated.
		want := [3]float64{-float64(raw[0]) * tc.mgauss / 10, float64(raw[1]) * tc.mgauss / 10, float64(raw[2]) * tc.mgauss / 10}
		for i := range 3 {
			if math.Abs(float64(s.Mag[i])-want[i]) > 1e-4*math.Max(1, math.Abs(want[i])) {
				t.Errorf("%v: mag %v µT, want %v", tc.r, s.Mag, want)
				break
			}
		}
		if s.Status != sensor.StatusMag {
			t.Errorf("%v: status %#x", tc.r, s.Status)
		}
	}
}

// A reading at the 16-bit limits is beyond the full scale: flagged
// overflow, the previous field kept; without ZYXDA the last one repeats.
func TestMagOverflowAndNoData(t *testing.T) {
	ops := append(magInitOps(0x1E, 0, true),
		magBurst(0x1E, 0x08, [3]int16{100, 200, 300}),
		magBurst(0x1E, 0x00, [3]int16{}),
		magBurst(0x1E, 0x08, [3]int16{32767, 0, 0}),
	)
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	m, err := NewMag(pb, 0x1E, &MagOpts{ChipAxes: true})
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	want := [3]float32{1.4, 2.8, 4.2}
	for i, st := range []sensor.Status{sensor.StatusMag, sensor.StatusMag, sensor.StatusMagOverflow} {
		if err := m.ReadMag(&s); err != nil {
			t.Fatal(err)
		}
		for k := range 3 {
			if math.Abs(float64(s.Mag[k]-want[k])) > 1e-5 {
				t.Fatalf("read %d: mag %v, want %v", i, s.Mag, want)
			}
		}
		if s.Status != st {
			t.Errorf("read %d: status %#x, want %#x", i, s.Status, st)
		}
	}
	closeOK(t, pb)
	if m.String() != "lsm9ds1-mag@0x1e" {
		t.Error(m)
	}
}

func TestMagRefuses(t *testing.T) {
	if _, err := NewMag(&i2ctest.Playback{DontPanic: true}, 0x6A, nil); !errors.Is(err, ErrInvalidOpts) {
		t.Error(err)
	}
	if _, err := NewMag(&i2ctest.Playback{DontPanic: true}, 0x1C, &MagOpts{Range: 5}); !errors.Is(err, ErrInvalidOpts) || !strings.Contains(err.Error(), "4, 8, 12, 16") {
		t.Error(err)
	}
	pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{{Addr: 0x1C, W: []byte{0x0F}, R: []byte{0x68}}}}
	if _, err := NewMag(pb, 0x1C, nil); !errors.Is(err, ErrMagWhoAmI) {
		t.Error(err)
	}
	bus := &faultBus{inner: &i2ctest.Playback{DontPanic: true}, fails: 1}
	if _, err := NewMag(bus, 0x1C, nil); !errors.Is(err, sensor.ErrNotFound) {
		t.Error(err)
	}
}

func TestMagReinitAfterErrors(t *testing.T) {
	ops := append(magInitOps(0x1C, 0, true), magInitOps(0x1C, 0, false)...)
	ops = append(ops, magBurst(0x1C, 0x08, [3]int16{10, 0, 0}))
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	bus := &faultBus{inner: pb}
	m, err := NewMag(bus, 0x1C, &MagOpts{MaxErrors: 3})
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	bus.fails = 3
	for range 3 {
		if err := m.ReadMag(&s); err == nil || s.Status != 0 {
			t.Fatalf("%v %#x", err, s.Status)
		}
	}
	if err := m.ReadMag(&s); err != nil || s.Status != sensor.StatusMag {
		t.Fatalf("%v %#x", err, s.Status)
	}
	closeOK(t, pb)
	if st := m.Stats(); st != (sensor.Stats{Reads: 1, Errors: 3, Reinits: 1}) {
		t.Errorf("%+v", st)
	}
}

func TestMagReadDoesNotAllocate(t *testing.T) {
	ops := magInitOps(0x1C, 0, true)
	for range 200 {
		ops = append(ops, magBurst(0x1C, 0x08, [3]int16{1, 2, 3}))
	}
	m, err := NewMag(&i2ctest.Playback{DontPanic: true, Ops: ops}, 0x1C, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	if n := testing.AllocsPerRun(100, func() { _ = m.ReadMag(&s) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
