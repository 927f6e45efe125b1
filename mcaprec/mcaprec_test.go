package mcaprec

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/foxglove/mcap/go/mcap"

	"github.com/imustream/imustream/ros2"
	"github.com/imustream/imustream/sensor"
)

// Samples returns n samples at 200 Hz: every 10th with a magnetometer
// reading (and one of them overflowed), every 20th with pressure, the
// second half with an orientation.
func Samples(n int) []sensor.Sample {
	out := make([]sensor.Sample, n)
	for i := range out {
		s := &out[i]
		f := float32(i)
		s.MonoNs, s.WallNs = 1e12+int64(i)*5e6, 1.7e18+int64(i)*5e6
		s.Accel = [3]float32{0.01 * f, -0.5, 9.80665}
		s.Gyro = [3]float32{0.001 * f, 0.25, -0.125}
		s.TempC = 20 + 0.01*f
		if i%10 == 0 {
			s.Status |= sensor.StatusMag
			s.Mag = [3]float32{20 + f, -5, 42.5}
			if i == 30 {
				s.Status |= sensor.StatusMagOverflow
			}
		}
		if i%20 == 0 {
			s.Status |= sensor.StatusPressure
			s.PressurePa = 101325 + f
		}
		if i >= n/2 {
			s.Status |= sensor.StatusOrientation
			s.Quat = [4]float32{0.5, 0.5, -0.5, 0.5}
		}
	}
	return out
}

