package mpu6050

import (
	"math"
	"testing"

	"periph.io/x/conn/v3/physic"

	"github.com/imustream/imustream/sensor"
)

// fuzzBus answers every read with the next bytes of data (zeros once it
// runs out) and takes every write: a chip that says anything at all.
type fuzzBus struct{ data []byte }

func (f *fuzzBus) String() string { return "fuzz" }

func (f *fuzzBus) SetSpeed(physic.Frequency) error { return nil }

func (f *fuzzBus) Tx(_ uint16, _, r []byte) error {
	n := copy(r, f.data)
	clear(r[n:])
	f.data = f.data[n:]
	return nil
}

// FuzzReadBatch feeds ReadBatch arbitrary INT_STATUS, FIFO_COUNT and FIFO
// bytes: it must never panic, return more than dst holds, or time samples
// out of order, and the values stay within full scale.
func FuzzReadBatch(f *testing.F) {
	one := frame([3]int16{1, -2, 8192}, 100, [3]int16{-32768, 32767, 0})
	f.Add(append([]byte{0, 0, 14}, one...))
	f.Add(append([]byte{0, 0, 30}, append(one, one...)...))
	f.Add([]byte{0x10, 0x02, 0x00})
	f.Add([]byte{0, 0xFF, 0xFF})
	f.Add([]byte{0, 0x02, 0x01, 1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		bus := &fuzzBus{data: []byte{0x71}}
		d, err := New(bus, 0x68, &Opts{RateHz: 1000, FIFO: true})
		if err != nil {
			t.Fatal(err)
		}
		bus.data = data
		dst := make([]sensor.Sample, 8)
		fs := 4 * g0
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
					if math.IsNaN(float64(v)) || math.Abs(float64(v)) > fs*1.0001 {
						t.Fatalf("accel %v beyond ±4 g", s.Accel)
					}
				}
			}
		}
	})
}
