package receiver

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Report writes what came of a recording as imustream record prints it,
// and gives its error. Its fields say what was asked of the recording.
type Report struct {
	Device string  // named in the summary's first line
	Out    *Output // the recording's Output; nil: none
	Path   string  // the file asked for, named when it was not written
	Format string  // the file's label, "csv" or "mcap"
	Strict bool    // add the strict check's verdict, and fail on it
	NoSync bool    // the time sync was off: say nothing of it
}

// Write writes res's summary, the time sync, how it ended, what became
// of the file and, with Strict, the verdict.
func (p Report) Write(w io.Writer, res *RecordResult) {
	res.Summary.WriteText(w, p.Device)
	if s := res.Sync; s != nil {
		fmt.Fprintf(w, "  time sync      offset %s (device − PC monotonic), rtt %s, drift %+.2f ppm, %d exchanges, %d failed\n",
			Nanos(s.OffsetNs), Nanos(s.RTTNs), s.DriftPPM, s.Exchanges, s.Failed)
	} else if !p.NoSync {
		fmt.Fprintf(w, "  time sync      none: the daemon does not answer the time command; t_pc_ns is empty\n")
	}
	fmt.Fprintf(w, "  ended          %s\n", res.Ended)
	label := fmt.Sprintf("  %-14s ", p.Format) // "  csv            "
	switch at := res.At; {
	case p.Out == nil:
	case res.Summary.Samples == 0:
		fmt.Fprintf(w, label+"none: no samples recorded; %s\n", Unchanged(p.Path))
	case at == p.Out.Path:
		fmt.Fprintf(w, label+"%s (%d bytes)\n  metadata       %s\n", at, res.Written, SidecarPath(at))
	default:
		fmt.Fprintf(w, label+"%s (%d bytes of whole rows, INCOMPLETE: %s; %s)\n  metadata       %s\n",
			at, res.Written, res.Incomplete, Unchanged(p.Path), SidecarPath(at))
	}
	if p.Strict {
		verdict := "PASS"
		if !res.Summary.OK() {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "  strict check   %s (no loss, count within 1 %%)\n", verdict)
	}
}

// WriteEnding writes, when the daemon ended res's stream, a line that
// says so: what was recorded, and what came after the end.
func WriteEnding(w io.Writer, res *RecordResult) {
	if s := res.Summary; res.Ending == EndDaemon {
		fmt.Fprintf(w, "record: the daemon ended the stream (session %08x, %d samples recorded, %.3f s of device time); %s\n", s.Session, s.Samples, s.Span.Seconds(), res.AfterEnd)
	}
}

// Err is the recording's error: runErr (what Run returned), joined with
// an incomplete recording or no samples for an Output; else, with
// Strict, a failed strict check. Its words are the user's, unprefixed.
func (p Report) Err(res *RecordResult, runErr error) error {
	errs := []error{runErr}
	switch {
	case res.Incomplete != "":
		where := ""
		if p.Out != nil && res.At != "" && res.At != p.Out.Path {
			where = fmt.Sprintf(": its %d rows are in %s; %s", res.Rows, res.At, Unchanged(p.Path))
		}
		errs = append(errs, fmt.Errorf("the recording is incomplete (%s)%s", res.Incomplete, where))
	case p.Out != nil && res.Summary.Samples == 0:
		errs = append(errs, fmt.Errorf("no samples received; %s", Unchanged(p.Path)))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if p.Strict && !res.Summary.OK() {
		return errors.New("strict check failed")
	}
	return nil
}

// WriteNote writes what happened while recording, on a line of its own;
// rows names where the rows go.
func WriteNote(w io.Writer, n Note, rows string) {
	switch n := n.(type) {
	case WriteFailed:
		fmt.Fprintf(w, "\nrecord: %v; %s keeps the %d bytes of whole rows written so far, the statistics go on\n", n.Err, rows, n.Written)
	case SessionGap:
		fmt.Fprintf(w, "\nrecord: %s\n", n)
	case RefreshFailed:
		fmt.Fprintf(w, "\nrecord: lease refresh failed: %v; no samples for %.1f s. Still trying: record says when it works again, and the summary counts what is missing\n", n.Err, n.Quiet.Seconds())
	case RefreshResumed:
		fmt.Fprintln(w, "\nrecord: the daemon answers again")
	}
}

// Unchanged says what became of the file at path when a recording did not
// go there.
func Unchanged(path string) string {
	if _, err := os.Lstat(path); err == nil {
		return path + " is unchanged"
	}
	return path + " was not written"
}