func write(t *testing.T, w io.Writer, samples []sensor.Sample, opts Options) *Writer {
	t.Helper()
	x, err := NewWriter(w, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range samples {
		if err := x.WriteSample(&samples[i], samples[i].WallNs+7, uint32(i)); err != nil {
			t.Fatal(err)
		}
	}
	return x
}

// check compares every message the iterator gives with the sample of
// its sequence number; it returns how many of each topic it saw.
func check(t *testing.T, it mcap.MessageIterator, samples []sensor.Sample) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for {
		schema, ch, m, err := it.NextInto(nil)
		if errors.Is(err, io.EOF) {
			return seen
		}
		if err != nil {
			t.Fatalf("after %v: %v", seen, err)
		}
		seen[ch.Topic]++
		s := &samples[m.Sequence]
		stamp := s.WallNs + 7
		if m.LogTime != uint64(stamp) || m.PublishTime != uint64(stamp) {
			t.Fatalf("%s %d: log time %d, want %d", ch.Topic, m.Sequence, m.LogTime, stamp)
		}
		var h ros2.Header
		switch schema.Name {
		case ros2.ImuType:
			var got, want ros2.Imu
			if err := ros2.ParseImu(m.Data, &got); err != nil {
				t.Fatal(err)
			}
			Imu(&want, s, stamp, "base")
			if got != want {
				t.Fatalf("imu %d: %+v, want %+v", m.Sequence, got, want)
			}
			if s.Status&sensor.StatusOrientation == 0 && got.OrientationCovariance[0] != -1 {
				t.Fatalf("imu %d without orientation: covariance[0] %v", m.Sequence, got.OrientationCovariance[0])
			}
			if s.Status&sensor.StatusOrientation != 0 && (got.Orientation != [4]float64{0.5, -0.5, 0.5, 0.5} || got.OrientationCovariance[0] != 0) {
				t.Fatalf("imu %d: orientation %v (x, y, z, w)", m.Sequence, got.Orientation)
			}
			h = got.Header
		case ros2.TemperatureType:
			var got ros2.Temperature
			if err := ros2.ParseTemperature(m.Data, &got); err != nil || got.Temperature != float64(s.TempC) {
				t.Fatalf("temperature %d: %+v %v", m.Sequence, got, err)
			}
			h = got.Header
		case ros2.MagneticFieldType:
			var got ros2.MagneticField
			err := ros2.ParseMagneticField(m.Data, &got)
			if err != nil || s.Status&sensor.StatusMag == 0 || s.Status&sensor.StatusMagOverflow != 0 || got.MagneticField[0] != float64(s.Mag[0])*1e-6 {
				t.Fatalf("mag %d: %+v %v (status %b)", m.Sequence, got, err, s.Status)
			}
			h = got.Header
		case ros2.FluidPressureType:
			var got ros2.FluidPressure
			err := ros2.ParseFluidPressure(m.Data, &got)
			if err != nil || s.Status&sensor.StatusPressure == 0 || got.FluidPressure != float64(s.PressurePa) {
				t.Fatalf("pressure %d: %+v %v", m.Sequence, got, err)
			}
			h = got.Header
		default:
			t.Fatalf("schema %q", schema.Name)
		}
		if h.FrameID != "base" || h.Stamp.Ns() != stamp {
			t.Fatalf("%s %d: header %+v", ch.Topic, m.Sequence, h)
		}
		if schema.Encoding != ros2.SchemaEncoding || ch.MessageEncoding != ros2.MessageEncoding || string(schema.Data) != ros2.Schema(schema.Name) {
			t.Fatalf("%s: encodings %q %q", ch.Topic, schema.Encoding, ch.MessageEncoding)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, comp := range []string{Zstd, LZ4} {
		samples := Samples(2000)
		var buf bytes.Buffer
		syncs := 0
		x := write(t, &buf, samples, Options{FrameID: "base", Compression: comp, Sync: func() error { syncs++; return nil }})
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		if x.Size() != int64(buf.Len()) || x.Messages() != 2000+2000+200-1+100 {
			t.Errorf("Size %d of %d bytes, %d messages", x.Size(), buf.Len(), x.Messages())
		}
		r, err := mcap.NewReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		info, err := r.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Header.Profile != "ros2" || len(info.ChunkIndexes) < 5 || info.Statistics.MessageCount != x.Messages() {
			t.Fatalf("%s: profile %q, %d chunks, %d messages", comp, info.Header.Profile, len(info.ChunkIndexes), info.Statistics.MessageCount)
		}
		for _, ci := range info.ChunkIndexes {
			if string(ci.Compression) != comp || ci.CompressedSize >= ci.UncompressedSize {
				t.Fatalf("chunk %+v", ci)
			}
		}
		if syncs < len(info.ChunkIndexes)-1 {
			t.Errorf("%d syncs for %d chunks", syncs, len(info.ChunkIndexes))
		}
		it, err := r.Messages(mcap.UsingIndex(true))
		if err != nil {
			t.Fatal(err)
		}
		seen := check(t, it, samples)
		if seen["/imu/data"] != 2000 || seen["/imu/temperature"] != 2000 || seen["/imu/mag"] != 199 || seen["/imu/pressure"] != 100 {
			t.Errorf("%s: %v", comp, seen)
		}
		r.Close()
	}
}

// A file cut short (no summary, the last chunk half written) still gives
// a front-to-back reader every message of its complete chunks.
func TestTruncated(t *testing.T) {
	samples := Samples(3000)
	path := filepath.Join(t.TempDir(), "cut.mcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x := write(t, f, samples, Options{FrameID: "base", Sync: f.Sync})
	complete := x.Size()
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	r, _ := mcap.NewReader(bytes.NewReader(b))
	info, err := r.Info()
	if err != nil {
		t.Fatal(err)
	}
	// Cut at the start of the third chunk, then in its middle: both give
	// the messages of the first two chunks, all of them.
	c := info.ChunkIndexes[2]
	if int64(len(b)) <= complete {
		t.Fatalf("Size %d before Close, file %d", complete, len(b))
	}
	whole := readCut(t, b[:c.ChunkStartOffset])
	half := readCut(t, b[:c.ChunkStartOffset+c.ChunkLength/2])
	if whole["/imu/data"] < 200 || whole["/imu/data"] > 1000 || len(whole) != 4 {
		t.Fatalf("two chunks hold %v", whole)
	}
	for topic, n := range whole {
		if half[topic] != n {
			t.Errorf("%s: %d messages from the cut file, %d in its complete chunks", topic, half[topic], n)
		}
	}
}

// readCut counts the messages by topic that a front-to-back reader finds
// before the file ends.
func readCut(t *testing.T, b []byte) map[string]int {
	t.Helper()
	r, err := mcap.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	it, err := r.Messages(mcap.UsingIndex(false))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for {
		_, ch, _, err := it.NextInto(nil)
		if err != nil {
			return seen // the cut
		}
		seen[ch.Topic]++
	}
}

func TestWriterErrors(t *testing.T) {
	if _, err := NewWriter(io.Discard, Options{Compression: "brotli"}); err == nil {
		t.Error("an unknown compression was taken")
	}
	x, err := NewWriter(io.Discard, Options{})
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	if err := x.WriteSample(&sensor.Sample{}, 1, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
	full := &limitWriter{n: 200_000}
	y, err := NewWriter(full, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for i := 0; werr == nil && i < 1e6; i++ {
		werr = y.WriteSample(&Samples(1)[0], int64(i), uint32(i))
	}
	if !errors.Is(werr, errFull) {
		t.Errorf("a full disk: %v", werr)
	}
}

var errFull = errors.New("disk full")

type limitWriter struct{ n int }

func (l *limitWriter) Write(b []byte) (int, error) {
	if len(b) > l.n {
		return 0, errFull
	}
	l.n -= len(b)
	return len(b), nil
}

// WriteSample's own work per sample (the MCAP library's included).
func BenchmarkWriteSample(b *testing.B) {
	samples := Samples(1000)
	x, err := NewWriter(io.Discard, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s := &samples[i%len(samples)]
		_ = x.WriteSample(s, s.WallNs, uint32(i))
		i++
	}
}
