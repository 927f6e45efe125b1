package bridge

import (
	"fmt"
	"io"
	"time"

	"github.com/imustream/imustream/receiver"
)

// RecordReport is what imustream record --nats prints of a Record and
// makes of its file, as receiver.Report for a recording over UDP. Its
// fields say what was asked of the recording.
type RecordReport struct {
	Source   string           // "SUBJECT on URL": named in the summary and the sidecar
	Program  string           // the sidecar's recorder
	Out      *receiver.Output // where the rows went; nil: no file
	Duration time.Duration    // asked for, for the sidecar
	Strict   bool             // fail when a sample was lost
}

// Finish writes the messages Record dropped to log, then res's summary
// to w, finishes Out (Save: complete unless runErr) and names it. Its
// error is runErr (Record's), else the file's, else the strict check's.
func (p RecordReport) Finish(w, log io.Writer, res *RecordResult, runErr error) error {
	s := res.Recorder.Summary()
	if res.Bad > 0 || res.Other > 0 {
		fmt.Fprintf(log, "record: %d messages dropped: %d malformed, %d of another device than %s\n", res.Bad+res.Other, res.Bad, res.Other, res.Device)
	}
	s.WriteText(w, p.Source)
	if p.Out != nil {
		if err := res.Save(p.Out, runErr == nil, p.Source, p.Program, p.Duration); err != nil {
			return err
		}
		if s.Samples > 0 {
			fmt.Fprintf(w, "  csv            %s (%d bytes)\n  metadata       %s\n", p.Out.Where(), res.Recorder.Written(), receiver.SidecarPath(p.Out.Where()))
		}
	}
	if runErr != nil {
		return runErr
	}
	if p.Strict && s.Lost > 0 {
		return fmt.Errorf("strict check failed: %d samples lost", s.Lost)
	}
	return nil
}
