package lsm6dsox

import (
	"errors"
	"math"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"github.com/imustream/imustream/sensor"
)

// The LSM6DS3TR-C's FIFO. Sources: DocID030071 (LSM6DS3TR-C datasheet)
// 5.5, 9.4–9.8, 9.53–9.58; AN5130 4.7.1, 8.2–8.5, 8.9.

// patInitOps is a FIFO init at ODR code odr (AN5130 8.3.1: configured
// in bypass; 8.9: temperature as the 4th data set; DocID030071 9.5–9.8):
// FIFO_CTRL5 bypass, FIFO_CTRL3 0x09 (gyroscope and accelerometer
// undecimated), FIFO_CTRL4 DEC_DS4_FIFO dec4, FIFO_CTRL2 FIFO_TEMP_EN,
// FIFO_CTRL5 ODR_FIFO = odr and continuous mode (110), then OUT_TEMP.
func patInitOps(reset bool, odr, dec4 byte, temp int16) []i2ctest.IO {
	return append(initOps(0x6A, 0x6A, reset, odr, 0x08, 0x04),
		i2ctest.IO{Addr: 0x6A, W: []byte{0x0A, 0x00}},
		i2ctest.IO{Addr: 0x6A, W: []byte{0x08, 0x09}},
		i2ctest.IO{Addr: 0x6A, W: []byte{0x09, dec4 << 3}},
		i2ctest.IO{Addr: 0x6A, W: []byte{0x07, 0x08}},
		i2ctest.IO{Addr: 0x6A, W: []byte{0x0A, odr<<3 | 0b110}},
		i2ctest.IO{Addr: 0x6A, W: []byte{0x20}, R: le(nil, temp)},
	)
}

// patStatus is the FIFO_STATUS1…4 burst (DocID030071 9.53–9.56):
// DIFF_FIFO[10:0], OVER_RUN (bit 6), FIFO_EMPTY (bit 4), FIFO_PATTERN.
func patStatus(words, pattern int, over, empty bool) i2ctest.IO {
	s2 := byte(words>>8) & 7
	if over {
		s2 |= 0x40
	}
	if empty {
		s2 |= 0x10
	}
	return i2ctest.IO{Addr: 0x6A, W: []byte{0x3A}, R: []byte{byte(words), s2, byte(pattern), byte(pattern>>8) & 3}}
}

// patData is one burst from FIFO_DATA_OUT_L (AN5130 4.7.1: the address
// rolls from 0x3F back to 0x3E), little-endian words.
func patData(words ...[]int16) i2ctest.IO {
	var r []byte
	for _, ws := range words {
		for _, w := range ws {
			r = le(r, w)
		}
	}
	return i2ctest.IO{Addr: 0x6A, W: []byte{0x3E}, R: r}
}

// gxl is one sample's words: Gx Gy Gz XLx XLy XLz (AN5130 8.5.1).
func gxl(g, a [3]int16) []int16 { return append(g[:], a[:]...) }

// tset is a temperature data set: the value in bytes 3–4 (AN5130 8.9,
// table 74).
func tset(raw int16) []int16 { return []int16{0x5555, raw, 0x5555} }

func newPattern(t *testing.T, rate int, odr, dec4 byte, more ...i2ctest.IO) (*Dev, *i2ctest.Playback) {
	t.Helper()
	pb := &i2ctest.Playback{DontPanic: true, Ops: append(patInitOps(true, odr, dec4, 256), more...)}
	d, err := New(pb, 0x6A, &Opts{RateHz: rate, FIFO: true})
	if err != nil {
		t.Fatal(err)
	}
	return d, pb
}

