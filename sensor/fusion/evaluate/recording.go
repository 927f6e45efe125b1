package evaluate

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
)

// RecordingConfig says how a recording was made: the simulator's options
// (motion, pose, seed) give its truth.
type RecordingConfig struct {
	Sim sim.Opts
	// Skip leaves the first seconds out, as Config.Skip.
	Skip float64
	// Row, when set, is called for every row with an orientation, with
	// its time since the first row and the truth then.
	Row func(t float64, q [4]float64, truth [3]float64)
}

// ErrRecording is wrapped by the errors about a recording's content.
var ErrRecording = errors.New("evaluate: bad recording")

// Recording compares the orientation of a recording (the CSV of `imustream
// record`, columns found by name) of a daemon running the simulator with
// the simulator's truth. The truth is a function of the time since the
// simulator's first read, which is the recording's first row when the
// recording is the first stream the daemon sent (started right after the
// daemon); rows are timed by t_mono_ns from there. Rows from a second
// session are refused: the simulator's clock did not restart with them.
func Recording(r io.Reader, cfg RecordingConfig) (Errors, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return Errors{}, fmt.Errorf("%w: header: %w", ErrRecording, err)
	}
	col := map[string]int{}
	for i, name := range head {
		col[name] = i
	}
	need := []string{"session", "t_mono_ns", "flags", "qw", "qx", "qy", "qz"}
	for _, name := range need {
		if _, ok := col[name]; !ok {
			return Errors{}, fmt.Errorf("%w: no column %s (a recording made before the orientation columns?)", ErrRecording, name)
		}
	}
	ref := sim.New(cfg.Sim)
	var acc accumulator
	var session string
	var t0 int64
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Errors{}, fmt.Errorf("%w: %w", ErrRecording, err)
		}
		mono, err1 := strconv.ParseInt(rec[col["t_mono_ns"]], 10, 64)
		flags, err2 := strconv.ParseUint(rec[col["flags"]], 10, 16)
		if err := errors.Join(err1, err2); err != nil {
			return Errors{}, fmt.Errorf("%w: line %d: %w", ErrRecording, line, err)
		}
		if session == "" {
			session, t0 = rec[col["session"]], mono
		} else if rec[col["session"]] != session {
			return Errors{}, fmt.Errorf("%w: line %d: a second session; the truth is known for the first only", ErrRecording, line)
		}
		if sensor.Status(flags)&sensor.StatusOrientation == 0 {
			continue
		}
		var q [4]float64
		for k, name := range need[3:] {
			if q[k], err = strconv.ParseFloat(rec[col[name]], 64); err != nil {
				return Errors{}, fmt.Errorf("%w: line %d: %s: %w", ErrRecording, line, name, err)
			}
		}
		if n := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3]); !(math.Abs(n-1) < 1e-3) {
			return Errors{}, fmt.Errorf("%w: line %d: (%g, %g, %g, %g) is not a unit quaternion", ErrRecording, line, q[0], q[1], q[2], q[3])
		}
		t := float64(mono-t0) * 1e-9
		truth := ref.Attitude(t)
		if cfg.Row != nil {
			cfg.Row(t, q, truth)
		}
		if t < cfg.Skip {
			continue
		}
		acc.add(t, Diff(q, truth))
	}
	return acc.result()
}
