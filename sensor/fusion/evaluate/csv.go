package evaluate

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/imustream/imustream/sensor"
)

// TruthCSVHeader is the first line TruthCSV writes.
const TruthCSVHeader = "t_s,qw,qx,qy,qz,true_roll_deg,true_pitch_deg,true_yaw_deg,roll_err_deg,pitch_err_deg,heading_err_deg\n"

// TruthCSV writes the estimate next to the truth, one row per sample:
// the time since the start in s, the estimated quaternion (body to ENU),
// the true Euler angles and the errors in degrees (Diff).
type TruthCSV struct {
	w   *bufio.Writer
	err error
	buf []byte
}

// NewTruthCSV writes the header to w and returns the writer.
func NewTruthCSV(w io.Writer) *TruthCSV {
	c := &TruthCSV{w: bufio.NewWriter(w)}
	_, c.err = c.w.WriteString(TruthCSVHeader)
	return c
}

// Row writes one row.
func (c *TruthCSV) Row(t float64, q [4]float64, truth [3]float64) {
	if c.err != nil {
		return
	}
	b := strconv.AppendFloat(c.buf[:0], t, 'f', 4, 64)
	for _, v := range q {
		b = append(b, ',')
		b = strconv.AppendFloat(b, v, 'g', 8, 64)
	}
	for _, v := range truth {
		b = append(b, ',')
		b = strconv.AppendFloat(b, v*180/math.Pi, 'f', 4, 64)
	}
	for _, v := range Diff(q, truth) {
		b = append(b, ',')
		b = strconv.AppendFloat(b, v, 'f', 4, 64)
	}
	b = append(b, '\n')
	c.buf = b
	_, c.err = c.w.Write(b)
}

// Flush writes what is buffered and returns the first error.
func (c *TruthCSV) Flush() error {
	if c.err == nil {
		c.err = c.w.Flush()
	}
	if c.err != nil {
		return fmt.Errorf("evaluate: writing the CSV: %w", c.err)
	}
	return nil
}

// Sample is Row for a sample of Run (Config.Row): one with an orientation,
// timed from the simulator's start (its MonoNs begins at 1 s).
func (c *TruthCSV) Sample(s *sensor.Sample, truth [3]float64) {
	if s.Status&sensor.StatusOrientation != 0 {
		c.Row(float64(s.MonoNs-1e9)*1e-9, quat64(s.Quat), truth)
	}
}

// WriteText writes the errors as imustream evaluate prints them.
func (e Errors) WriteText(w io.Writer) {
	fmt.Fprintf(w, "samples       %d\n", e.N)
	fmt.Fprintf(w, "rms error     roll %.3f°  pitch %.3f°  heading %.3f°\n", e.RollRMS, e.PitchRMS, e.HeadingRMS)
	fmt.Fprintf(w, "max error     roll %.3f°  pitch %.3f°  heading %.3f°\n", e.RollMax, e.PitchMax, e.HeadingMax)
	fmt.Fprintf(w, "final error   roll %.3f°  pitch %.3f°  heading %.3f°\n", e.Final[0], e.Final[1], e.Final[2])
	fmt.Fprintf(w, "heading drift %.2f°/min\n", e.HeadingDriftDegPerMinute)
}

// RecordingFile is Recording of the file at path.
func RecordingFile(path string, cfg RecordingConfig) (Errors, error) {
	f, err := os.Open(path)
	if err != nil {
		return Errors{}, err
	}
	defer f.Close()
	return Recording(f, cfg)
}
