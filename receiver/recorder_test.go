package receiver

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// wantCSVHeader is spelled out rather than taken from CSVHeader: it is the
// interface to every script that reads a recording.
const wantCSVHeader = "session,seq,t_mono_ns,t_wall_ns,ax,ay,az,gx,gy,gz,temp_c,flags,late_ns,pressure_pa,mx,my,mz,qw,qx,qy,qz,t_pc_ns\n"

func dgram(session, seq uint32, samples ...sensor.Sample) []byte {
	return telemetry.AppendDatagram(nil, telemetry.Header{Session: session, Seq: seq, RateHz: 200}, samples)
}

// dgramPressure is dgram with 56-byte records, which carry the pressure.
func dgramPressure(session, seq uint32, samples ...sensor.Sample) []byte {
	return telemetry.AppendDatagramPressure(nil, telemetry.Header{Session: session, Seq: seq, RateHz: 200}, samples)
}

// randFloat32 returns anything a float32 can hold but NaN, often of the
// size an IMU reports.
func randFloat32(rng *rand.Rand) float32 {
	switch rng.IntN(4) {
	case 0:
		for {
			if f := math.Float32frombits(rng.Uint32()); !math.IsNaN(float64(f)) {
				return f
			}
		}
	case 1:
		return float32(rng.NormFloat64() * 10)
	case 2:
		return float32(rng.NormFloat64() * 1e-3)
	}
	return []float32{0, float32(math.Copysign(0, -1)), math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Inf(-1)), 9.80665}[rng.IntN(6)]
}

func randSample(rng *rand.Rand, mono int64) sensor.Sample {
	s := sensor.Sample{
		MonoNs:     mono,
		WallNs:     1_767_225_600_000_000_000 + mono + rng.Int64N(1e6),
		LateNs:     rng.Int64N(1e6),
		TempC:      randFloat32(rng),
		PressurePa: randFloat32(rng),
		Status:     sensor.Status(rng.IntN(1 << 16)),
	}
	for i := range 3 {
		s.Accel[i] = randFloat32(rng)
		s.Gyro[i] = randFloat32(rng)
	}
	return s
}

// csvRow is one recording row as a script would read it.
type csvRow struct {
	session, seq   uint32
	mono, wall     int64
	values         [7]float32 // ax ay az gx gy gz temp_c
	flags          sensor.Status
	late           int64
	pressure       string    // as written: empty without a reading
	magQuat        [7]string // mx my mz qw qx qy qz as written
	sessionPadding bool      // session written as 8 hex digits
	pc             string    // t_pc_ns as written: empty before the time sync's first estimate
}

// parseRecording reads a recording back with encoding/csv.
func parseRecording(t *testing.T, data []byte) []csvRow {
	t.Helper()
	if !bytes.HasPrefix(data, []byte(wantCSVHeader)) {
		t.Fatalf("recording does not start with the header %q: %.80q", wantCSVHeader, data)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("recording does not end with a whole line: ...%q", data[max(0, len(data)-40):])
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = 22
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("recording is not CSV: %v", err)
	}
	var rows []csvRow
	for i, rec := range recs[1:] {
		var r csvRow
		u32 := func(s string, base int) uint32 {
			v, err := strconv.ParseUint(s, base, 32)
			if err != nil {
				t.Fatalf("row %d: %v", i, err)
			}
			return uint32(v)
		}
		i64 := func(s string) int64 {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("row %d: %v", i, err)
			}
			return v
		}
		r.session = u32(rec[0], 16)
		r.sessionPadding = len(rec[0]) == 8 && strings.ToLower(rec[0]) == rec[0]
		r.seq = u32(rec[1], 10)
		r.mono, r.wall = i64(rec[2]), i64(rec[3])
		for k := range r.values {
			v, err := strconv.ParseFloat(rec[4+k], 32)
			if err != nil {
				t.Fatalf("row %d column %d: %v", i, 4+k, err)
			}
			r.values[k] = float32(v)
		}
		flags, err := strconv.ParseUint(rec[11], 10, 16)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		r.flags = sensor.Status(flags)
		r.late = i64(rec[12])
		r.pressure = rec[13]
		copy(r.magQuat[:], rec[14:21])
		r.pc = rec[21]
		rows = append(rows, r)
	}
	return rows
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sameBits compares float32s exactly: -0 is not 0.
func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

