package receiver

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/imustream/imustream/mcaprec"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
	"github.com/imustream/imustream/timesync"
)

// CSVHeader is the first line of a recording: the columns of v1 first, then
// the ones appended since (docs/protocol.md, "Recording (CSV)"). Columns
// describes them.
const CSVHeader = "session,seq,t_mono_ns,t_wall_ns,ax,ay,az,gx,gy,gz,temp_c,flags,late_ns,pressure_pa,mx,my,mz,qw,qx,qy,qz,t_pc_ns\n"

// RecorderStats are a recorder's counters; loss, duplication and reordering
// come from its Tracker.
type RecorderStats struct {
	Datagrams    uint64 // datagrams taken: well formed, authentic, plausible
	Malformed    uint64 // datagrams that failed to parse
	Forged       uint64 // datagrams dropped by RequireTag's check: tag missing or wrong
	WrongSource  uint64 // datagrams a Recording dropped: not from the start reply's src=
	Ends         uint64 // end-of-stream datagrams
	Samples      uint64 // samples written
	Late         uint64 // samples flagged late
	Skipped      uint64 // samples flagged as following skipped ticks
	SensorErrors uint64 // samples flagged with a sensor error
	PastEnd      uint64 // samples after the span set by StopAfter, not recorded
	FirstMonoNs  int64  // the earliest t_mono_ns, of every session
	LastMonoNs   int64  // the latest
	FirstWallNs  int64  // t_wall_ns of the first sample recorded
	RateHz       uint16
}

// Recorder turns received datagrams into CSV rows and counts what it sees.
// Rows are written whole: after a write error the output holds only
// complete lines (a file is truncated back to the last complete one).
type Recorder struct {
	Track Tracker
	Stats RecorderStats
	// OnSample, when set, is handed each sample recorded (a row, or a
	// count without a writer), with its datagram's header and its own seq,
	// from Add's goroutine: a live output sees what the CSV holds. It
	// must return at once and keep nothing it points to.
	OnSample func(h *telemetry.Header, seq uint32, s *sensor.Sample)

	w       io.Writer
	written int64 // bytes of complete lines in w
	rows    uint64
	buf     []byte
	bufRows uint64
	dg      telemetry.Datagram
	err     error

	tagger *telemetry.Tagger // RequireTag's; nil: tags are not checked
	auth   string            // how datagrams are authenticated: Summary.Auth

	clock    Clock           // SetClock's; nil: no t_pc_ns
	mcap     *mcaprec.Writer // NewMCAPRecorder's; nil: CSV to w
	mcapRows uint64

	limit  int64 // StopAfter's span in ns; 0: none
	anchor int64 // t_mono_ns of the first sample recorded
	full   bool  // a sample past the limit arrived
	spans  spans
}

// flushAt bounds the buffered rows; a whole number of rows is always flushed.
const flushAt = 64 << 10

// NewRecorder writes CSV to w, header first. A nil w only counts.
func NewRecorder(w io.Writer) *Recorder {
	r := &Recorder{w: w, buf: make([]byte, 0, flushAt+4096), dg: telemetry.Datagram{Samples: make([]sensor.Sample, 0, telemetry.MaxBatch)}}
	if w != nil {
		r.buf = append(r.buf, CSVHeader...)
	}
	return r
}

// NewMCAPRecorder writes the samples to m as ROS 2 messages, stamped with
// the PC's time of each sample (SetClock), or without a clock the
// device's t_wall_ns, and, when csv is not nil, as CSV rows to csv too.
// Close finishes the file. Written and Rows are the MCAP file's.
func NewMCAPRecorder(m *mcaprec.Writer, csv io.Writer) *Recorder {
	r := NewRecorder(csv)
	r.mcap = m
	return r
}

// Clock maps the device's CLOCK_MONOTONIC to the PC's clocks: a
// *timesync.Syncer.
type Clock interface {
	Estimate() (timesync.Estimate, bool)
}

// SetClock makes the recorder map every sample's t_mono_ns to the PC's
// CLOCK_REALTIME with c's latest estimate: the t_pc_ns column, the MCAP
// header stamps. Call it before the first Add.
func (r *Recorder) SetClock(c Clock) { r.clock = c }

