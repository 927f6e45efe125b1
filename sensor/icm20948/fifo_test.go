package icm20948

import (
	"math"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/sensor"
)

// fifoCfg: 1125 Hz (SMPLRT_DIV 0), widest filters, FIFO on.
var fifoCfg = cfg{div: 0, gyro: 1<<1 | 1, accel: 1<<1 | 1, mag: true, fifo: true}

// fifoRead: INT_STATUS_2, FIFO_COUNT, the frames, then EXT_SLV_SENS_DATA
// when frames were read.
func fifoRead(status byte, count int, frames []byte, ext []byte) []i2ctest.IO {
	ops := []i2ctest.IO{
		{Addr: 0x69, W: []byte{0x1B}, R: []byte{status}},
		{Addr: 0x69, W: []byte{0x70}, R: []byte{byte(count >> 8), byte(count)}},
	}
	if len(frames) > 0 {
		ops = append(ops, i2ctest.IO{Addr: 0x69, W: []byte{0x72}, R: frames}, i2ctest.IO{Addr: 0x69, W: []byte{0x3B}, R: ext})
	}
	return ops
}

func newFIFO(t *testing.T, more ...i2ctest.IO) (*Dev, *i2ctest.Playback) {
	t.Helper()
	pb := &i2ctest.Playback{DontPanic: true, Ops: append(initOps(fifoCfg, true), more...)}
	d, err := New(pb, 0x69, &Opts{RateHz: 1125, FIFO: true})
	if err != nil {
		t.Fatal(err)
	}
	return d, pb
}

func readBatch(t *testing.T, d *Dev, dst []sensor.Sample, now int64) int {
	t.Helper()
	dst[0].MonoNs, dst[0].WallNs = now, now
	n, err := d.ReadBatch(dst)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Whole frames decode as Read does, a partial one waits, the field goes
// with the newest sample, and the times step by 1/1125 s.
func TestFIFOFrames(t *testing.T) {
	var frames []byte
	for i := range 3 {
		frames = append(frames, imu([3]int16{int16(i), 0, 8192}, [3]int16{655, 0, 0}, 0)...)
	}
	ops := fifoRead(0, 3*14+5, frames, mag(1, [3]int16{100, 0, 0}, 0))
	ops = append(ops, fifoRead(0, 13, nil, nil)...)
	d, pb := newFIFO(t, ops...)
	if d.FIFORateHz() != 1125 {
		t.Fatalf("FIFORateHz %v", d.FIFORateHz())
	}
	dst := make([]sensor.Sample, 8)
	n := readBatch(t, d, dst, 1e9)
	if n != 3 {
		t.Fatalf("%d samples, want 3", n)
	}
	for i, s := range dst[:n] {
		if !near(s.Accel[0], float64(i)/8192*g0) || !near(s.Accel[2], g0) || !near(s.Gyro[0], 10*deg) {
			t.Errorf("sample %d: accel %v gyro %v", i, s.Accel, s.Gyro)
		}
		if i > 0 && math.Abs(float64(s.MonoNs-dst[i-1].MonoNs)-1e9/1125) > 1 {
			t.Errorf("sample %d: step %d ns", i, s.MonoNs-dst[i-1].MonoNs)
		}
		if wantMag := i == n-1; (s.Status&sensor.StatusMag != 0) != wantMag {
			t.Errorf("sample %d: status %#x", i, s.Status)
		}
	}
	if !near(dst[2].Mag[0], 15) {
		t.Errorf("mag %v", dst[2].Mag)
	}
	if n := readBatch(t, d, dst, 1e9+1e6); n != 0 {
		t.Errorf("13 bytes gave %d samples", n)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

// FIFO_OVERFLOW_INT resets the FIFO (FIFO_RST assert, release), is
// counted and flags the next sample.
func TestFIFOOverflow(t *testing.T) {
	one := imu([3]int16{}, [3]int16{}, 0)
	ops := fifoRead(0x01, 512, nil, nil)
	ops = append(ops, i2ctest.IO{Addr: 0x69, W: []byte{0x68, 0x1F}}, i2ctest.IO{Addr: 0x69, W: []byte{0x68, 0x00}})
	ops = append(ops, fifoRead(0, 14, one, mag(0, [3]int16{}, 0))...)
	d, pb := newFIFO(t, ops...)
	dst := make([]sensor.Sample, 4)
	if n := readBatch(t, d, dst, 1e9); n != 0 {
		t.Fatalf("overflowed read: %d samples", n)
	}
	if n := readBatch(t, d, dst, 1e9+5e6); n != 1 || dst[0].Status != sensor.StatusFIFOOverflow {
		t.Fatalf("after: %d samples, flags %#x", n, dst[0].Status)
	}
	if d.Stats().FIFOOverflows != 1 {
		t.Errorf("overflows %d", d.Stats().FIFOOverflows)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFIFOReadAllocs(t *testing.T) {
	one := imu([3]int16{}, [3]int16{}, 0)
	var ops []i2ctest.IO
	for range 101 {
		ops = append(ops, fifoRead(0, 14, one, mag(1, [3]int16{}, 0))...)
	}
	d, _ := newFIFO(t, ops...)
	dst := make([]sensor.Sample, 4)
	now := int64(1e9)
	if a := testing.AllocsPerRun(100, func() {
		now += 1e6
		dst[0].MonoNs = now
		if _, err := d.ReadBatch(dst); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("ReadBatch allocates %v times", a)
	}
}
