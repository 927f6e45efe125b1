package lsm6dsox

import (
	"math"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/sensor"
)

// fifoInitOps: init at 833 Hz (ODR 7), then FIFO_CTRL4 bypass, FIFO_CTRL3
// BDR_GY = BDR_XL = 833 Hz, FIFO_CTRL4 temperature at 52 Hz and continuous
// mode (datasheet 9.5, 9.6), and OUT_TEMP for the first samples.
func fifoInitOps(who byte, reset bool, temp int16) []i2ctest.IO {
	return append(initOps(0x6A, who, reset, 7, 0x08, 0x04),
		i2ctest.IO{Addr: 0x6A, W: []byte{0x0A, 0x00}},
		i2ctest.IO{Addr: 0x6A, W: []byte{0x09, 0x77}},
		i2ctest.IO{Addr: 0x6A, W: []byte{0x0A, 0x36}},
		i2ctest.IO{Addr: 0x6A, W: []byte{0x20}, R: le(nil, temp)},
	)
}

// word is one FIFO word: TAG_SENSOR, TAG_CNT, then three LE values.
func word(tag, cnt byte, v [3]int16) []byte {
	b := []byte{tag<<3 | cnt<<1}
	for _, x := range v {
		b = le(b, x)
	}
	return b
}

// fifoRead: FIFO_STATUS1/2 (DIFF_FIFO, FIFO_OVR_IA), then the words.
func fifoRead(words int, ovr bool, data []byte) []i2ctest.IO {
	s2 := byte(words>>8) & 3
	if ovr {
		s2 |= 0x40
	}
	ops := []i2ctest.IO{{Addr: 0x6A, W: []byte{0x3A}, R: []byte{byte(words), s2}}}
	if len(data) > 0 {
		ops = append(ops, i2ctest.IO{Addr: 0x6A, W: []byte{0x78}, R: data})
	}
	return ops
}

func newFIFO(t *testing.T, who byte, more ...i2ctest.IO) (*Dev, *i2ctest.Playback) {
	t.Helper()
	pb := &i2ctest.Playback{DontPanic: true, Ops: append(fifoInitOps(who, true, 256), more...)}
	d, err := New(pb, 0x6A, &Opts{RateHz: 833, FIFO: true})
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

// Pairs of tagged words make samples; a temperature word (256 LSB/°C, 25
// °C at 0) updates the following ones; timestamp and configuration words
// are skipped; a pair split by the burst's end completes on the next.
func TestFIFOWords(t *testing.T) {
	var data []byte
	data = append(data, word(tagGyro, 0, [3]int16{100, 0, 0})...)
	data = append(data, word(tagAccel, 0, [3]int16{0, 0, 8197})...)
	data = append(data, word(tagTemp, 1, [3]int16{512, 0, 0})...) // 27 °C
	data = append(data, word(0x04, 1, [3]int16{1, 2, 3})...)      // timestamp
	data = append(data, word(tagAccel, 1, [3]int16{1, 0, 8197})...)
	data = append(data, word(tagGyro, 1, [3]int16{101, 0, 0})...)
	data = append(data, word(tagGyro, 2, [3]int16{102, 0, 0})...) // half of sample 2
	ops := fifoRead(7, false, data)
	ops = append(ops, fifoRead(1, false, word(tagAccel, 2, [3]int16{2, 0, 8197}))...)
	d, pb := newFIFO(t, 0x6C, ops...)
	if d.FIFORateHz() != 833 {
		t.Fatalf("FIFORateHz %v", d.FIFORateHz())
	}
	dst := make([]sensor.Sample, 8)
	n := readBatch(t, d, dst, 1e9)
	if n != 2 {
		t.Fatalf("%d samples, want 2 (the third is split)", n)
	}
	if !near(dst[0].TempC, 26) || !near(dst[1].TempC, 27) {
		t.Errorf("temps %v %v, want 26 (OUT_TEMP at init) then 27 (the FIFO's)", dst[0].TempC, dst[1].TempC)
	}
	for i, s := range dst[:n] {
		if !near(s.Gyro[0], float64(100+i)*17.5e-3*deg) || !near(s.Accel[2], 8197*0.122e-3*g0) || !near(s.Accel[0], float64(i)*0.122e-3*g0) {
			t.Errorf("sample %d: gyro %v accel %v", i, s.Gyro, s.Accel)
		}
	}
	if step := dst[1].MonoNs - dst[0].MonoNs; math.Abs(float64(step)-1e9/833) > 1 {
		t.Errorf("spacing %d ns, want 1/833 Hz", step)
	}
	first := dst[1].MonoNs
	if n := readBatch(t, d, dst, 1e9+2e6); n != 1 || !near(dst[0].Gyro[0], 102*17.5e-3*deg) || dst[0].MonoNs <= first {
		t.Errorf("second read: %d samples, gyro %v at %d", n, dst[0].Gyro, dst[0].MonoNs)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

// A word whose counter differs from the pending half drops that half.
func TestFIFOCounterMismatch(t *testing.T) {
	var data []byte
	data = append(data, word(tagGyro, 0, [3]int16{1, 0, 0})...)
	data = append(data, word(tagGyro, 1, [3]int16{2, 0, 0})...)
	data = append(data, word(tagAccel, 1, [3]int16{3, 0, 0})...)
	d, pb := newFIFO(t, 0x6B, fifoRead(3, false, data)...)
	dst := make([]sensor.Sample, 4)
	if n := readBatch(t, d, dst, 1e9); n != 1 || !near(dst[0].Gyro[0], 2*17.5e-3*deg) {
		t.Fatalf("%d samples, gyro %v; want the one whole pair", n, dst[0].Gyro)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

// An overrun (FIFO_STATUS2 FIFO_OVR_IA) empties the FIFO through bypass
// mode, is counted and flags the next sample.
func TestFIFOOverrun(t *testing.T) {
	pair := append(word(tagGyro, 0, [3]int16{}), word(tagAccel, 0, [3]int16{})...)
	ops := fifoRead(300, true, nil)
	ops = append(ops, i2ctest.IO{Addr: 0x6A, W: []byte{0x0A, 0x00}}, i2ctest.IO{Addr: 0x6A, W: []byte{0x0A, 0x36}})
	ops = append(ops, fifoRead(2, false, pair)...)
	d, pb := newFIFO(t, 0x6C, ops...)
	dst := make([]sensor.Sample, 4)
	if n := readBatch(t, d, dst, 1e9); n != 0 {
		t.Fatalf("overrun read returned %d", n)
	}
	if n := readBatch(t, d, dst, 1e9+5e6); n != 1 || dst[0].Status != sensor.StatusFIFOOverflow {
		t.Fatalf("after overrun: %d samples, flags %#x", n, dst[0].Status)
	}
	if d.Stats().FIFOOverflows != 1 {
		t.Errorf("overflows %d, want 1", d.Stats().FIFOOverflows)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFIFOReadAllocs(t *testing.T) {
	pair := append(word(tagGyro, 0, [3]int16{}), word(tagAccel, 0, [3]int16{})...)
	var ops []i2ctest.IO
	for range 101 {
		ops = append(ops, fifoRead(2, false, pair)...)
	}
	d, _ := newFIFO(t, 0x6C, ops...)
	dst := make([]sensor.Sample, 4)
	now := int64(1e9)
	if a := testing.AllocsPerRun(100, func() {
		now += 1.2e6
		dst[0].MonoNs = now
		if _, err := d.ReadBatch(dst); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("ReadBatch allocates %v times", a)
	}
}
