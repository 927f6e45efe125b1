package lis3mdl

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/internal/leaktest"
	"github.com/imustream/imustream/sensor"
)

func TestMain(m *testing.M) {
	doSleep = func(time.Duration) {}
	leaktest.Main(m)
}

// Datasheet table 2, magnetic sensitivity in LSB/gauss per FS, and
// CTRL_REG2 FS[1:0] in bits 6:5 (7.3).
var rangeTable = []struct {
	r     Range
	ctrl2 byte
	lsbPG float64
}{
	{Range4G, 0x00, 6842},
	{Range8G, 0x20, 3421},
	{Range12G, 0x40, 2281},
	{Range16G, 0x60, 1711},
}

// initOps is New's traffic: WHO_AM_I, soft reset (CTRL_REG2 SOFT_RST),
// FS, 155 Hz UHP X/Y (CTRL_REG1 0x62), UHP Z (CTRL_REG4 0x0C), BDU
// (CTRL_REG5 0x40), continuous (CTRL_REG3 0x00); datasheet 7.2–7.6.
func initOps(addr uint16, ctrl2 byte, reset bool) []i2ctest.IO {
	ops := []i2ctest.IO{{Addr: addr, W: []byte{0x0F}, R: []byte{0x3D}}}
	if reset {
		ops = append(ops, i2ctest.IO{Addr: addr, W: []byte{0x21, 0x04}})
	}
	return append(ops,
		i2ctest.IO{Addr: addr, W: []byte{0x21, ctrl2}},
		i2ctest.IO{Addr: addr, W: []byte{0x20, 0x62}},
		i2ctest.IO{Addr: addr, W: []byte{0x23, 0x0C}},
		i2ctest.IO{Addr: addr, W: []byte{0x24, 0x40}},
		i2ctest.IO{Addr: addr, W: []byte{0x22, 0x00}},
	)
}

func magRead(addr uint16, status byte, v [3]int16) i2ctest.IO {
	r := []byte{status}
	for _, x := range v {
		r = append(r, byte(x), byte(uint16(x)>>8))
	}
	return i2ctest.IO{Addr: addr, W: []byte{0xA7}, R: r}
}

func TestScalingEveryRange(t *testing.T) {
	raw := [3]int16{1000, -2000, 32766}
	for _, rt := range rangeTable {
		for _, addr := range []uint16{0x1C, 0x1E} {
			pb := &i2ctest.Playback{DontPanic: true, Ops: append(initOps(addr, rt.ctrl2, true), magRead(addr, 0x08, raw))}
			d, err := New(pb, addr, &Opts{Range: rt.r})
			if err != nil {
				t.Fatal(err)
			}
			var s sensor.Sample
			if err := d.ReadMag(&s); err != nil {
				t.Fatal(err)
			}
			for i, v := range raw {
				want := float64(v) / rt.lsbPG * 100 // 1 gauss = 100 µT
				if math.Abs(float64(s.Mag[i])-want) > 1e-4*math.Abs(want) {
					t.Errorf("%v axis %d raw %d: %v µT, want %v", rt.r, i, v, s.Mag[i], want)
				}
			}
			if s.Status != sensor.StatusMag {
				t.Errorf("%v: status %#x, want StatusMag", rt.r, s.Status)
			}
			if err := pb.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestNoNewDataAndOverflow(t *testing.T) {
	pb := &i2ctest.Playback{DontPanic: true, Ops: append(initOps(0x1E, 0, true),
		magRead(0x1E, 0x08, [3]int16{1, 2, 3}),
		magRead(0x1E, 0x00, [3]int16{9, 9, 9}),
		magRead(0x1E, 0x88, [3]int16{0, -32768, 0}),
	)}
	d, err := New(pb, 0x1E, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	_ = d.ReadMag(&s)
	before := s.Mag
	if err := d.ReadMag(&s); err != nil || s.Status&sensor.StatusMag != 0 || s.Mag != before {
		t.Errorf("no new data: %v, status %#x, mag %v (was %v)", err, s.Status, s.Mag, before)
	}
	if err := d.ReadMag(&s); err != nil || s.Status != sensor.StatusMag|sensor.StatusMagOverflow {
		t.Errorf("overflowed axis: %v, status %#x", err, s.Status)
	}
}

func TestWhoAmIAndOpts(t *testing.T) {
	for _, who := range []byte{0x00, 0x3C, 0x68, 0xFF} {
		pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{{Addr: 0x1C, W: []byte{0x0F}, R: []byte{who}}}}
		_, err := New(pb, 0x1C, nil)
		var we *WhoAmIError
		if !errors.As(err, &we) || we.Got != who || !strings.Contains(err.Error(), "expected 0x3d") {
			t.Errorf("WHO_AM_I %#x: %v", who, err)
		}
	}
	if _, err := New(&i2ctest.Playback{DontPanic: true}, 0x1C, &Opts{Range: 5}); !errors.Is(err, ErrInvalidOpts) || !strings.Contains(err.Error(), "4, 8, 12, 16") {
		t.Errorf("range 5: %v", err)
	}
	if _, err := New(&i2ctest.Playback{DontPanic: true}, 0x1D, nil); !errors.Is(err, ErrInvalidOpts) {
		t.Errorf("address 0x1d: %v", err)
	}
	if _, err := New(&i2ctest.Playback{DontPanic: true}, 0x1C, nil); !errors.Is(err, sensor.ErrNotFound) {
		t.Errorf("nothing there: %v", err)
	}
}
