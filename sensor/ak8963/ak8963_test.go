package ak8963

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"github.com/imustream/imustream/internal/leaktest"
	"github.com/imustream/imustream/sensor"
)

func TestMain(m *testing.M) {
	doSleep = func(time.Duration) {}
	leaktest.Main(m)
}

const mpu = 0x68

// initOps is New's transactions: the MPU's bypass, WIA, reset, fuse ROM
// (ASA), power-down, continuous mode 2 at 16 bits (CNTL1 0x16).
func initOps(asa [3]byte, full bool) []i2ctest.IO {
	ops := []i2ctest.IO{
		{Addr: mpu, W: []byte{0x6A, 0x00}},
		{Addr: mpu, W: []byte{0x37, 0x02}},
		{Addr: 0x0C, W: []byte{0x00}, R: []byte{0x48}},
	}
	if full {
		ops = append(ops,
			i2ctest.IO{Addr: 0x0C, W: []byte{0x0B, 0x01}},
			i2ctest.IO{Addr: 0x0C, W: []byte{0x0A, 0x0F}},
			i2ctest.IO{Addr: 0x0C, W: []byte{0x10}, R: asa[:]},
			i2ctest.IO{Addr: 0x0C, W: []byte{0x0A, 0x00}},
		)
	}
	return append(ops, i2ctest.IO{Addr: 0x0C, W: []byte{0x0A, 0x16}})
}

// burst is one read of ST1, HXL..HZH (little-endian), ST2.
func burst(st1 byte, raw [3]int16, st2 byte) i2ctest.IO {
	r := []byte{st1}
	for _, v := range raw {
		r = append(r, byte(v), byte(uint16(v)>>8))
	}
	return i2ctest.IO{Addr: 0x0C, W: []byte{0x02}, R: append(r, st2)}
}