// Errors of Add for datagrams it drops, besides the malformed ones.
var (
	ErrForged     = errors.New("receiver: datagram's tag missing or wrong")
	ErrSuspicious = errors.New("receiver: datagram's seq far outside its session's window, or of a session already left")
)

// RequireTag makes Add take only datagrams tagged under streamKey (from
// telemetry.StreamKey of the shared key and the start's nonce): others are
// dropped and counted in Stats.Forged. Call it before the first Add.
func (r *Recorder) RequireTag(streamKey [32]byte) {
	r.tagger, r.auth = telemetry.NewTagger(streamKey), AuthTag
}

// Add processes one received datagram. A malformed one, one whose tag
// RequireTag finds missing or wrong (ErrForged), and one the Tracker does
// not Admit (ErrSuspicious) are counted and skipped, and the returned
// error says why; after a write error Add keeps counting and Err reports
// the error.
func (r *Recorder) Add(b []byte) error {
	if err := telemetry.Parse(b, &r.dg); err != nil {
		r.Stats.Malformed++
		return err
	}
	if r.tagger != nil && !r.tagger.Verify(b) {
		r.Stats.Forged++
		return ErrForged
	}
	h := r.dg.Header
	if !r.Track.Admit(h.Session, h.Seq, len(r.dg.Samples)) {
		return ErrSuspicious
	}
	r.Stats.Datagrams++
	if h.Type == telemetry.TypeEnd {
		r.Stats.Ends++
		r.spans.end(h.Session, h.Seq)
		return nil
	}
	r.Stats.RateHz = h.RateHz
	if cur, ok := r.Track.Session(); !ok || cur != h.Session {
		r.newSession(h, &r.dg.Samples[0])
	}
	withPressure := h.SampleLen >= telemetry.SampleLenPressure
	withMagQuat := h.SampleLen >= telemetry.SampleLenMagQuat
	var est timesync.Estimate
	synced := false
	if r.clock != nil {
		est, synced = r.clock.Estimate()
	}
	for i := range r.dg.Samples {
		s := &r.dg.Samples[i]
		if r.limit > 0 && r.Stats.Samples > 0 && s.MonoNs-r.anchor >= r.limit {
			r.Stats.PastEnd++
			r.full = true
			continue
		}
		seq := h.Seq + uint32(i)
		if v := r.Track.Add(h.Session, seq); v == Duplicate || v == Old {
			continue
		}
		r.count(s)
		r.spans.sample(s)
		pc := s.WallNs // the MCAP stamps' fallback
		if synced {
			pc = est.Wall(s.MonoNs)
		}
		if r.OnSample != nil {
			r.OnSample(&r.dg.Header, seq, s)
		}
		if r.w != nil && r.err == nil {
			r.buf = appendRow(r.buf, h.Session, seq, s, withPressure, withMagQuat, pc, synced)
			r.bufRows++
		}
		if r.mcap != nil && r.err == nil {
			if !withPressure {
				s.Status &^= sensor.StatusPressure // no reading in the record
			}
			if err := r.mcap.WriteSample(s, pc, seq); err != nil {
				r.err = fmt.Errorf("receiver: writing recording: %w", err)
			} else {
				r.mcapRows++
			}
		}
	}
	if len(r.buf) >= flushAt {
		r.Flush()
	}
	return nil
}

// newSession notes a change of session before the tracker sees it: the
// tracker still knows where the previous session got to.
func (r *Recorder) newSession(h telemetry.Header, first *sensor.Sample) {
	highest, _ := r.Track.Highest()
	r.spans.change(h.Session, h.RateHz, highest, first)
}

// StopAfter makes the recorder keep only the samples less than d of
// device time after the first one it records, so that a recording of d
// holds d however late the receiver stops the stream. Later samples are
// counted in Stats.PastEnd; Full reports the first of them. Call it
// before the first Add.
func (r *Recorder) StopAfter(d time.Duration) { r.limit = int64(d) }

// Full reports whether a sample past StopAfter's span arrived: the
// recording has all it asked for once the samples in flight are in.
func (r *Recorder) Full() bool { return r.full }