// checkRow checks a row against its sample; withPressure says that the
// sample came in a record that carries the pressure.
func checkRow(t *testing.T, i int, got csvRow, session, seq uint32, want *sensor.Sample, withPressure bool) {
	t.Helper()
	if got.session != session || !got.sessionPadding || got.seq != seq || got.mono != want.MonoNs || got.wall != want.WallNs || got.flags != want.Status || got.late != want.LateNs {
		t.Errorf("row %d: session %#x (8 hex digits: %v) seq %d mono %d wall %d flags %d late %d; want %#x seq %d mono %d wall %d flags %d late %d",
			i, got.session, got.sessionPadding, got.seq, got.mono, got.wall, got.flags, got.late, session, seq, want.MonoNs, want.WallNs, want.Status, want.LateNs)
	}
	if !withPressure || want.Status&sensor.StatusPressure == 0 {
		if got.pressure != "" {
			t.Errorf("row %d: pressure %q without a reading, want an empty cell", i, got.pressure)
		}
	} else if v, err := strconv.ParseFloat(got.pressure, 32); err != nil || !sameBits(float32(v), want.PressurePa) {
		t.Errorf("row %d: pressure %q, want %g (%v)", i, got.pressure, want.PressurePa, err)
	}
	wantValues := [7]float32{want.Accel[0], want.Accel[1], want.Accel[2], want.Gyro[0], want.Gyro[1], want.Gyro[2], want.TempC}
	for k := range wantValues {
		if !sameBits(got.values[k], wantValues[k]) {
			t.Errorf("row %d column %d: %g (%#08x), want %g (%#08x)", i, 4+k,
				got.values[k], math.Float32bits(got.values[k]), wantValues[k], math.Float32bits(wantValues[k]))
		}
	}
}