func closeOK(t *testing.T, pb *i2ctest.Playback) {
	t.Helper()
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

// Datasheet 6.3: 0.15 µT/LSB at 16 bits; 8.3.11: Hadj = H × ((ASA − 128)
// × 0.5 / 128 + 1); MPU-9250 product specification 9.1: the MPU's x, y, z
// are the AK8963's y, x, −z.
func TestScalingWithASA(t *testing.T) {
	asa := [3]byte{128, 176, 80}
	raw := [3]int16{1000, -2000, 300}
	pb := &i2ctest.Playback{DontPanic: true, Ops: append(initOps(asa, true), burst(0x01, raw, 0x10))}
	d, err := New(pb, &Opts{Bypass: mpu})
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	if err := d.ReadMag(&s); err != nil {
		t.Fatal(err)
	}
	closeOK(t, pb)
	chip := [3]float64{1000 * 0.15 * 1, -2000 * 0.15 * 1.1875, 300 * 0.15 * 0.8125}
	want := [3]float64{chip[1], chip[0], -chip[2]}
	for i := range 3 {
		if math.Abs(float64(s.Mag[i])-want[i]) > 1e-4 {
			t.Fatalf("mag %v µT, want %v", s.Mag, want)
		}
	}
	if s.Status != sensor.StatusMag || d.ASA() != asa || d.String() != "ak8963@0x0c" {
		t.Errorf("status %#x asa %v %s", s.Status, d.ASA(), d)
	}
}

// Datasheet 8.3.6: ST2 HOFL (bit 3) says the sum of the axes' absolute
// values exceeded 4912 µT; the data are invalid. 8.3.1: ST1 DRDY clear
// means no new measurement since the last read.
func TestOverflowAndNoData(t *testing.T) {
	asa := [3]byte{128, 128, 128}
	ops := append(initOps(asa, true),
		burst(0x01, [3]int16{100, 200, 300}, 0x10),
		burst(0x00, [3]int16{0, 0, 0}, 0x10),      // no new data: the last one again
		burst(0x01, [3]int16{32000, 1, 1}, 0x18),  // HOFL
		burst(0x01, [3]int16{-32768, 0, 0}, 0x10), // clipped ADC
	)
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	d, err := New(pb, &Opts{Bypass: mpu})
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	want := [3]float32{30, 15, -45}
	for i, tc := range []struct {
		status sensor.Status
		mag    [3]float32
	}{
		{sensor.StatusMag, want},
		{sensor.StatusMag, want},
		{sensor.StatusMagOverflow, want},
		{sensor.StatusMagOverflow, want},
	} {
		s.Status = sensor.StatusLate // not the magnetometer's: kept
		if err := d.ReadMag(&s); err != nil {
			t.Fatal(err)
		}
		if s.Status != tc.status|sensor.StatusLate || s.Mag != tc.mag {
			t.Errorf("read %d: status %#x mag %v; want %#x %v", i, s.Status, s.Mag, tc.status|sensor.StatusLate, tc.mag)
		}
	}
	closeOK(t, pb)
}

func TestChipAxesAndNoBypass(t *testing.T) {
	ops := initOps([3]byte{128, 128, 128}, true)[2:]
	pb := &i2ctest.Playback{DontPanic: true, Ops: append(ops, burst(0x01, [3]int16{10, 20, 30}, 0x10))}
	d, err := New(pb, &Opts{ChipAxes: true})
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	if err := d.ReadMag(&s); err != nil || s.Mag != [3]float32{1.5, 3, 4.5} {
		t.Errorf("%v %v", s.Mag, err)
	}
	closeOK(t, pb)
}

func TestWrongChipAndMissing(t *testing.T) {
	pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{{Addr: 0x0C, W: []byte{0x00}, R: []byte{0x71}}}}
	if _, err := New(pb, nil); !errors.Is(err, ErrWrongChip) || !strings.Contains(err.Error(), "0x71") {
		t.Errorf("wrong chip: %v", err)
	}
	bus := &faultBus{inner: &i2ctest.Playback{DontPanic: true}, fails: 1}
	if _, err := New(bus, nil); !errors.Is(err, sensor.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if _, err := New(bus, &Opts{MaxErrors: -1}); err == nil {
		t.Error("negative MaxErrors accepted")
	}
}

type faultBus struct {
	inner *i2ctest.Playback
	fails int
}

func (f *faultBus) String() string { return "fault" }
func (f *faultBus) Tx(addr uint16, w, r []byte) error {
	if f.fails > 0 {
		f.fails--
		return errors.New("remote I/O error")
	}
	return f.inner.Tx(addr, w, r)
}
func (f *faultBus) SetSpeed(physic.Frequency) error { return nil }

// After MaxErrors failed reads the next one turns the bypass back on and
// restarts the measurement; the fuse ROM is not read again.
func TestReinit(t *testing.T) {
	asa := [3]byte{128, 128, 128}
	ops := append(initOps(asa, true), initOps(asa, false)...)
	ops = append(ops, burst(0x01, [3]int16{1, 2, 3}, 0x10))
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	bus := &faultBus{inner: pb}
	d, err := New(bus, &Opts{Bypass: mpu, MaxErrors: 2})
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	s.Status = sensor.StatusMag
	bus.fails = 2
	for range 2 {
		if err := d.ReadMag(&s); err == nil || s.Status&sensor.StatusMag != 0 || s.Status&sensor.StatusSensorError != 0 {
			t.Fatalf("failed read: %v status %#x", err, s.Status)
		}
	}
	if err := d.ReadMag(&s); err != nil || s.Status != sensor.StatusMag {
		t.Fatalf("after re-initialising: %v %#x", err, s.Status)
	}
	closeOK(t, pb)
	if st := d.Stats(); st != (sensor.Stats{Reads: 1, Errors: 2, Reinits: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func TestReadMagDoesNotAllocate(t *testing.T) {
	ops := initOps([3]byte{128, 128, 128}, true)
	for range 200 {
		ops = append(ops, burst(0x01, [3]int16{1, 2, 3}, 0x10))
	}
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	d, err := New(pb, &Opts{Bypass: mpu})
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	if n := testing.AllocsPerRun(100, func() { _ = d.ReadMag(&s) }); n != 0 {
		t.Errorf("%v allocations per read", n)
	}
}

// A chip that lost its mode answers with DRDY clear for ever: after
// sensor.MaxStaleReads such reads the driver re-initialises it.
func TestStaleReinit(t *testing.T) {
	asa := [3]byte{128, 128, 128}
	ops := append(initOps(asa, true), burst(0x01, [3]int16{1, 2, 3}, 0x10))
	for range sensor.MaxStaleReads + 1 {
		ops = append(ops, burst(0x00, [3]int16{}, 0x10))
	}
	ops = append(ops, initOps(asa, false)...)
	ops = append(ops, burst(0x01, [3]int16{4, 5, 6}, 0x10))
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops}
	d, err := New(pb, &Opts{Bypass: mpu})
	if err != nil {
		t.Fatal(err)
	}
	var s sensor.Sample
	for i := range sensor.MaxStaleReads + 2 {
		err := d.ReadMag(&s)
		if stale := i == sensor.MaxStaleReads+1; stale != errors.Is(err, ErrStale) {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if err := d.ReadMag(&s); err != nil || s.Status != sensor.StatusMag || s.Mag[0] != 5*0.15 {
		t.Fatalf("after re-initialising: %v %#x %v", err, s.Status, s.Mag)
	}
	closeOK(t, pb)
}