func (r *Recorder) count(s *sensor.Sample) {
	st := &r.Stats
	if st.Samples == 0 {
		r.anchor = s.MonoNs
		st.FirstWallNs = s.WallNs
	}
	st.Samples++
	if st.FirstMonoNs == 0 || s.MonoNs < st.FirstMonoNs {
		st.FirstMonoNs = s.MonoNs
	}
	st.LastMonoNs = max(st.LastMonoNs, s.MonoNs)
	if s.Status&sensor.StatusLate != 0 {
		st.Late++
	}
	if s.Status&sensor.StatusSkipped != 0 {
		st.Skipped++
	}
	if s.Status&sensor.StatusSensorError != 0 {
		st.SensorErrors++
	}
}

// appendRow appends s as a CSV row; its pressure, field and orientation
// only when the record carries them and flags them, its PC time pc only
// when synced.
func appendRow(b []byte, session, seq uint32, s *sensor.Sample, withPressure, withMagQuat bool, pc int64, synced bool) []byte {
	const hex = "0123456789abcdef"
	for sh := 28; sh >= 0; sh -= 4 {
		b = append(b, hex[session>>sh&0xf])
	}
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(seq), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, s.MonoNs, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, s.WallNs, 10)
	for _, v := range [...]float32{s.Accel[0], s.Accel[1], s.Accel[2], s.Gyro[0], s.Gyro[1], s.Gyro[2], s.TempC} {
		b = append(b, ',')
		b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
	}
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(s.Status), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, s.LateNs, 10)
	b = append(b, ',')
	if withPressure && s.Status&sensor.StatusPressure != 0 { // else empty: no reading
		b = strconv.AppendFloat(b, float64(s.PressurePa), 'g', -1, 32)
	}
	mag := withMagQuat && s.Status&sensor.StatusMag != 0
	for _, v := range s.Mag {
		b = append(b, ',')
		if mag {
			b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
		}
	}
	quat := withMagQuat && s.Status&sensor.StatusOrientation != 0
	for _, v := range s.Quat {
		b = append(b, ',')
		if quat {
			b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
		}
	}
	b = append(b, ',')
	if synced { // else empty: no estimate of the device's clock yet
		b = strconv.AppendInt(b, pc, 10)
	}
	return append(b, '\n')
}

// Flush writes the buffered rows. On a short write to a file it truncates
// the file back to the last complete row, so a full disk leaves a readable
// CSV behind.
func (r *Recorder) Flush() error {
	if r.w == nil || r.err != nil || len(r.buf) == 0 {
		return r.err
	}
	n, err := r.w.Write(r.buf)
	if err == nil && n < len(r.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		r.err = fmt.Errorf("receiver: writing recording: %w", err)
		if f, ok := r.w.(*os.File); ok && n > 0 {
			if terr := truncatePartial(f, n); terr != nil {
				r.err = errors.Join(r.err, fmt.Errorf("receiver: trimming partial row: %w", terr))
			}
		}
		return r.err
	}
	r.written += int64(n)
	r.rows += r.bufRows
	r.buf, r.bufRows = r.buf[:0], 0
	return nil
}

// truncatePartial takes back the n bytes of a failed write. The file's
// offset is right after them, in append mode too, and may be past content
// that was in the file before the recorder started.
func truncatePartial(f *os.File, n int) error {
	end, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if err := f.Truncate(end - int64(n)); err != nil {
		return err
	}
	_, err = f.Seek(end-int64(n), io.SeekStart)
	return err
}

// Close flushes the rows and, for MCAP, writes the file's summary and
// footer; the file itself stays open for its owner.
func (r *Recorder) Close() error {
	err := r.Flush()
	if r.mcap != nil && r.err == nil {
		if cerr := r.mcap.Close(); cerr != nil {
			r.err = fmt.Errorf("receiver: finishing recording: %w", cerr)
		}
		err = r.err
	}
	return err
}

// Err returns the first write error, if any.
func (r *Recorder) Err() error { return r.err }

// Written returns the bytes of complete rows written so far; for MCAP the
// bytes of its complete chunks (and, after Close, the whole file).
func (r *Recorder) Written() int64 {
	if r.mcap != nil {
		return r.mcap.Size()
	}
	return r.written
}

// Rows returns the rows written so far (the header not included); for
// MCAP the samples written.
func (r *Recorder) Rows() uint64 {
	if r.mcap != nil {
		return r.mcapRows
	}
	return r.rows
}
