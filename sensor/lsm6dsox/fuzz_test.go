package lsm6dsox

import (
	"math"
	"testing"

	"periph.io/x/conn/v3/physic"

	"github.com/imustream/imustream/sensor"
)

// fuzzBus answers every read with the next bytes of data (zeros once it
// runs out) and takes every write.
type fuzzBus struct{ data []byte }

func (f *fuzzBus) String() string                  { return "fuzz" }
func (f *fuzzBus) SetSpeed(physic.Frequency) error { return nil }
func (f *fuzzBus) Tx(_ uint16, _, r []byte) error {
	n := copy(r, f.data)
	clear(r[n:])
	f.data = f.data[n:]
	return nil
}

// FuzzReadBatch feeds ReadBatch arbitrary FIFO status and FIFO words,
// tagged (LSM6DSO) or, with ds3, in the LSM6DS3TR-C's pattern: it must
// never panic, return more than dst holds or time samples out of order,
// and the values stay within full scale.
func FuzzReadBatch(f *testing.F) {
	pair := append(word(tagGyro, 0, [3]int16{1, 2, 3}), word(tagAccel, 0, [3]int16{-32768, 0, 32767})...)
	f.Add(false, append([]byte{2, 0}, pair...))
	f.Add(false, append([]byte{3, 0}, append(word(tagTemp, 0, [3]int16{77}), pair...)...))
	f.Add(false, []byte{0xFF, 0x43})
	f.Add(false, append([]byte{1, 0}, word(tagGyro, 3, [3]int16{})...))
	// The LSM6DS3TR-C at 833 Hz: a 99-word pattern. FIFO_STATUS1…4, then
	// the words.
	words := func(ws ...[]int16) []byte {
		var b []byte
		for _, w := range ws {
			for _, v := range w {
				b = le(b, v)
			}
		}
		return b
	}
	s := gxl([3]int16{1, 2, 3}, [3]int16{-32768, 0, 32767})
	f.Add(true, append([]byte{21, 0, 0, 0}, words(s, tset(77), s, s)...))
	f.Add(true, append([]byte{12, 0, 97, 0}, words([]int16{1, 2}, s, tset(-5))...))
	f.Add(true, []byte{0, 0x40, 0, 0})
	f.Add(true, []byte{0xFF, 0x07, 98, 0})
	f.Add(true, append([]byte{8, 0, 4, 0}, words([]int16{9, 9}, s)...))
	f.Fuzz(func(t *testing.T, ds3 bool, data []byte) {
		who := byte(0x6C)
		if ds3 {
			who = 0x6A
		}
		bus := &fuzzBus{data: []byte{who, 0, 0}} // WHO_AM_I, OUT_TEMP
		d, err := New(bus, 0x6A, &Opts{RateHz: 833, FIFO: true})
		if err != nil {
			t.Fatal(err)
		}
		bus.data = data
		dst := make([]sensor.Sample, 8)
		last := int64(math.MinInt64)
		for k := range 4 {
			dst[0].MonoNs = int64(k+1) * 5e6
			n, err := d.ReadBatch(dst)
			if n < 0 || n > len(dst) || (err != nil && n != 0) {
				t.Fatalf("ReadBatch = %d, %v", n, err)
			}
			if err != nil && !ds3 {
				t.Fatalf("ReadBatch: %v", err)
			}
			for i, s := range dst[:n] {
				if s.Status&sensor.StatusFIFOOverflow == 0 && s.MonoNs <= last {
					t.Fatalf("read %d sample %d at %d, not after %d", k, i, s.MonoNs, last)
				}
				last = s.MonoNs
				for _, v := range s.Accel {
					if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 4*g0*1.001 {
						t.Fatalf("accel %v beyond ±4 g", s.Accel)
					}
				}
			}
		}
	})
}
