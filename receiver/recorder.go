package receiver

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// CSVHeader is the first line of a recording.
const CSVHeader = "session,seq,t_mono_ns,t_wall_ns,ax,ay,az,gx,gy,gz,temp_c,flags\n"

// RecorderStats are a recorder's counters; loss, duplication and reordering
// come from its Tracker.
type RecorderStats struct {
	Datagrams    uint64
	Malformed    uint64 // datagrams that failed to parse
	Ends         uint64 // end-of-stream datagrams
	Samples      uint64 // samples written
	Late         uint64 // samples flagged late
	Skipped      uint64 // samples flagged as following skipped ticks
	SensorErrors uint64 // samples flagged with a sensor error
	FirstMonoNs  int64
	LastMonoNs   int64
	RateHz       uint16
}

// Recorder turns received datagrams into CSV rows and counts what it sees.
// Rows are written whole: after a write error the output holds only
// complete lines (a file is truncated back to the last complete one).
type Recorder struct {
	Track Tracker
	Stats RecorderStats

	w       io.Writer
	written int64 // bytes of complete lines in w
	buf     []byte
	dg      telemetry.Datagram
	err     error
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

// Add processes one received datagram. A malformed one is counted and
// skipped (the returned error says why); after a write error Add keeps
// counting and Err reports the error.
func (r *Recorder) Add(b []byte) error {
	if err := telemetry.Parse(b, &r.dg); err != nil {
		r.Stats.Malformed++
		return err
	}
	r.Stats.Datagrams++
	h := r.dg.Header
	if h.Type == telemetry.TypeEnd {
		r.Stats.Ends++
		return nil
	}
	r.Stats.RateHz = h.RateHz
	for i := range r.dg.Samples {
		s := &r.dg.Samples[i]
		seq := h.Seq + uint32(i)
		if v := r.Track.Add(h.Session, seq); v == Duplicate || v == Old {
			continue
		}
		r.count(s)
		if r.w != nil && r.err == nil {
			r.buf = appendRow(r.buf, h.Session, seq, s)
		}
	}
	if len(r.buf) >= flushAt {
		r.Flush()
	}
	return nil
}

func (r *Recorder) count(s *sensor.Sample) {
	st := &r.Stats
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

func appendRow(b []byte, session, seq uint32, s *sensor.Sample) []byte {
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
	r.buf = r.buf[:0]
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

// Err returns the first write error, if any.
func (r *Recorder) Err() error { return r.err }

// Written returns the bytes of complete rows written so far.
func (r *Recorder) Written() int64 { return r.written }
