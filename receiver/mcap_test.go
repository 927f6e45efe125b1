package receiver

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/foxglove/mcap/go/mcap"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/daemon/daemontest"
	"github.com/imustream/imustream/mcaprec"
	"github.com/imustream/imustream/mcaprec/mcaprectest"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/fusion"
)

// mcapSeconds is the length of TestMCAPMatchesCSV's recording: 5 s in
// the suite, IMUSTREAM_MCAP_SECONDS=60 for the acceptance run.
func mcapSeconds(t *testing.T) time.Duration {
	if v := os.Getenv("IMUSTREAM_MCAP_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("IMUSTREAM_MCAP_SECONDS=%q", v)
		}
		return time.Duration(n) * time.Second
	}
	return 5 * time.Second
}

// An MCAP recording from a real daemon over loopback, with a CSV copy of
// the same samples: the npm reader reads every message back, its decoded
// Imu and Temperature values are the CSV's, its stamps the CSV's t_pc_ns;
// cut mid-chunk, the file still gives every complete chunk. Twice: the
// plain simulator (no orientation: covariance[0] = −1), and the simulator
// with its magnetometer and the 9-axis filter (run --sim --fusion 9): Imu
// orientation and /imu/mag are the CSV's qw,qx,qy,qz and mx,my,mz.
func TestMCAPMatchesCSV(t *testing.T) {
	mcaprectest.Dir(t)
	t.Run("sim", func(t *testing.T) { testMCAPMatchesCSV(t, nil, 2) })
	t.Run("mag-fusion9", func(t *testing.T) {
		// The sensor `run --sim --fusion 9` opens.
		sens, err := daemon.OpenSensor(daemon.SensorConfig{Sim: true, Seed: 7, Fusion: fusion.Opts{Mode: fusion.NineAxis}}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		testMCAPMatchesCSV(t, sens, 3)
	})
}

// testMCAPMatchesCSV records from a daemon reading sens (nil: the plain
// simulator), which gives perSample messages for each sample.
func testMCAPMatchesCSV(t *testing.T, sens sensor.Sensor, perSample int) {
	d, _ := daemontest.Start(t, daemon.Config{Logger: slog.New(slog.DiscardHandler), Sensor: sens}, nil)
	path := filepath.Join(t.TempDir(), "run.mcap")
	o, err := CreateOutput(path, false)
	if err != nil {
		t.Fatal(err)
	}
	var csv bytes.Buffer
	// Small chunks: several, however few samples a busy machine's daemon
	// sends in the time.
	rc, err := NewRecording(RecordConfig{Output: o, MCAP: &mcaprec.Options{ChunkSize: 8 << 10}, CSVCopy: &csv, Duration: mcapSeconds(t), Device: d.Addr().String(), Program: "test"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := control.Dial(d.Addr().String(), &control.ClientOptions{OnData: rc.Receive, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := rc.Run(context.Background(), c)
	if err != nil || res.At != path || res.Sync == nil || res.Sync.Exchanges < 8 {
		t.Fatalf("Run: %+v, %v", res, err)
	}
	rows := parseRecording(t, csv.Bytes())
	bySeq := map[uint32]csvRow{}
	for _, r := range rows {
		if r.pc == "" {
			t.Fatalf("row %d: no t_pc_ns, though the sync was primed before the start", r.seq)
		}
		bySeq[r.seq] = r
	}
	if len(rows) == 0 || uint64(len(rows)) != res.Rows || len(bySeq) != len(rows) {
		t.Fatalf("%d rows, %d seqs, %d samples in the MCAP", len(rows), len(bySeq), res.Rows)
	}

	r := mcaprectest.Read(t, "indexed", path)
	if r.Profile != "ros2" || r.MessageCount != int64(perSample*len(rows)) || len(r.Messages) != perSample*len(rows) {
		t.Fatalf("the npm reader: profile %q, %d messages in the statistics, %d read; want %d", r.Profile, r.MessageCount, len(r.Messages), perSample*len(rows))
	}
	n := matchCSV(t, r.Messages, bySeq)
	if n.imu != len(rows) || n.temp != len(rows) || (perSample == 3) != (n.mag == len(rows)) || (perSample == 3) != (n.orientation == len(rows)) {
		t.Errorf("%d rows: %+v messages", len(rows), n)
	}

	// The file cut in the middle of a chunk, as a power loss leaves it.
	b, _ := os.ReadFile(path)
	rd, _ := mcap.NewReader(bytes.NewReader(b))
	info, err := rd.Info()
	if err != nil || len(info.ChunkIndexes) < 2 {
		t.Fatalf("%d chunks, %v", len(info.ChunkIndexes), err)
	}
	k := len(info.ChunkIndexes) - 1
	ci := info.ChunkIndexes[k]
	cut := filepath.Join(t.TempDir(), "cut.mcap")
	if err := os.WriteFile(cut, b[:ci.ChunkStartOffset+ci.ChunkLength/2], 0o644); err != nil {
		t.Fatal(err)
	}
	rc2 := mcaprectest.Read(t, "stream", cut)
	want := 0
	for _, m := range r.Messages {
		if lt, _ := strconv.ParseUint(m.LogTime, 10, 64); lt < ci.MessageStartTime {
			want++
		}
	}
	if rc2.Complete || rc2.Chunks != k || len(rc2.Messages) < want || len(rc2.Messages) >= len(r.Messages) {
		t.Errorf("cut in chunk %d of %d: %d chunks, %d messages (complete %v); the chunks before hold at least %d of %d",
			k+1, k+1, rc2.Chunks, len(rc2.Messages), rc2.Complete, want, len(r.Messages))
	}
	matchCSV(t, rc2.Messages, bySeq)
	t.Logf("%d samples (lost %d, skipped %d), %d chunks, %d bytes; cut: %d messages of %d chunks", len(rows), res.Summary.Lost, res.Summary.Skipped, len(info.ChunkIndexes), len(b), len(rc2.Messages), rc2.Chunks)
}

// counts are the messages matchCSV checked, by kind.
type counts struct{ imu, orientation, temp, mag int }

// matchCSV checks every message against the CSV row of its sequence
// number and counts them.
func matchCSV(t *testing.T, msgs []mcaprectest.Message, bySeq map[uint32]csvRow) counts {
	t.Helper()
	var n counts
	// csvFloat is a CSV column as the recorder's float32.
	csvFloat := func(seq uint32, col string) float64 {
		f, err := strconv.ParseFloat(col, 32)
		if err != nil {
			t.Fatalf("seq %d: CSV value %q: %v", seq, col, err)
		}
		return float64(float32(f))
	}
	for _, m := range msgs {
		row, ok := bySeq[m.Seq]
		if !ok {
			t.Fatalf("%s seq %d: no such CSV row", m.Topic, m.Seq)
		}
		pc, _ := strconv.ParseInt(row.pc, 10, 64)
		if m.Stamp() != pc || m.LogTime != row.pc || m.Header.FrameID != "imu" {
			t.Fatalf("%s seq %d: stamp %d log time %s frame %q, CSV t_pc_ns %s", m.Topic, m.Seq, m.Stamp(), m.LogTime, m.Header.FrameID, row.pc)
		}
		v := row.values
		switch m.Topic {
		case "/imu/data":
			n.imu++
			got := slices.Concat(m.LinearAcceleration, m.AngularVelocity)
			for i := range 6 {
				if got[i] != float64(v[i]) {
					t.Fatalf("seq %d: Imu %v, CSV %v", m.Seq, got, v[:6])
				}
			}
			q := row.magQuat[3:] // qw qx qy qz
			if q[0] == "" {
				// REP 145: no orientation estimate.
				if m.OrientationCovariance[0] != -1 || !slices.Equal(m.Orientation, []float64{0, 0, 0, 0}) {
					t.Fatalf("seq %d: orientation %v, covariance %v; the CSV has none", m.Seq, m.Orientation, m.OrientationCovariance)
				}
				break
			}
			n.orientation++
			// ROS orders x, y, z, w; covariance all 0: unknown.
			want := []float64{csvFloat(m.Seq, q[1]), csvFloat(m.Seq, q[2]), csvFloat(m.Seq, q[3]), csvFloat(m.Seq, q[0])}
			if !slices.Equal(m.Orientation, want) || !slices.Equal(m.OrientationCovariance, make([]float64, 9)) {
				t.Fatalf("seq %d: orientation %v, covariance %v; CSV qw,qx,qy,qz %q", m.Seq, m.Orientation, m.OrientationCovariance, q)
			}
		case "/imu/temperature":
			n.temp++
			if m.Temperature != float64(v[6]) {
				t.Fatalf("seq %d: temperature %v, CSV %v", m.Seq, m.Temperature, v[6])
			}
		case "/imu/mag":
			n.mag++
			mag := row.magQuat[:3] // mx my mz, µT
			if mag[0] == "" {
				t.Fatalf("seq %d: a MagneticField; the CSV has no field", m.Seq)
			}
			// Tesla: the µT float32 times 1e-6, the one rounding.
			want := []float64{csvFloat(m.Seq, mag[0]) * 1e-6, csvFloat(m.Seq, mag[1]) * 1e-6, csvFloat(m.Seq, mag[2]) * 1e-6}
			if !slices.Equal(m.MagneticField, want) {
				t.Fatalf("seq %d: MagneticField %v T, CSV mx,my,mz %q µT", m.Seq, m.MagneticField, mag)
			}
		default:
			t.Fatalf("topic %s", m.Topic)
		}
	}
	return n
}
