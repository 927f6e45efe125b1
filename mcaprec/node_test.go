package mcaprec_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/foxglove/mcap/go/mcap"

	"github.com/imustream/imustream/mcaprec"
	"github.com/imustream/imustream/mcaprec/mcaprectest"
	"github.com/imustream/imustream/ros2"
	"github.com/imustream/imustream/sensor"
)

// Every message type, read by the npm reader and decoded by @foxglove/cdr:
// the values are the samples', converted as documented (µT to T, the
// quaternion's w last, REP 145 covariances).
func TestNodeReadsEveryType(t *testing.T) {
	mcaprectest.Dir(t)
	path := filepath.Join(t.TempDir(), "all.mcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	samples := make([]sensor.Sample, 500)
	for i := range samples {
		s := &samples[i]
		s.WallNs = 1.7e18 + int64(i)*5e6
		s.Accel = [3]float32{float32(i) / 7, -1.25, 9.80665}
		s.Gyro = [3]float32{0.1, float32(i) / 3, -0.3}
		s.TempC = 21.5
		s.Status = sensor.StatusMag | sensor.StatusPressure
		s.Mag = [3]float32{float32(i), -17.5, 33}
		s.PressurePa = 100000 + float32(i)
		if i%2 == 1 {
			s.Status |= sensor.StatusOrientation
			s.Quat = [4]float32{0.9, 0.1, 0.2, 0.3}
		}
	}
	x, err := mcaprec.NewWriter(f, mcaprec.Options{FrameID: "imu_link", Topic: "/dev0"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range samples {
		if err := x.WriteSample(&samples[i], samples[i].WallNs, uint32(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := mcaprectest.Read(t, "indexed", path)
	if r.Profile != "ros2" || r.MessageCount != 2000 || len(r.Messages) != 2000 || len(r.Compression) != 1 || r.Compression[0] != "zstd" {
		t.Fatalf("profile %q, %d messages (%d read), compression %v", r.Profile, r.MessageCount, len(r.Messages), r.Compression)
	}
	for _, s := range r.Schemas {
		if s.Encoding != "ros2msg" || s.Data != ros2.Schema(s.Name) {
			t.Errorf("schema %s: %q", s.Name, s.Encoding)
		}
	}
	seen := map[string]int{}
	for _, m := range r.Messages {
		seen[m.Topic]++
		s := &samples[m.Seq]
		if m.Stamp() != s.WallNs || m.LogTime != strconv.FormatInt(s.WallNs, 10) || m.Header.FrameID != "imu_link" {
			t.Fatalf("%s %d: stamp %d, log time %s, frame %q", m.Topic, m.Seq, m.Stamp(), m.LogTime, m.Header.FrameID)
		}
		ok := true
		switch m.Topic {
		case "/dev0/data":
			want := [4]float64{0, 0, 0, 0}
			if m.Seq%2 == 1 {
				want = [4]float64{float64(float32(0.1)), float64(float32(0.2)), float64(float32(0.3)), float64(float32(0.9))}
			}
			ok = [4]float64(m.Orientation) == want && (m.OrientationCovariance[0] == -1) == (m.Seq%2 == 0) &&
				m.LinearAcceleration[0] == float64(s.Accel[0]) && m.LinearAcceleration[2] == float64(s.Accel[2]) &&
				m.AngularVelocity[1] == float64(s.Gyro[1]) && m.LinearAccelerationCovariance[0] == 0
		case "/dev0/temperature":
			ok = m.Temperature == 21.5
		case "/dev0/pressure":
			ok = m.FluidPressure == float64(s.PressurePa)
		case "/dev0/mag":
			ok = m.MagneticField[0] == float64(s.Mag[0])*1e-6 && m.MagneticField[1] == float64(float32(-17.5))*1e-6
		default:
			ok = false
		}
		if !ok {
			t.Fatalf("%s %d: %+v for sample %+v", m.Topic, m.Seq, m, *s)
		}
	}
	if len(seen) != 4 || seen["/dev0/mag"] != 500 {
		t.Errorf("topics %v", seen)
	}

	// Cut mid-chunk: the stream reader gives exactly what the complete
	// chunks hold, and says the file is not complete.
	b, _ := os.ReadFile(path)
	rd, _ := mcap.NewReader(bytes.NewReader(b))
	info, err := rd.Info()
	if err != nil || len(info.ChunkIndexes) < 3 {
		t.Fatalf("%d chunks, %v", len(info.ChunkIndexes), err)
	}
	c := info.ChunkIndexes[len(info.ChunkIndexes)/2]
	whole := filepath.Join(t.TempDir(), "whole.mcap")
	cut := filepath.Join(t.TempDir(), "cut.mcap")
	os.WriteFile(whole, b[:c.ChunkStartOffset], 0o644)
	os.WriteFile(cut, b[:c.ChunkStartOffset+c.ChunkLength/2], 0o644)
	rw, rc := mcaprectest.Read(t, "stream", whole), mcaprectest.Read(t, "stream", cut)
	if rc.Complete || len(rc.Messages) == 0 || len(rc.Messages) != len(rw.Messages) || rc.Chunks != len(info.ChunkIndexes)/2 {
		t.Errorf("cut mid-chunk: %d messages in %d chunks (complete %v), the chunks before hold %d", len(rc.Messages), rc.Chunks, rc.Complete, len(rw.Messages))
	}
}
