package bridge

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/receiver"
)

// recorded is a RecordResult of device pi-1 with the datagrams dgs, its
// rows written to out's file (none without out).
func recorded(t *testing.T, out *receiver.Output, dgs ...[]byte) *RecordResult {
	t.Helper()
	res := &RecordResult{Device: "pi-1", Recorder: receiver.NewRecorder(nil)}
	if out != nil {
		res.Recorder = receiver.NewRecorder(out.File())
	}
	for _, dg := range dgs {
		if err := res.Recorder.Add(dg); err != nil {
			t.Fatal(err)
		}
	}
	if err := res.Recorder.Flush(); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestRecordReport: record --nats's notes, summary, file and error: the
// dropped messages on the log; the file put in place when the recording
// is complete, kept under its partial name when not, removed without
// samples; a lost sample fails only a strict report, after the file.
func TestRecordReport(t *testing.T) {
	const source = "imustream.pi-1.imu on nats://127.0.0.1:4222"
	dir := t.TempDir()
	create := func(name string) (*receiver.Output, string) {
		path := filepath.Join(dir, name)
		out, err := receiver.CreateOutput(path, false)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { out.Discard() })
		return out, path
	}
	p := RecordReport{Source: source, Program: "imustream test record --nats", Duration: time.Minute}

	// No file; messages dropped; a sample lost passes unless strict.
	res := recorded(t, nil, datagram(7, 1000, 3), datagram(7, 1005, 2))
	res.Bad, res.Other = 2, 1
	var w, log strings.Builder
	if err := p.Finish(&w, &log, res, nil); err != nil {
		t.Errorf("not strict: %v", err)
	}
	if log.String() != "record: 3 messages dropped: 2 malformed, 1 of another device than pi-1\n" {
		t.Errorf("log %q", log.String())
	}
	if !strings.HasPrefix(w.String(), "recorded 5 samples over ") || !strings.Contains(w.String(), " from "+source+"\n") ||
		!strings.Contains(w.String(), "  lost           2\n") || strings.Contains(w.String(), "  csv ") {
		t.Errorf("summary without a file:\n%s", w.String())
	}
	strict := p
	strict.Strict = true
	if err := strict.Finish(&w, &log, res, nil); err == nil || err.Error() != "strict check failed: 2 samples lost" {
		t.Errorf("strict with 2 lost: %v", err)
	}

	// Complete: the file in place, named; then the strict verdict.
	strict.Out, _ = create("done.csv")
	res = recorded(t, strict.Out, datagram(7, 1000, 3), datagram(7, 1005, 2))
	w.Reset()
	log.Reset()
	err := strict.Finish(&w, &log, res, nil)
	if err == nil || !strings.Contains(err.Error(), "2 samples lost") || log.Len() != 0 {
		t.Errorf("strict, to a file: %v, log %q", err, log.String())
	}
	path := filepath.Join(dir, "done.csv")
	if strict.Out.Where() != path {
		t.Fatalf("complete: the rows are at %q; want %s", strict.Out.Where(), path)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	wantFile := "  csv            " + path + " (" + itoa(res.Recorder.Written()) + " bytes)\n  metadata       " + path + ".json\n"
	if st.Size() != res.Recorder.Written() || !strings.Contains(w.String(), wantFile) {
		t.Errorf("complete: %d bytes on disk, output:\n%s\nwant %q", st.Size(), w.String(), wantFile)
	}
	if meta, err := os.ReadFile(path + ".json"); err != nil || !strings.Contains(string(meta), "read from NATS "+source) || !strings.Contains(string(meta), "imustream test record --nats") {
		t.Errorf("sidecar %s, %v", meta, err)
	}

	// Record failed: its error, the file kept under its partial name.
	p.Out, _ = create("cut.csv")
	res = recorded(t, p.Out, datagram(7, 1000, 3))
	runErr := errors.New("bridge: subscribe: connection closed")
	if err := p.Finish(&w, &log, res, runErr); !errors.Is(err, runErr) {
		t.Errorf("Record failed: %v; want its error", err)
	}
	if at := p.Out.Where(); at != p.Out.Partial {
		t.Errorf("Record failed: the rows are at %q; want the partial file %s", at, p.Out.Partial)
	}
	if _, err := os.Stat(filepath.Join(dir, "cut.csv")); err == nil {
		t.Error("Record failed, yet the file was put in place")
	}

	// No samples: no file, and no file named.
	var empty string
	p.Out, empty = create("empty.csv")
	w.Reset()
	if err := p.Finish(&w, &log, recorded(t, p.Out), nil); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(p.Out.Partial); err == nil || strings.Contains(w.String(), "  csv ") {
		t.Errorf("no samples: partial file left, or named:\n%s", w.String())
	}
	if _, err := os.Stat(empty); err == nil {
		t.Error("no samples, yet the file was written")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
