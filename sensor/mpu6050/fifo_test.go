package mpu6050

import (
	"math"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/imustream/imustream/sensor"
)

// fifoInitOps is New's traffic with Opts.FIFO on an MPU-6500 family chip
// at 1 kHz (SMPLRT_DIV 0, DLPF 184 Hz): the init of initOps with
// CONFIG.FIFO_MODE set, then FIFO reset, FIFO on and FIFO_EN (register
// map 4.4, 4.7, 4.20).
func fifoInitOps(who byte, reset bool) []i2ctest.IO {
	ops := initOps(0x68, who, reset, regs{div: 0, config: 0x41, gyro: 0x08, accel: 0x08})
	// ACCEL_CONFIG2 carries the filter without FIFO_MODE.
	ops[len(ops)-1].W[1] = 0x01
	return append(ops,
		i2ctest.IO{Addr: 0x68, W: []byte{0x6A, 0x04}},
		i2ctest.IO{Addr: 0x68, W: []byte{0x6A, 0x40}},
		i2ctest.IO{Addr: 0x68, W: []byte{0x23, 0xF8}},
	)
}

// frame is one 14-byte FIFO frame: accel, temp, gyro, big-endian.
func frame(accel [3]int16, temp int16, gyro [3]int16) []byte {
	return burst(0x68, accel, temp, gyro).R
}

// fifoRead is ReadBatch's traffic: INT_STATUS, FIFO_COUNT, then the
// frames (none when data is empty).
func fifoRead(status byte, count int, data []byte) []i2ctest.IO {
	ops := []i2ctest.IO{
		{Addr: 0x68, W: []byte{0x3A}, R: []byte{status}},
		{Addr: 0x68, W: []byte{0x72}, R: []byte{byte(count >> 8), byte(count)}},
	}
	if len(data) > 0 {
		ops = append(ops, i2ctest.IO{Addr: 0x68, W: []byte{0x74}, R: data})
	}
	return ops
}

func newFIFO(t *testing.T, who byte, more ...i2ctest.IO) (*Dev, *i2ctest.Playback) {
	t.Helper()
	pb := &i2ctest.Playback{DontPanic: true, Ops: append(fifoInitOps(who, true), more...)}
	d, err := New(pb, 0x68, &Opts{RateHz: 1000, FIFO: true})
	if err != nil {
		t.Fatal(err)
	}
	return d, pb
}

