package receiver

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReport: what record prints and exits with for a complete recording,
// an incomplete one kept under its partial name, one without samples, and
// a strict check that fails.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.csv")
	out, err := CreateOutput(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Discard()
	good := Summary{Samples: 201, Span: time.Second, RateHz: 200, NominalHz: 200, Sessions: 1, EndSeen: true}
	for _, tc := range []struct {
		name   string
		rep    Report
		res    RecordResult
		runErr error
		want   []string // in the text
		err    string   // "" : none
	}{
		{"complete", Report{Device: "d:7600", Out: out, Path: path, Format: "csv"},
			RecordResult{Summary: good, Ended: "the duration was recorded", At: path, Written: 1234},
			nil, []string{"from d:7600", "  ended          the duration was recorded\n", "  csv            " + path + " (1234 bytes)\n  metadata       " + path + ".json\n",
				"  time sync      none: the daemon does not answer"}, ""},
		{"incomplete", Report{Device: "d", Out: out, Path: path, Format: "mcap", NoSync: true},
			RecordResult{Summary: good, Ended: "the daemon ended the stream", Incomplete: "the daemon ended the stream", At: out.Partial, Written: 99, Rows: 3},
			nil, []string{"  mcap           " + out.Partial + " (99 bytes of whole rows, INCOMPLETE: the daemon ended the stream; " + path + " was not written)"},
			"the recording is incomplete (the daemon ended the stream): its 3 rows are in " + out.Partial + "; " + path + " was not written"},
		{"no samples", Report{Device: "d", Out: out, Path: path, Format: "csv"},
			RecordResult{Ended: "stopped by a signal (Ctrl-C)"},
			errors.New("receiver: status: no reply"), []string{"  csv            none: no samples recorded; " + path + " was not written"},
			"receiver: status: no reply\nno samples received; " + path + " was not written"},
		{"strict fails", Report{Device: "d", Format: "csv", Strict: true},
			RecordResult{Summary: Summary{Samples: 10, Lost: 1}, Sync: &SyncSummary{OffsetNs: 1500, RTTNs: 200000, DriftPPM: 1.5, Exchanges: 9}},
			nil, []string{"  strict check   FAIL (no loss, count within 1 %)", "  time sync      offset ", "drift +1.50 ppm, 9 exchanges, 0 failed"}, "strict check failed"},
		{"strict passes", Report{Device: "d", Format: "csv", Strict: true},
			RecordResult{Summary: good}, nil, []string{"  strict check   PASS"}, ""},
	} {
		var b strings.Builder
		tc.rep.Write(&b, &tc.res)
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: the report lacks %q:\n%s", tc.name, w, b.String())
			}
		}
		if tc.rep.NoSync && strings.Contains(b.String(), "time sync") {
			t.Errorf("%s: a time sync line without the sync:\n%s", tc.name, b.String())
		}
		err := tc.rep.Err(&tc.res, tc.runErr)
		if (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("%s: Err = %v; want %q", tc.name, err, tc.err)
		}
		if tc.runErr != nil && !errors.Is(err, tc.runErr) {
			t.Errorf("%s: Err = %v does not wrap %v", tc.name, err, tc.runErr)
		}
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Unchanged(path); got != path+" is unchanged" {
		t.Errorf("Unchanged of an existing file: %q", got)
	}
}

// TestWriteNote: each note on a line of its own, under record's name.
func TestWriteNote(t *testing.T) {
	for _, tc := range []struct {
		n    Note
		want string
	}{
		{WriteFailed{Err: errors.New("disk full"), Written: 42}, "\nrecord: disk full; run.partial.csv keeps the 42 bytes of whole rows written so far, the statistics go on\n"},
		{RefreshFailed{Err: errors.New("timeout"), Quiet: 1500 * time.Millisecond}, "\nrecord: lease refresh failed: timeout; no samples for 1.5 s. Still trying"},
		{RefreshResumed{}, "\nrecord: the daemon answers again\n"},
	} {
		var b strings.Builder
		WriteNote(&b, tc.n, "run.partial.csv")
		if !strings.HasPrefix(b.String(), tc.want) {
			t.Errorf("%T: %q; want it to start %q", tc.n, b.String(), tc.want)
		}
	}
}

// TestWriteEnding: a line only when the daemon ended the stream, with
// what was recorded and what a ping found after.
func TestWriteEnding(t *testing.T) {
	res := RecordResult{Ending: EndDaemon, Summary: Summary{Session: 0x7a3f19c2, Samples: 1200, Span: 5995 * time.Millisecond},
		AfterEnd: AfterEnd{Answers: true, Version: "v1.2.3"}}
	var b strings.Builder
	WriteEnding(&b, &res)
	const want = "record: the daemon ended the stream (session 7a3f19c2, 1200 samples recorded, 5.995 s of device time); " +
		"it still answers (version v1.2.3): another controller stopped the stream, or its lease ran out\n"
	if b.String() != want {
		t.Errorf("ended by the daemon:\n%q\nwant\n%q", b.String(), want)
	}
	for _, e := range []Ending{EndDuration, EndStopped, EndInterrupted} {
		b.Reset()
		res.Ending = e
		if WriteEnding(&b, &res); b.Len() != 0 {
			t.Errorf("%s: %q; want nothing", e, b.String())
		}
	}
}