// Init at every FIFO rate: DEC_DS4_FIFO puts the temperature in at 52 Hz
// or the nearest rate above (factors 1, 2, 4, 8, 16, 32: AN5130 table
// 58); ODR_FIFO = the ODR (table 60).
func TestPatternFIFOInit(t *testing.T) {
	for _, tc := range []struct {
		rate      int
		odr, dec4 byte
		patLen    int
	}{
		{26, 2, 0b001, 9}, {52, 3, 0b001, 9}, {104, 4, 0b010, 15}, {208, 5, 0b100, 27},
		{416, 6, 0b101, 51}, {833, 7, 0b110, 99}, {1666, 8, 0b111, 195}, {6666, 10, 0b111, 195},
	} {
		d, pb := newPattern(t, tc.rate, tc.odr, tc.dec4)
		if err := pb.Close(); err != nil {
			t.Fatalf("%d Hz: %v", tc.rate, err)
		}
		if _, ok := sensor.AsBatcher(d); !ok || d.FIFORateHz() != odrs[tc.odr] || d.pat.len != tc.patLen {
			t.Errorf("%d Hz: batcher %v, FIFO rate %v, pattern %d words, want %d", tc.rate, ok, d.FIFORateHz(), d.pat.len, tc.patLen)
		}
	}
}