func readBatch(t *testing.T, d *Dev, dst []sensor.Sample, now int64) int {
	t.Helper()
	dst[0].MonoNs, dst[0].WallNs = now, now+5e9
	n, err := d.ReadBatch(dst)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFIFOInitEachChip(t *testing.T) {
	for _, who := range []byte{0x70, 0x71, 0x73} {
		d, pb := newFIFO(t, who)
		closeOK(t, pb)
		if d.FIFORateHz() != 1000 {
			t.Errorf("WHO_AM_I %#x: FIFORateHz %v, want 1000", who, d.FIFORateHz())
		}
		if _, ok := sensor.AsBatcher(d); !ok {
			t.Errorf("WHO_AM_I %#x: not a Batcher", who)
		}
	}
	// The MPU-6050 is read sample by sample: no FIFO traffic at all.
	pb := &i2ctest.Playback{DontPanic: true, Ops: initOps(0x68, 0x68, true, regs{div: 0, config: 0x01, gyro: 0x08, accel: 0x08})}
	d, err := New(pb, 0x68, &Opts{RateHz: 1000, FIFO: true})
	if err != nil {
		t.Fatal(err)
	}
	closeOK(t, pb)
	if _, ok := sensor.AsBatcher(d); ok || d.FIFORateHz() != 0 {
		t.Error("MPU-6050 claims a FIFO")
	}
	if n, err := d.ReadBatch(make([]sensor.Sample, 4)); n != 0 || err != nil {
		t.Errorf("MPU-6050 ReadBatch = %d, %v", n, err)
	}
}

// Frames decode as Read's burst does (register map 4.17: accel at ±4 g is
// 8192 LSB/g; 4.19: gyro at ±500 °/s is 65.5 LSB/(°/s); 4.18: T =
// TEMP_OUT/333.87 + 21), a partial frame stays queued, and the times step
// by the ODR period.
func TestFIFOFramesAndPartial(t *testing.T) {
	var data []byte
	for i := range 5 {
		data = append(data, frame([3]int16{int16(i), 0, 8192}, 3339, [3]int16{655, -655, int16(i)})...)
	}
	ops := fifoRead(0, 5*14+9, data) // 5 frames and 9 bytes of the sixth
	ops = append(ops, fifoRead(0, 5+2*14, append(frame([3]int16{5, 0, 8192}, 0, [3]int16{}), frame([3]int16{6, 0, 8192}, 0, [3]int16{})...))...)
	ops = append(ops, fifoRead(0, 10, nil)...) // less than a frame: nothing
	d, pb := newFIFO(t, 0x71, ops...)
	dst := make([]sensor.Sample, 16)
	n := readBatch(t, d, dst, 1e9)
	if n != 5 {
		t.Fatalf("first batch %d samples, want 5 (the partial frame stays)", n)
	}
	for i, s := range dst[:n] {
		if s.Accel[0] != float32(float64(i)/8192*g0) || !near(s.Accel[2], g0, 1e-6) {
			t.Errorf("sample %d accel %v", i, s.Accel)
		}
		if !near(s.Gyro[0], 10*deg, 1e-6) || !near(s.Gyro[1], -10*deg, 1e-6) {
			t.Errorf("sample %d gyro %v, want ±10 °/s", i, s.Gyro)
		}
		if !near(s.TempC, 3339/333.87+21, 1e-6) {
			t.Errorf("sample %d temp %v", i, s.TempC)
		}
		if s.WallNs-s.MonoNs != 5e9 {
			t.Errorf("sample %d: wall − mono %d", i, s.WallNs-s.MonoNs)
		}
		if i > 0 && s.MonoNs-dst[i-1].MonoNs != 1e6 {
			t.Errorf("sample %d: %d ns after the one before, want the 1 ms ODR period", i, s.MonoNs-dst[i-1].MonoNs)
		}
		if s.MonoNs >= 1e9 {
			t.Errorf("sample %d at %d, after the read that found it", i, s.MonoNs)
		}
	}
	last := dst[n-1].MonoNs
	if n := readBatch(t, d, dst, 1e9+2e6); n != 2 || dst[0].Accel[0] != float32(5/8192.0*g0) || dst[0].MonoNs <= last {
		t.Errorf("second batch: %d samples, first accel %v at %d (last before %d)", n, dst[0].Accel, dst[0].MonoNs, last)
	}
	if n := readBatch(t, d, dst, 1e9+2e6+100e3); n != 0 {
		t.Errorf("third batch: %d samples, want none", n)
	}
	closeOK(t, pb)
}

// An overflow (INT_STATUS FIFO_OFLOW_INT, register map 4.21) or a count
// past the 512 bytes resets the FIFO, is counted, and flags the next
// sample.
func TestFIFOOverflow(t *testing.T) {
	one := frame([3]int16{0, 0, 8192}, 0, [3]int16{})
	for name, first := range map[string][]i2ctest.IO{
		"flag":  fifoRead(0x10, 504, nil),
		"count": fifoRead(0, 513, nil),
	} {
		t.Run(name, func(t *testing.T) {
			ops := append(first, i2ctest.IO{Addr: 0x68, W: []byte{0x6A, 0x44}})
			ops = append(ops, fifoRead(0, 28, append(append([]byte{}, one...), one...))...)
			ops = append(ops, fifoRead(0, 14, one)...)
			d, pb := newFIFO(t, 0x70, ops...)
			dst := make([]sensor.Sample, 8)
			if n := readBatch(t, d, dst, 1e9); n != 0 {
				t.Fatalf("overflowed read returned %d samples", n)
			}
			if n := readBatch(t, d, dst, 1e9+2e6); n != 2 || dst[0].Status&sensor.StatusFIFOOverflow == 0 || dst[1].Status != 0 {
				t.Fatalf("after the reset: %d samples, flags %#x %#x; want 2, the first flagged", n, dst[0].Status, dst[1].Status)
			}
			if n := readBatch(t, d, dst, 1e9+3e6); n != 1 || dst[0].Status != 0 {
				t.Fatalf("next: %d samples, flags %#x", n, dst[0].Status)
			}
			if st := d.Stats(); st.FIFOOverflows != 1 || st.Reads != 3 {
				t.Errorf("stats %+v, want 1 overflow, 3 reads", st)
			}
			closeOK(t, pb)
		})
	}
}

// More queued than dst holds: the oldest are read, the rest next time,
// and the times stay one period apart across the two reads.
func TestFIFOMoreThanDst(t *testing.T) {
	var data []byte
	for i := range 6 {
		data = append(data, frame([3]int16{int16(i), 0, 0}, 0, [3]int16{})...)
	}
	ops := fifoRead(0, 6*14, data[:4*14])
	ops = append(ops, fifoRead(0, 2*14, data[4*14:])...)
	d, pb := newFIFO(t, 0x71, ops...)
	a := make([]sensor.Sample, 4)
	if n := readBatch(t, d, a, 1e9); n != 4 {
		t.Fatalf("%d samples, want 4", n)
	}
	b := make([]sensor.Sample, 4)
	if n := readBatch(t, d, b, 1e9+1); n != 2 || b[0].Accel[0] != float32(4/8192.0*g0) {
		t.Fatalf("%d samples, accel %v; want the 2 left", n, b[0].Accel)
	}
	if step := b[0].MonoNs - a[3].MonoNs; math.Abs(float64(step)-1e6) > 1 {
		t.Errorf("step across the reads %d ns, want 1 ms", step)
	}
	closeOK(t, pb)
}

// Failed reads count; after MaxErrors the chip is re-initialised (FIFO
// reset and on again) and the first sample after it is flagged.
func TestFIFOFaultReinitRecovery(t *testing.T) {
	one := frame([3]int16{1, 2, 3}, 0, [3]int16{4, 5, 6})
	inner := &i2ctest.Playback{DontPanic: true, Ops: fifoInitOps(0x71, true)}
	inner.Ops = append(inner.Ops, fifoInitOps(0x71, false)...)
	inner.Ops = append(inner.Ops, fifoRead(0, 14, one)...)
	bus := &faultBus{inner: inner}
	d, err := New(bus, 0x68, &Opts{RateHz: 1000, FIFO: true, MaxErrors: 2})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]sensor.Sample, 4)
	bus.failNext(2)
	for i := range 2 {
		dst[0].MonoNs = int64(i+1) * 5e6
		if n, err := d.ReadBatch(dst); n != 0 || err == nil || dst[0].Status&sensor.StatusSensorError == 0 {
			t.Fatalf("failed read %d: %d, %v, flags %#x", i, n, err, dst[0].Status)
		}
	}
	dst[0].MonoNs = 15e6
	n, err := d.ReadBatch(dst)
	if err != nil || n != 1 || dst[0].Status != sensor.StatusReinit {
		t.Fatalf("after re-init: %d, %v, flags %#x; want 1 sample flagged re-initialised", n, err, dst[0].Status)
	}
	if st := d.Stats(); st.Errors != 2 || st.Reinits != 1 || st.Reads != 1 {
		t.Errorf("stats %+v", st)
	}
	if err := inner.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFIFOReadAllocs(t *testing.T) {
	one := frame([3]int16{1, 2, 3}, 0, [3]int16{4, 5, 6})
	const runs = 100
	var ops []i2ctest.IO
	for range runs + 1 {
		ops = append(ops, fifoRead(0, 14, one)...)
	}
	d, _ := newFIFO(t, 0x71, ops...)
	dst := make([]sensor.Sample, 4)
	now := int64(1e9)
	if a := testing.AllocsPerRun(runs, func() {
		now += 1e6
		dst[0].MonoNs = now
		if _, err := d.ReadBatch(dst); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("ReadBatch allocates %v times", a)
	}
}