// TestRecorderCSV writes datagrams of every batch size over two sessions,
// the second with the pressure in its records, and reads the CSV back: the
// header is exact and every row holds its sample's values, floats bit for
// bit, and a pressure only where a record carries a fresh one.
func TestRecorderCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type want struct {
		session, seq uint32
		s            sensor.Sample
		pressure     bool
	}
	var wants []want
	var buf bytes.Buffer
	r := NewRecorder(&buf)
	var st RecorderStats
	mono := int64(5_000_000_000)
	datagrams := 0
	for _, session := range []uint32{0x0000beef, 0xfedcba98} {
		seq := uint32(0xFFFFFFF0) // wraps within the session
		pressure, maxBatch, enc := false, telemetry.MaxBatch, dgram
		if session == 0xfedcba98 {
			pressure, maxBatch, enc = true, telemetry.MaxBatchPressure, dgramPressure
		}
		for n := 1; n <= maxBatch; n++ {
			samples := make([]sensor.Sample, n)
			for i := range samples {
				samples[i] = randSample(rng, mono)
				mono += 5_000_000
				wants = append(wants, want{session, seq + uint32(i), samples[i], pressure})
				for _, c := range []struct {
					n    *uint64
					flag sensor.Status
				}{{&st.Late, sensor.StatusLate}, {&st.Skipped, sensor.StatusSkipped}, {&st.SensorErrors, sensor.StatusSensorError}} {
					if samples[i].Status&c.flag != 0 {
						(*c.n)++
					}
				}
			}
			if err := r.Add(enc(session, seq, samples...)); err != nil {
				t.Fatal(err)
			}
			datagrams++
			seq += uint32(n)
		}
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if r.Err() != nil || r.Written() != int64(buf.Len()) {
		t.Errorf("Err %v, Written %d; want nil, %d", r.Err(), r.Written(), buf.Len())
	}
	if line, _, _ := strings.Cut(buf.String(), "\n"); line+"\n" != wantCSVHeader {
		t.Errorf("header %q, want %q", line, wantCSVHeader)
	}
	rows := parseRecording(t, buf.Bytes())
	if len(rows) != len(wants) {
		t.Fatalf("%d rows, want %d", len(rows), len(wants))
	}
	var flagged [2]int // rows with the pressure bit, without and with the field
	for i, w := range wants {
		checkRow(t, i, rows[i], w.session, w.seq, &w.s, w.pressure)
		if w.s.Status&sensor.StatusPressure != 0 {
			flagged[btoi(w.pressure)]++
		}
	}
	if flagged[0] == 0 || flagged[1] == 0 {
		t.Errorf("pressure bit set in %d rows without the field and %d with it: the test needs both", flagged[0], flagged[1])
	}
	if r.Rows() != uint64(len(wants)) {
		t.Errorf("Rows %d, want %d", r.Rows(), len(wants))
	}
	got := r.Stats
	if got.Datagrams != uint64(datagrams) || got.Samples != uint64(len(wants)) || got.Malformed != 0 || got.Ends != 0 ||
		got.Late != st.Late || got.Skipped != st.Skipped || got.SensorErrors != st.SensorErrors ||
		got.FirstMonoNs != 5_000_000_000 || got.LastMonoNs != mono-5_000_000 || got.RateHz != 200 {
		t.Errorf("Stats %+v; want %d datagrams, %d samples, %d late, %d skipped, %d sensor errors, first %d, last %d, 200 Hz",
			got, datagrams, len(wants), st.Late, st.Skipped, st.SensorErrors, int64(5_000_000_000), mono-5_000_000)
	}
	if r.Track.Sessions != 2 || r.Track.Lost() != 0 {
		t.Errorf("tracker: %d sessions, %d lost; want 2, 0", r.Track.Sessions, r.Track.Lost())
	}
}

