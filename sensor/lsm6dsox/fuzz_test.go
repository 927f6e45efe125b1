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

// FuzzReadBatch feeds ReadBatch arbitrary FIFO_STATUS and FIFO words: it
// must never panic, return more than dst holds or time samples out of
// order, and the values stay within full scale.
func FuzzReadBatch(f *testing.F) {
	pair := append(word(tagGyro, 0, [3]int16{1, 2, 3}), word(tagAccel, 0, [3]int16{-32768, 0, 32767})...)
	f.Add(append([]byte{2, 0}, pair...))
	f.Add(append([]byte{3, 0}, append(word(tagTemp, 0, [3]int16{77}), pair...)...))
	f.Add([]byte{0xFF, 0x43})
	f.Add(append([]byte{1, 0}, word(tagGyro, 3, [3]int16{})...))
	f.Fuzz(func(t *testing.T, data []byte) {
		bus := &fuzzBus{data: []byte{0x6C, 0, 0}} // WHO_AM_I, OUT_TEMP
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
			if err != nil || n < 0 || n > len(dst) {
				t.Fatalf("ReadBatch = %d, %v", n, err)
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