// At 104 Hz the pattern is 15 words, Gx…XLz T0 T1 T2 Gx…XLz (AN5130
// 8.5). Each read takes the whole samples and a temperature set after
// them; a partial set waits for the next read, which starts at its
// pattern position. The first sample after the FIFO starts is dropped
// (DocID030071 5.5). FIFO_EMPTY reads nothing (AN5130 8.4).
func TestPatternFIFOPartialSets(t *testing.T) {
	a := gxl([3]int16{1, 0, 0}, [3]int16{0, 0, 8197})
	b := gxl([3]int16{100, 0, 0}, [3]int16{1, 0, 8197})
	c := gxl([3]int16{101, 0, 0}, [3]int16{2, 0, 8197})
	d2 := gxl([3]int16{102, 0, 0}, [3]int16{3, 0, 8197})
	e := gxl([3]int16{103, 0, 0}, [3]int16{4, 0, 8197})
	t27, t28 := tset(512), tset(768) // 27 °C, 28 °C (256 LSB/°C, 0 at 25)
	ops := []i2ctest.IO{
		// A T B C and two words of the next temperature set.
		patStatus(6+3+6+6+2, 0, false, false), patData(a, t27, b, c),
		// The temperature set, D, and E's gyroscope and one word more.
		patStatus(3+6+4, 6, false, false), patData(t28, d2),
		patStatus(0, 0, false, true),
		patStatus(6, 0, false, false), patData(e),
	}
	d, pb := newPattern(t, 104, 4, 0b010, ops...)
	dst := make([]sensor.Sample, 8)
	var got []sensor.Sample
	for k, want := range []int{2, 1, 0, 1} {
		dst[0].MonoNs, dst[0].WallNs = int64(k+1)*20e6, int64(k+1)*20e6
		n, err := d.ReadBatch(dst)
		if err != nil || n != want {
			t.Fatalf("read %d: %d samples, %v; want %d", k, n, err, want)
		}
		got = append(got, dst[:n]...)
	}
	for i, s := range got {
		wantT := []float64{27, 27, 28, 28}[i]
		if !near(s.Gyro[0], float64(100+i)*17.5e-3*deg) || !near(s.Accel[0], float64(i+1)*0.122e-3*g0) ||
			!near(s.Accel[2], 8197*0.122e-3*g0) || !near(s.TempC, wantT) || s.Status != 0 {
			t.Errorf("sample %d: gyro %v accel %v %v °C flags %#x", i, s.Gyro, s.Accel, s.TempC, s.Status)
		}
		if i > 0 {
			if step := s.MonoNs - got[i-1].MonoNs; step <= 0 {
				t.Errorf("sample %d at %d, not after %d", i, s.MonoNs, got[i-1].MonoNs)
			}
		}
	}
	if step := got[1].MonoNs - got[0].MonoNs; math.Abs(float64(step)-1e9/104) > 1 {
		t.Errorf("spacing %d ns, want 1/104 Hz", step)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

// A read that does not start at a sample's first word or the temperature
// set (FIFO_PATTERN mid-set) discards the words up to the next one.
func TestPatternFIFORealign(t *testing.T) {
	a := gxl([3]int16{1, 0, 0}, [3]int16{})
	b := gxl([3]int16{2, 0, 0}, [3]int16{})
	c := gxl([3]int16{3, 0, 0}, [3]int16{})
	ops := []i2ctest.IO{
		patStatus(6, 0, false, false), patData(a), // dropped: the first
		// At 13 (XLy of the set at 9): XLy XLz discarded, then B at 0.
		patStatus(2+6, 13, false, false), patData([]int16{-1, -1}, b),
		// At 1 (Gy): Gy … XLz discarded, then the temperature, then C.
		patStatus(5+3+6, 1, false, false), patData([]int16{-1, -1, -1, -1, -1}, tset(-256), c),
		// At 3 (XLx): a set without its gyroscope is discarded too, and
		// with no whole sample after it the read takes just those.
		patStatus(3+2, 3, false, false), patData([]int16{-1, -1, -1}),
	}
	d, pb := newPattern(t, 104, 4, 0b010, ops...)
	dst := make([]sensor.Sample, 4)
	for k, want := range []float64{0, 2, 3, 0} {
		dst[0].MonoNs = int64(k+1) * 20e6
		n, err := d.ReadBatch(dst)
		if err != nil || (want == 0) != (n == 0) || (n > 0 && (n != 1 || !near(dst[0].Gyro[0], want*17.5e-3*deg))) {
			t.Fatalf("read %d: %d samples (gyro %v), %v; want gyro x %v", k, n, dst[0].Gyro, err, want)
		}
		if k == 2 && !near(dst[0].TempC, 24) {
			t.Errorf("temperature %v, want 24 °C", dst[0].TempC)
		}
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

// OVER_RUN (DIFF_FIFO then 0: AN5130 8.1.7) empties the FIFO through
// bypass and restarts continuous mode (DocID030071 5.5.1, 5.5.3); it is
// counted and flags the next sample (the first after the restart is
// dropped, 5.5).
func TestPatternFIFOOverrun(t *testing.T) {
	ops := []i2ctest.IO{
		patStatus(0, 0, true, false),
		{Addr: 0x6A, W: []byte{0x0A, 0x00}}, {Addr: 0x6A, W: []byte{0x0A, 0x26}},
		patStatus(15, 0, false, false),
		patData(gxl([3]int16{1}, [3]int16{}), tset(0), gxl([3]int16{2}, [3]int16{})),
	}
	d, pb := newPattern(t, 104, 4, 0b010, ops...)
	dst := make([]sensor.Sample, 4)
	dst[0].MonoNs = 20e6
	if n, err := d.ReadBatch(dst); n != 0 || err != nil {
		t.Fatalf("overrun read: %d, %v", n, err)
	}
	dst[0].MonoNs = 40e6
	if n, err := d.ReadBatch(dst); n != 1 || err != nil || dst[0].Status != sensor.StatusFIFOOverflow || !near(dst[0].Gyro[0], 2*17.5e-3*deg) {
		t.Fatalf("after overrun: %d, %v, flags %#x gyro %v", n, err, dst[0].Status, dst[0].Gyro)
	}
	if d.Stats().FIFOOverflows != 1 {
		t.Errorf("overflows %d, want 1", d.Stats().FIFOOverflows)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

// Failed reads count; after MaxErrors the chip is re-initialised (the
// FIFO set up again, AN5130 8.3.1) and the first sample after it is
// flagged. A FIFO_PATTERN beyond the pattern is such a failure.
func TestPatternFIFOFaultReinitRecovery(t *testing.T) {
	inner := &i2ctest.Playback{DontPanic: true, Ops: patInitOps(true, 4, 0b010, 0)}
	inner.Ops = append(inner.Ops, patStatus(6, 15, false, false)) // beyond 0..14
	inner.Ops = append(inner.Ops, patInitOps(false, 4, 0b010, 0)...)
	inner.Ops = append(inner.Ops, patStatus(15, 0, false, false),
		patData(gxl([3]int16{1}, [3]int16{}), tset(0), gxl([3]int16{7}, [3]int16{8})))
	bus := &faultBus{inner: inner}
	d, err := New(bus, 0x6A, &Opts{RateHz: 104, FIFO: true, MaxErrors: 2})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]sensor.Sample, 4)
	bus.fails = 1
	for i := range 2 {
		dst[0].MonoNs = int64(i+1) * 20e6
		if n, err := d.ReadBatch(dst); n != 0 || err == nil || dst[0].Status&sensor.StatusSensorError == 0 {
			t.Fatalf("failed read %d: %d, %v, flags %#x", i, n, err, dst[0].Status)
		} else if i == 0 && !errors.Is(err, errNACK) {
			t.Fatalf("read 0: %v, want the bus error", err)
		}
	}
	dst[0].MonoNs = 60e6
	n, err := d.ReadBatch(dst)
	if err != nil || n != 1 || dst[0].Status != sensor.StatusReinit || !near(dst[0].Accel[0], 8*0.122e-3*g0) {
		t.Fatalf("after re-init: %d, %v, flags %#x accel %v; want 1 sample flagged re-initialised", n, err, dst[0].Status, dst[0].Accel)
	}
	if st := d.Stats(); st.Errors != 2 || st.Reinits != 1 || st.Reads != 1 {
		t.Errorf("stats %+v", st)
	}
	if err := inner.Close(); err != nil {
		t.Fatal(err)
	}
}

// plan: how many words a read takes and how many whole samples the FIFO
// holds, for a 15-word pattern (104 Hz).
func TestPatternPlan(t *testing.T) {
	for _, tc := range []struct {
		pos, words, max int
		drop            bool
		take, queued    int
	}{
		{0, 0, 8, false, 0, 0},
		{0, 5, 8, false, 0, 0},           // a partial sample
		{0, 6, 8, false, 6, 1},           // one sample
		{0, 8, 8, false, 6, 1},           // and a partial temperature set
		{0, 9, 8, false, 9, 1},           // and a whole one
		{0, 15 + 6, 2, false, 15, 3},     // dst holds 2 of 3
		{0, 15, 8, true, 15, 1},          // the first dropped
		{6, 3, 8, false, 3, 0},           // a temperature set alone
		{14, 1 + 6, 8, false, 7, 1},      // XLz discarded
		{0, 2048, 500, false, 1020, 273}, // the buffer (1024 words) bounds a read
	} {
		s := patState{len: 15, pos: tc.pos, drop: tc.drop}
		take, queued := s.plan(tc.words, tc.max)
		if take != tc.take || queued != tc.queued {
			t.Errorf("%+v: take %d, queued %d", tc, take, queued)
		}
	}
}

func TestPatternFIFOReadAllocs(t *testing.T) {
	var ops []i2ctest.IO
	for k := range 102 {
		// One sample per read, at positions 0 and 9, the temperature set
		// with the first.
		if k%2 == 0 {
			ops = append(ops, patStatus(9, 0, false, false), patData(gxl([3]int16{}, [3]int16{}), tset(0)))
		} else {
			ops = append(ops, patStatus(6, 9, false, false), patData(gxl([3]int16{}, [3]int16{})))
		}
	}
	d, _ := newPattern(t, 104, 4, 0b010, ops...)
	dst := make([]sensor.Sample, 4)
	now := int64(1e9)
	if a := testing.AllocsPerRun(100, func() {
		now += 9.6e6
		dst[0].MonoNs = now
		if _, err := d.ReadBatch(dst); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("ReadBatch allocates %v times", a)
	}
}

// loopBus answers every FIFO_STATUS with one whole 104 Hz pattern (two
// samples and the temperature) at position 0, and every read with zeros.
type loopBus struct{}

func (loopBus) String() string                  { return "loop" }
func (loopBus) SetSpeed(physic.Frequency) error { return nil }
func (loopBus) Tx(_ uint16, w, r []byte) error {
	clear(r)
	if len(w) == 1 && w[0] == 0x3A && len(r) == 4 {
		r[0] = 15
	}
	if len(w) == 1 && w[0] == 0x0F && len(r) == 1 {
		r[0] = 0x6A
	}
	return nil
}

// The per-tick cost of an LSM6DS3TR-C FIFO read (two samples).
func BenchmarkPatternReadBatch(b *testing.B) {
	d, err := New(loopBus{}, 0x6A, &Opts{RateHz: 104, FIFO: true})
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]sensor.Sample, 8)
	now := int64(1e9)
	b.ReportAllocs()
	for b.Loop() {
		now += 19.2e6
		dst[0].MonoNs = now
		if _, err := d.ReadBatch(dst); err != nil {
			b.Fatal(err)
		}
	}
}