// TestRecorderSkipsDuplicates: a duplicated or too old sample is not written
// again; a reordered one is written when it arrives.
func TestRecorderSkipsDuplicates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	samples := make([]sensor.Sample, 6000)
	for i := range samples {
		samples[i] = randSample(rng, int64(i+1)*5_000_000)
	}
	const sess = 0x1234
	arrivals := []struct{ seq, n int }{
		{0, 3}, {0, 3}, // a duplicated datagram
		{5, 2}, {3, 2}, // reordered
		{4, 2}, // half duplicate, half new
		{5, 1}, {5995, 1},
		{10, 1}, // too old: more than the tracker's window behind
		{5990, 5},
	}
	var wantSeqs []int
	var wantDup, wantOld uint64
	written := map[int]bool{}
	highest := 0
	for _, a := range arrivals {
		for seq := a.seq; seq < a.seq+a.n; seq++ {
			switch {
			case highest-seq >= trackWindow:
				wantOld++
			case written[seq]:
				wantDup++
			default:
				wantSeqs = append(wantSeqs, seq)
				written[seq] = true
			}
			highest = max(highest, seq)
		}
	}
	if wantDup == 0 || wantOld == 0 {
		t.Fatal("the arrivals have no duplicate or no old sample")
	}
	var buf bytes.Buffer
	r := NewRecorder(&buf)
	for _, a := range arrivals {
		if err := r.Add(dgram(sess, uint32(a.seq), samples[a.seq:a.seq+a.n]...)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	rows := parseRecording(t, buf.Bytes())
	if len(rows) != len(wantSeqs) {
		t.Fatalf("%d rows, want %d", len(rows), len(wantSeqs))
	}
	for i, seq := range wantSeqs {
		checkRow(t, i, rows[i], sess, uint32(seq), &samples[seq], false)
	}
	if r.Stats.Samples != uint64(len(wantSeqs)) || r.Track.Duplicates != wantDup || r.Track.TooOld != wantOld {
		t.Errorf("Samples %d, Duplicates %d, TooOld %d; want %d, %d, %d",
			r.Stats.Samples, r.Track.Duplicates, r.Track.TooOld, len(wantSeqs), wantDup, wantOld)
	}
}

// TestRecorderForgedJump: one datagram 2³⁰ ahead in the session (forged,
// or corrupted) is set aside: the rest of the stream is still recorded and
// nothing counts as lost. (It used to make every later sample "too old",
// dropped from the file, and count 2³⁰ samples lost.)
func TestRecorderForgedJump(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	samples := make([]sensor.Sample, 1200) // 6 s at 200 Hz
	for i := range samples {
		samples[i] = randSample(rng, int64(i+1)*5_000_000)
	}
	const sess = 0x5eed
	var buf bytes.Buffer
	r := NewRecorder(&buf)
	for i := range samples {
		if i == 400 {
			if err := r.Add(dgram(sess, uint32(i)+1<<30, samples[i])); !errors.Is(err, ErrSuspicious) {
				t.Errorf("the forged jump: %v, want ErrSuspicious", err)
			}
			if err := r.Add(telemetry.AppendEnd(nil, sess, uint32(i)+1<<30, 200)); !errors.Is(err, ErrSuspicious) {
				t.Errorf("a forged end of stream far ahead: %v, want ErrSuspicious", err)
			}
		}
		if err := r.Add(dgram(sess, uint32(i), samples[i])); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	rows := parseRecording(t, buf.Bytes())
	if len(rows) != len(samples) {
		t.Fatalf("%d rows, want %d", len(rows), len(samples))
	}
	for i := range rows {
		checkRow(t, i, rows[i], sess, uint32(i), &samples[i], false)
	}
	s := r.Summary()
	if s.Lost != 0 || s.Suspicious != 2 || s.EndSeen || s.Samples != uint64(len(samples)) {
		t.Errorf("summary %+v; want nothing lost, 2 suspicious, no end seen, every sample", s)
	}
}

// TestRecorderTags: with RequireTag, only datagrams tagged under the
// stream key are taken; a missing, wrong or stale tag is dropped as forged
// before the tracker and the CSV see it, so that a forged record cannot
// take the place of the genuine one, which comes later.
func TestRecorderTags(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	samples := make([]sensor.Sample, 100)
	for i := range samples {
		samples[i] = randSample(rng, int64(i+1)*5_000_000)
	}
	key := telemetry.StreamKey([]byte("the shared key"), []byte("0123456789abcdef"))
	tagger, other := telemetry.NewTagger(key), telemetry.NewTagger(telemetry.StreamKey([]byte("another key"), []byte("0123456789abcdef")))
	const sess = 0x7a9
	fake := samples[40]
	fake.Accel = [3]float32{1, 2, 3}
	tampered := tagger.Append(dgram(sess, 60, samples[60]))
	tampered[20+24]++ // a bit of accel x
	forged := [][]byte{
		dgram(sess, 40, fake),               // untagged
		other.Append(dgram(sess, 40, fake)), // another key's tag
		tampered,                            // a genuine datagram, changed
	}
	var buf bytes.Buffer
	r := NewRecorder(&buf)
	r.RequireTag(key)
	for i := range samples {
		if i == 10 {
			for k, f := range forged {
				if err := r.Add(f); !errors.Is(err, ErrForged) {
					t.Errorf("forgery %d: %v, want ErrForged", k, err)
				}
			}
		}
		if err := r.Add(tagger.Append(dgram(sess, uint32(i), samples[i]))); err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
	}
	if err := r.Add(tagger.Append(telemetry.AppendEnd(nil, sess, 100, 200))); err != nil {
		t.Fatalf("the end: %v", err)
	}
	if err := r.Add(telemetry.AppendEnd(nil, sess, 200, 200)); !errors.Is(err, ErrForged) {
		t.Errorf("an untagged end: %v, want ErrForged", err)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	rows := parseRecording(t, buf.Bytes())
	if len(rows) != len(samples) {
		t.Fatalf("%d rows, want %d", len(rows), len(samples))
	}
	for i := range rows {
		checkRow(t, i, rows[i], sess, uint32(i), &samples[i], false)
	}
	s := r.Summary()
	if s.Forged != 4 || s.Auth != AuthTag || s.Lost != 0 || s.Duplicated != 0 || !s.EndSeen || !s.OK() {
		t.Errorf("summary %+v; want 4 forged, nothing lost or duplicated, the end seen", s)
	}
}

// TestRecorderMalformed: bad datagrams are counted and skipped, an end
// marker is counted and writes nothing.
func TestRecorderMalformed(t *testing.T) {
	good := dgram(7, 0, sensor.Sample{MonoNs: 1, TempC: 20})
	bad := [][]byte{
		nil,
		[]byte("IMUS"),
		[]byte("not a telemetry datagram at all"),
		good[:len(good)-1],
		append(append([]byte{}, good...), 0),
		append([]byte("XMUS"), good[4:]...),
	}
	var buf bytes.Buffer
	r := NewRecorder(&buf)
	for i, b := range bad {
		err := r.Add(b)
		if err == nil {
			t.Errorf("bad datagram %d: no error", i)
			continue
		}
		known := false
		for _, e := range []error{telemetry.ErrShort, telemetry.ErrMagic, telemetry.ErrVersion, telemetry.ErrType, telemetry.ErrCount, telemetry.ErrSampleLen, telemetry.ErrLength} {
			known = known || errors.Is(err, e)
		}
		if !known {
			t.Errorf("bad datagram %d: %v is none of the decode errors", i, err)
		}
	}
	if err := r.Add(good); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(telemetry.AppendEnd(nil, 7, 1, 200)); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats; st.Malformed != uint64(len(bad)) || st.Datagrams != 2 || st.Ends != 1 || st.Samples != 1 {
		t.Errorf("Malformed %d, Datagrams %d, Ends %d, Samples %d; want %d, 2, 1, 1", st.Malformed, st.Datagrams, st.Ends, st.Samples, len(bad))
	}
	if rows := parseRecording(t, buf.Bytes()); len(rows) != 1 {
		t.Errorf("%d rows, want 1", len(rows))
	}
}

// TestRecorderNilWriter only counts.
func TestRecorderNilWriter(t *testing.T) {
	r := NewRecorder(nil)
	for seq := range uint32(100) {
		if err := r.Add(dgram(1, seq*2, sensor.Sample{}, sensor.Sample{Status: sensor.StatusLate})); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(); err != nil || r.Written() != 0 {
		t.Errorf("Flush %v, Written %d; want nil, 0", err, r.Written())
	}
	if r.Stats.Samples != 200 || r.Stats.Late != 100 {
		t.Errorf("Samples %d, Late %d; want 200, 100", r.Stats.Samples, r.Stats.Late)
	}
}

// writesWriter keeps every Write separately.
type writesWriter struct{ writes [][]byte }

func (w *writesWriter) Write(b []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(b))
	return len(b), nil
}

// TestRecorderFlushesWholeLines: the recorder writes by itself as rows pile
// up, always whole lines.
func TestRecorderFlushesWholeLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	w := &writesWriter{}
	r := NewRecorder(w)
	var seq uint32
	for len(w.writes) < 3 {
		if seq > 1e6 {
			t.Fatal("no writes after a million rows")
		}
		samples := make([]sensor.Sample, telemetry.MaxBatch)
		for i := range samples {
			samples[i] = randSample(rng, int64(seq)+int64(i))
		}
		if err := r.Add(dgram(9, seq, samples...)); err != nil {
			t.Fatal(err)
		}
		seq += telemetry.MaxBatch
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for i, b := range w.writes {
		if len(b) == 0 || b[len(b)-1] != '\n' {
			t.Errorf("write %d of %d bytes does not end a line", i, len(b))
		}
		all = append(all, b...)
	}
	if r.Written() != int64(len(all)) {
		t.Errorf("Written %d, want %d", r.Written(), len(all))
	}
	if rows := parseRecording(t, all); len(rows) != int(seq) {
		t.Errorf("%d rows, want %d", len(rows), seq)
	}
}

var errDiskFull = errors.New("test: disk full")

// failWriter accepts limit bytes in all, then writes what still fits and
// fails; with quiet it reports the short write without an error.
type failWriter struct {
	buf    bytes.Buffer
	limit  int
	quiet  bool
	writes int
}

func (w *failWriter) Write(b []byte) (int, error) {
	w.writes++
	n := min(len(b), w.limit-w.buf.Len())
	w.buf.Write(b[:n])
	switch {
	case n == len(b):
		return n, nil
	case w.quiet:
		return n, nil
	}
	return n, errDiskFull
}

// TestRecorderWriteError: once a write fails, Err reports it, the rows
// written before are whole and counted by Written, and nothing more is
// written while Add goes on counting. (An io.Writer cannot take back the
// part of a row it accepted; for a file the recorder truncates it, see
// TestRecorderFileFull.)
func TestRecorderWriteError(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		name := "error"
		if quiet {
			name = "short write"
		}
		t.Run(name, func(t *testing.T) {
			w := &failWriter{limit: 10_000, quiet: quiet}
			r := NewRecorder(w)
			var seq uint32
			add := func() {
				t.Helper()
				if err := r.Add(dgram(3, seq, sensor.Sample{MonoNs: int64(seq), Accel: [3]float32{1.5, -2.25, float32(seq)}})); err != nil {
					t.Fatal(err)
				}
				seq++
			}
			for range 20 {
				add()
			}
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			good := r.Written()
			if good == 0 || good != int64(w.buf.Len()) {
				t.Fatalf("Written %d after the first flush, want %d", good, w.buf.Len())
			}
			for r.Err() == nil && seq < 1e6 {
				add() // the recorder flushes by itself and fails
			}
			err := r.Err()
			wantErr := errDiskFull
			if quiet {
				wantErr = io.ErrShortWrite
			}
			if !errors.Is(err, wantErr) {
				t.Fatalf("Err() = %v, want %v", err, wantErr)
			}
			if ferr := r.Flush(); !errors.Is(ferr, wantErr) {
				t.Errorf("Flush after the error: %v, want %v", ferr, wantErr)
			}
			writes, samples := w.writes, r.Stats.Samples
			for range 5000 {
				add()
			}
			_ = r.Flush()
			if w.writes != writes {
				t.Errorf("%d more writes after the error", w.writes-writes)
			}
			if r.Stats.Samples != samples+5000 {
				t.Errorf("Samples went from %d to %d after 5000 more, want them counted", samples, r.Stats.Samples)
			}
			if r.Written() != good {
				t.Errorf("Written %d, want %d: the failed write counts no rows", r.Written(), good)
			}
			out := w.buf.Bytes()
			if !bytes.HasPrefix(out, []byte(wantCSVHeader)) || out[good-1] != '\n' {
				t.Fatalf("the first %d bytes are not whole lines", good)
			}
			if rows := parseRecording(t, out[:good]); len(rows) != 20 {
				t.Errorf("%d whole rows before the error, want 20", len(rows))
			}
		})
	}
}

// mountTinyFS mounts a 64 KiB tmpfs for the test, or skips it.
func mountTinyFS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("filling a disk needs a 64 KiB tmpfs, and mounting one needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=64k"); err != nil {
		t.Skipf("filling a disk needs a 64 KiB tmpfs: mount: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestRecorderFileFull records to a file on a filesystem that fills up: the
// failed write is taken back, so the file holds whole rows, all Written
// counts, and whatever the file held before the recording.
func TestRecorderFileFull(t *testing.T) {
	cases := []struct {
		name   string
		before string
		flags  int
	}{
		{"new file", "", os.O_CREATE | os.O_TRUNC | os.O_WRONLY},
		{"appending to a recording", wantCSVHeader + "0000abcd,1,2,3,0,0,0,0,0,0,20,0,0,\n", os.O_APPEND | os.O_WRONLY},
		{"after earlier content", "# recorded on the test bench\n", os.O_WRONLY},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(mountTinyFS(t), "rec.csv")
			if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, tc.flags, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if tc.flags&os.O_APPEND == 0 {
				if _, err := f.Seek(0, io.SeekEnd); err != nil {
					t.Fatal(err)
				}
			}
			r := NewRecorder(f)
			rng := rand.New(rand.NewPCG(7, 8))
			var wants []sensor.Sample
			var seq uint32
			add := func() {
				t.Helper()
				s := randSample(rng, int64(seq)*5_000_000)
				if err := r.Add(dgram(0xf00d, seq, s)); err != nil {
					t.Fatal(err)
				}
				wants = append(wants, s)
				seq++
			}
			for range 30 {
				add()
			}
			if err := r.Flush(); err != nil {
				t.Fatalf("first flush: %v", err)
			}
			good := len(wants)
			for r.Err() == nil && seq < 1e6 {
				add() // fills the filesystem
			}
			if !errors.Is(r.Err(), syscall.ENOSPC) {
				t.Fatalf("Err() = %v, want ENOSPC", r.Err())
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(len(tc.before)) + r.Written(); int64(len(data)) != want {
				t.Errorf("file is %d bytes, want %d: %d before the recording and %d written", len(data), want, len(tc.before), r.Written())
			}
			if !bytes.HasPrefix(data, []byte(tc.before)) {
				t.Fatalf("the file's earlier content is gone: starts %.60q, want %.60q", data, tc.before)
			}
			rows := parseRecording(t, data[len(tc.before):])
			if len(rows) != good {
				t.Fatalf("%d rows, want the %d flushed before the disk filled", len(rows), good)
			}
			for i := range rows {
				checkRow(t, i, rows[i], 0xf00d, uint32(i), &wants[i], false)
			}
		})
	}
}

func BenchmarkRecorderAdd(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct {
		name     string
		w        io.Writer
		pressure bool
		tagged   bool
	}{
		{"nil", nil, false, false}, {"discard", io.Discard, false, false}, {"discard-pressure", io.Discard, true, false},
		{"discard-tagged", io.Discard, false, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := randSample(rng, 1e9)
			data := dgram(1, 0, s)
			if tc.pressure {
				s.Status |= sensor.StatusPressure
				data = dgramPressure(1, 0, s)
			}
			r := NewRecorder(tc.w)
			key := telemetry.StreamKey([]byte("key"), []byte("0123456789abcdef"))
			tagger := telemetry.NewTagger(key)
			if tc.tagged {
				r.RequireTag(key)
				data = tagger.Append(data)
			}
			var seq uint32
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				// Seq is the little-endian u32 at offset 12 (docs/protocol.md).
				binary.LittleEndian.PutUint32(data[12:], seq)
				if tc.tagged { // as the sender does, which costs as much as the check
					data = tagger.Append(data[:len(data)-telemetry.TagLen])
				}
				if err := r.Add(data); err != nil {
					b.Fatal(err)
				}
				seq++
			}
			b.StopTimer()
			if err := r.Flush(); err != nil {
				b.Fatal(err)
			}
			if r.Stats.Samples != uint64(seq) || r.Track.Duplicates != 0 {
				b.Fatalf("Samples %d, Duplicates %d after %d datagrams", r.Stats.Samples, r.Track.Duplicates, seq)
			}
		})
	}
}
