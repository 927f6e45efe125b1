package receiver

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// The tests of Recording drive it with a fake daemon: the test hands it
// the datagrams itself, so that what arrives, and when against the
// commands, is known. Nothing here measures time: the tests wait for
// events with generous deadlines.

const fakeBoot = int64(1_767_225_600_000_000_000) // the fake device's boot, on its wall clock

var errAway = errors.New("test: the daemon is away")

// fakeDevice answers a recording's commands as a daemon does, and makes
// the datagrams its stream would bring. A stop ends the stream with an
// end-of-stream datagram; the hooks change what a command does.
type fakeDevice struct {
	r       *Recording
	started chan struct{} // closed at the first start that works
	once    sync.Once

	mu      sync.Mutex
	verbs   []string
	nonces  []string // of the starts
	starts  int
	session uint32
	seq     uint32
	mono    int64
	fields  []control.Field   // the start replies', after the verb
	from    netip.AddrPort    // where the stream's datagrams come from
	tagger  *telemetry.Tagger // with a key: tags them, as the daemon does
	key     *control.Key

	status  error                         // the status reply's error
	onStart func(n int) error             // the n-th start (1: the first); nil: it works
	onStop  func() error                  // nil: the stream ends and the stop works
	ping    func() (control.Reply, error) // nil: no reply
}

func newFakeDevice(t *testing.T, cfg RecordConfig) *fakeDevice {
	t.Helper()
	r, err := NewRecording(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeDevice{r: r, started: make(chan struct{}), session: 1}
}

func (f *fakeDevice) Do(ctx context.Context, cmd control.Command) (control.Reply, error) {
	f.mu.Lock()
	f.verbs = append(f.verbs, cmd.Verb)
	if cmd.Verb == control.VerbStart {
		f.starts++
		f.nonces = append(f.nonces, cmd.Nonce)
		if nonce, err := hex.DecodeString(cmd.Nonce); err == nil && f.key != nil && f.tagger == nil {
			f.tagger = telemetry.NewTagger(telemetry.StreamKey(f.key[:], nonce))
		}
	}
	n, onStart, onStop, ping := f.starts, f.onStart, f.onStop, f.ping
	f.mu.Unlock()
	ok := control.Reply{OK: true, Verb: cmd.Verb}
	switch cmd.Verb {
	case control.VerbStatus:
		ok.Fields = []control.Field{{Key: "state", Value: "idle"}, {Key: "rate", Value: "200"}, {Key: "batch", Value: "1"}, {Key: "sensor", Value: "fake"}, {Key: "version", Value: "fake-1"}}
		return ok, f.status
	case control.VerbStart:
		if onStart != nil {
			if err := onStart(n); err != nil {
				return control.Reply{}, err
			}
		}
		f.once.Do(func() { close(f.started) })
		f.mu.Lock()
		ok.Fields = slices.Clone(f.fields)
		f.mu.Unlock()
	case control.VerbStop:
		if onStop != nil {
			return ok, onStop()
		}
		f.end()
	case control.VerbPing:
		if ping == nil {
			<-ctx.Done()
			return control.Reply{}, ctx.Err()
		}
		return ping()
	}
	return ok, nil
}

func (f *fakeDevice) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.verbs)
}

// samples hands the recording n samples of the current session, step
// apart on the device's clock.
func (f *fakeDevice) samples(n int, step time.Duration) {
	for range n {
		f.mu.Lock()
		f.mono += int64(step)
		b := f.tag(dgram(f.session, f.seq, sensor.Sample{MonoNs: f.mono, WallNs: fakeBoot + f.mono}))
		f.seq++
		from := f.from
		f.mu.Unlock()
		f.r.Receive(b, from)
	}
}

// tag tags b when the stream is tagged; f.mu is held.
func (f *fakeDevice) tag(b []byte) []byte {
	if f.tagger == nil {
		return b
	}
	return f.tagger.Append(b)
}

// announce makes the start replies name the stream's source, which the
// datagrams come from from now on.
func (f *fakeDevice) announce(src netip.AddrPort) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.from = src
	f.fields = slices.DeleteFunc(f.fields, func(x control.Field) bool { return x.Key == "src" })
	f.fields = append(f.fields, control.Field{Key: "src", Value: src.String()})
}

// inject hands the recording a datagram of the current session at seq,
// with other values, from an attacker's address.
func (f *fakeDevice) inject(seq uint32, from netip.AddrPort) {
	f.mu.Lock()
	b := dgram(f.session, seq, sensor.Sample{MonoNs: f.mono, WallNs: fakeBoot + f.mono, Accel: [3]float32{forgedAccel}})
	f.mu.Unlock()
	f.r.Receive(b, from)
}

// restart starts a new session, as a restarted stream does.
func (f *fakeDevice) restart() {
	f.mu.Lock()
	f.session, f.seq = f.session+1, 0
	f.mu.Unlock()
}

// end hands the recording the end of the stream.
func (f *fakeDevice) end() {
	f.mu.Lock()
	b := f.tag(telemetry.AppendEnd(nil, f.session, f.seq, 200))
	from := f.from
	f.mu.Unlock()
	f.r.Receive(b, from)
}

type runResult struct {
	res *RecordResult
	err error
}

// run runs the recording until ctx ends; the result comes on the channel.
func (f *fakeDevice) run(ctx context.Context) <-chan runResult {
	done := make(chan runResult, 1)
	go func() {
		res, err := f.r.Run(ctx, f)
		done <- runResult{res, err}
	}()
	return done
}

// runUntilStarted runs the recording and waits for the first start.
func (f *fakeDevice) runUntilStarted(t *testing.T) (context.CancelFunc, <-chan runResult) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := f.run(ctx)
	select {
	case <-f.started:
	case r := <-done:
		t.Fatalf("Run returned before the stream started: %+v, %v", r.res, r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("no start after 10 s")
	}
	return cancel, done
}

func wait(t *testing.T, done <-chan runResult) runResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("Run still runs after 20 s")
	}
	return runResult{}
}

func readSidecar(t *testing.T, csv string) Metadata {
	t.Helper()
	var m Metadata
	if err := json.Unmarshal([]byte(readFile(t, SidecarPath(csv))), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRecordingDuration: a sample past the duration on the device's clock
// ends the recording, however little time passed here; the file goes in
// place with what the daemon said of itself.
func TestRecordingDuration(t *testing.T) {
	dir := t.TempDir()
	o, err := CreateOutput(filepath.Join(dir, "run.csv"), false)
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeDevice(t, RecordConfig{Output: o, Duration: time.Hour, Lease: control.MaxLease, Device: "pi:7600", Program: "test 1"})
	_, done := f.runUntilStarted(t)
	f.samples(7, 10*time.Minute) // the 7th is an hour after the first
	r := wait(t, done)
	if r.err != nil || r.res.Ending != EndDuration || r.res.Incomplete != "" || r.res.At != o.Path {
		t.Fatalf("Run: %+v, %v; want the duration recorded, in place", r.res, r.err)
	}
	if s := r.res.Summary; s.Samples != 6 || s.PastEnd != 1 || s.Lost != 0 || !s.EndSeen {
		t.Errorf("summary %+v; want 6 samples, 1 past the end, the end seen", s)
	}
	if rows := parseRecording(t, []byte(readFile(t, o.Path))); len(rows) != 6 || r.res.Rows != 6 {
		t.Errorf("%d rows in the file, %d in the result; want 6", len(rows), r.res.Rows)
	}
	m := readSidecar(t, o.Path)
	if !m.Complete || m.Ended != "the duration was recorded" || m.Device != "pi:7600" || m.Recorder != "test 1" || m.DurationAsked != time.Hour {
		t.Errorf("sidecar %+v", m)
	}
	if d := m.Daemon; d.Version != "fake-1" || d.Sensor != "fake" || d.RateHz != 200 || d.Batch != 1 || d.Status["state"] != "idle" {
		t.Errorf("sidecar's daemon %+v", d)
	}
	if verbs := f.sent(); !slices.Equal(verbs, []string{"status", "start", "stop"}) {
		t.Errorf("commands %q, want status, start, stop", verbs)
	}
}

// TestRecordingWallClock: when no sample past the duration comes (the
// stream stalled), the wall clock from the first sample's arrival ends
// the recording.
func TestRecordingWallClock(t *testing.T) {
	var csv bytes.Buffer
	f := newFakeDevice(t, RecordConfig{CSV: &csv, Duration: 50 * time.Millisecond, Lease: control.MaxLease})
	_, done := f.runUntilStarted(t)
	f.samples(2, time.Millisecond)
	r := wait(t, done)
	if r.err != nil || r.res.Ending != EndDuration || r.res.Summary.Samples != 2 || r.res.At != "" {
		t.Fatalf("Run: %+v, %v; want the duration recorded, 2 samples", r.res, r.err)
	}
	if rows := parseRecording(t, csv.Bytes()); len(rows) != 2 {
		t.Errorf("%d rows written, want 2", len(rows))
	}
}

// TestRecordingInterrupted: ctx ends before the duration: the rows stay
// under the partial name, and the result and the sidecar say why.
func TestRecordingInterrupted(t *testing.T) {
	for _, n := range []int{0, 3} {
		dir := t.TempDir()
		o, err := CreateOutput(filepath.Join(dir, "run.csv"), false)
		if err != nil {
			t.Fatal(err)
		}
		f := newFakeDevice(t, RecordConfig{Output: o, Duration: time.Hour, Lease: control.MaxLease})
		cancel, done := f.runUntilStarted(t)
		f.samples(n, 5*time.Millisecond)
		cancel()
		r := wait(t, done)
		if r.err != nil || r.res.Ending != EndInterrupted {
			t.Fatalf("%d samples: Run: %+v, %v; want interrupted", n, r.res, r.err)
		}
		if n == 0 {
			if r.res.Incomplete != "interrupted before the first sample" || r.res.At != "" || len(dirNames(t, dir)) != 0 {
				t.Errorf("no samples: incomplete %q, rows at %q, directory %q; want nothing left", r.res.Incomplete, r.res.At, dirNames(t, dir))
			}
			continue
		}
		if !strings.HasPrefix(r.res.Incomplete, "interrupted after ") || !strings.HasSuffix(r.res.Incomplete, " s of the 1h0m0s asked") || r.res.At != o.Partial {
			t.Errorf("incomplete %q, rows at %q; want interrupted, at %s", r.res.Incomplete, r.res.At, o.Partial)
		}
		m := readSidecar(t, o.Partial)
		if m.Complete || m.Ended != "interrupted by a signal (Ctrl-C) before the duration was recorded; incomplete: "+r.res.Incomplete || m.Rows != 3 {
			t.Errorf("sidecar %+v", m)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"run.partial.csv", "run.partial.csv.json"}) {
			t.Errorf("directory %q", names)
		}
	}
}

// TestRecordingStopped: without a duration, ctx's end is the end asked
// for: the recording is complete.
func TestRecordingStopped(t *testing.T) {
	dir := t.TempDir()
	o, err := CreateOutput(filepath.Join(dir, "run.csv"), true)
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeDevice(t, RecordConfig{Output: o, Lease: control.MaxLease})
	cancel, done := f.runUntilStarted(t)
	f.samples(5, 5*time.Millisecond)
	cancel()
	r := wait(t, done)
	if r.err != nil || r.res.Ending != EndStopped || r.res.Incomplete != "" || r.res.At != o.Path || r.res.Ended != "stopped by a signal (Ctrl-C)" {
		t.Fatalf("Run: %+v, %v; want stopped, complete, in place", r.res, r.err)
	}
	if m := readSidecar(t, o.Path); !m.Complete || m.Rows != 5 || !m.Summary.EndSeen {
		t.Errorf("sidecar %+v", m)
	}
}

// TestRecordingDaemonEnds: the daemon's end of stream ends the recording,
// incomplete; a ping says whether the daemon still runs, and no stop is
// sent for a stream that ended.
func TestRecordingDaemonEnds(t *testing.T) {
	for _, tc := range []struct {
		ping func() (control.Reply, error)
		want string
	}{
		{nil, "it no longer answers: it shut down, or this host left its allow list"},
		{func() (control.Reply, error) {
			return control.Reply{OK: true, Verb: "ping", Fields: []control.Field{{Key: "version", Value: "v9"}}}, nil
		}, "it still answers (version v9): another controller stopped the stream, or its lease ran out"},
	} {
		dir := t.TempDir()
		o, err := CreateOutput(filepath.Join(dir, "run.csv"), false)
		if err != nil {
			t.Fatal(err)
		}
		f := newFakeDevice(t, RecordConfig{Output: o, Duration: time.Hour, Lease: control.MaxLease})
		f.ping = tc.ping
		_, done := f.runUntilStarted(t)
		f.samples(3, 5*time.Millisecond)
		f.end()
		r := wait(t, done)
		if r.err != nil || r.res.Ending != EndDaemon || r.res.AfterEnd.String() != tc.want || r.res.Incomplete != "the daemon ended the stream" || r.res.At != o.Partial {
			t.Fatalf("Run: %+v, %v; want ended by the daemon, %q, kept", r.res, r.err, tc.want)
		}
		if want := "the daemon ended the stream; " + tc.want; r.res.Ended != want {
			t.Errorf("ended %q, want %q", r.res.Ended, want)
		}
		if m := readSidecar(t, o.Partial); m.Complete || !strings.HasPrefix(m.Ended, r.res.Ended+"; incomplete: ") {
			t.Errorf("sidecar %+v", m)
		}
		if verbs := f.sent(); !slices.Equal(verbs, []string{"status", "start", "ping"}) {
			t.Errorf("commands %q, want status, start, ping", verbs)
		}
	}
}

// TestRecordingStartFails: a stream that never starts leaves no file,
// and the error says why, wrapped.
func TestRecordingStartFails(t *testing.T) {
	for _, name := range []string{"status", "start", "interrupted"} {
		dir := t.TempDir()
		o, err := CreateOutput(filepath.Join(dir, "run.csv"), false)
		if err != nil {
			t.Fatal(err)
		}
		f := newFakeDevice(t, RecordConfig{Output: o})
		ctx, cancel := context.WithCancel(context.Background())
		want := errAway
		switch name {
		case "status":
			f.status = errAway
		case "start":
			f.onStart = func(int) error { return errAway }
		case "interrupted":
			f.onStart = func(int) error { cancel(); return errAway }
			want = context.Canceled
		}
		r := wait(t, f.run(ctx))
		cancel()
		if r.res != nil || !errors.Is(r.err, want) || !strings.HasPrefix(r.err.Error(), "receiver: ") {
			t.Errorf("%s fails: Run: %+v, %v; want no result, an error that wraps %v", name, r.res, r.err, want)
		}
		if name == "interrupted" && !strings.Contains(r.err.Error(), "interrupted before the stream started") {
			t.Errorf("interrupted: %v", r.err)
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("%s fails: the directory holds %q", name, names)
		}
	}
}

// notes collects a recording's notes.
type notes struct {
	mu  sync.Mutex
	got []Note
}

func (n *notes) add(x Note) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, x)
}

func (n *notes) list() []Note {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRecordingRefreshNotes: failing lease refreshes are one note, and
// working again another, however many refreshes fail in between.
func TestRecordingRefreshNotes(t *testing.T) {
	var ns notes
	f := newFakeDevice(t, RecordConfig{Lease: control.MinLease, OnNote: ns.add})
	f.onStart = func(n int) error {
		if n >= 2 && n <= 5 {
			return errAway
		}
		return nil
	}
	cancel, done := f.runUntilStarted(t)
	waitFor(t, "a refresh that works again", func() bool { return len(ns.list()) >= 2 })
	cancel()
	r := wait(t, done)
	if r.err != nil || r.res.Incomplete != "" {
		t.Errorf("Run: %+v, %v", r.res, r.err)
	}
	got := ns.list()
	failed, ok := got[0].(RefreshFailed)
	if len(got) != 2 || !ok || !errors.Is(failed.Err, errAway) || failed.Quiet != 0 || got[1] != (RefreshResumed{}) {
		t.Errorf("notes %+v; want one RefreshFailed (no sample yet) and one RefreshResumed", got)
	}
}

// TestRecordingDaemonStopsAnswering: when the refreshes fail and so does
// the stop, the recording is incomplete, and the stop's error is
// returned.
func TestRecordingDaemonStopsAnswering(t *testing.T) {
	var ns notes
	f := newFakeDevice(t, RecordConfig{Lease: control.MinLease, OnNote: ns.add})
	f.onStart = func(n int) error {
		if n > 1 {
			return errAway
		}
		return nil
	}
	f.onStop = func() error { return errAway }
	cancel, done := f.runUntilStarted(t)
	f.samples(3, 5*time.Millisecond)
	waitFor(t, "a failed refresh", func() bool { return len(ns.list()) >= 1 })
	cancel()
	r := wait(t, done)
	if r.res == nil || !errors.Is(r.err, errAway) || r.res.Incomplete != "the daemon stopped answering" {
		t.Fatalf("Run: %+v, %v; want the stop's error, incomplete", r.res, r.err)
	}
	if got := ns.list(); len(got) != 1 {
		t.Errorf("notes %+v; want one", got)
	}
}

// TestRecordingGapNote: a restarted stream is a note as it happens.
func TestRecordingGapNote(t *testing.T) {
	var ns notes
	f := newFakeDevice(t, RecordConfig{Lease: control.MaxLease, OnNote: ns.add})
	cancel, done := f.runUntilStarted(t)
	f.samples(3, 5*time.Millisecond)
	if got := ns.list(); len(got) != 0 {
		t.Fatalf("notes %+v before the restart", got)
	}
	f.restart()
	f.samples(1, time.Second)
	cancel()
	r := wait(t, done)
	got := ns.list()
	if len(got) != 1 {
		t.Fatalf("notes %+v; want one", got)
	}
	if g, ok := got[0].(SessionGap); !ok || g.From != "00000001" || g.To != "00000002" || !g.Known || g.Missing != 199 {
		t.Errorf("note %+v; want the gap from session 1 to 2, 199 missing", got[0])
	}
	if r.err != nil || r.res.Summary.Sessions != 2 {
		t.Errorf("Run: %+v, %v", r.res, r.err)
	}
}

// TestRecordingWriteFails: a failed write is a note as it happens, the
// counting goes on, and the recording is incomplete.
func TestRecordingWriteFails(t *testing.T) {
	var ns notes
	w := &failWriter{limit: 100_000} // the first flush fits, the second does not
	f := newFakeDevice(t, RecordConfig{CSV: w, Lease: control.MaxLease, OnNote: ns.add})
	cancel, done := f.runUntilStarted(t)
	fed := 0
	for len(ns.list()) == 0 {
		if fed > 100_000 {
			t.Fatal("no note after 100 000 rows")
		}
		f.samples(100, 5*time.Millisecond)
		fed += 100
	}
	f.samples(100, 5*time.Millisecond)
	fed += 100
	cancel()
	r := wait(t, done)
	got := ns.list()
	n, ok := got[0].(WriteFailed)
	if len(got) != 1 || !ok || !errors.Is(n.Err, errDiskFull) || n.Written == 0 || n.Written > 100_000 {
		t.Fatalf("notes %+v; want one WriteFailed after the first flush", got)
	}
	if r.res == nil || !errors.Is(r.err, errDiskFull) || r.res.Incomplete != "writing failed" || r.res.Written != n.Written {
		t.Errorf("Run: %+v, %v; want the write error, incomplete, %d bytes written", r.res, r.err, n.Written)
	}
	if r.res.Summary.Samples != uint64(fed) {
		t.Errorf("the summary counts %d samples of the %d", r.res.Summary.Samples, fed)
	}
}

// TestRecordingLive: OnLive gets the progress while Run waits, and after
// Run returns datagrams are neither recorded nor noted.
func TestRecordingLive(t *testing.T) {
	var (
		mu    sync.Mutex
		lives []Progress
		ns    notes
		csv   bytes.Buffer
	)
	progress := func() []Progress {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(lives)
	}
	f := newFakeDevice(t, RecordConfig{CSV: &csv, Lease: control.MaxLease, LiveEvery: time.Millisecond, OnNote: ns.add,
		OnLive: func(p Progress) { mu.Lock(); lives = append(lives, p); mu.Unlock() }})
	cancel, done := f.runUntilStarted(t)
	waitFor(t, "progress before the first sample", func() bool { return len(progress()) > 0 })
	f.samples(3, 5*time.Millisecond)
	waitFor(t, "progress of 3 samples", func() bool {
		p := progress()
		return p[len(p)-1].Samples == 3
	})
	cancel()
	r := wait(t, done)
	p := progress()
	if p[0].Started || p[0].String() != "waiting for the first sample" || !p[len(p)-1].Started {
		t.Errorf("progress %+v; want not started first, started last", p)
	}
	written := csv.Len()
	f.restart()
	f.samples(2, time.Second)
	if csv.Len() != written || len(ns.list()) != 0 || r.res.Summary.Samples != 3 {
		t.Errorf("after Run: %d bytes written, notes %+v", csv.Len()-written, ns.list())
	}
}

func TestProgressString(t *testing.T) {
	p := Progress{Started: true, Elapsed: 2 * time.Second, Samples: 400, Lost: 1, Duplicated: 2, Reordered: 3, Late: 4, SensorErrors: 5}
	if got, want := p.String(), "   2.0 s    200.0 Hz  samples 400  lost 1  dup 2  reord 3  late 4  sensor_err 5  0 B "; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

func TestNewRecordingRefuses(t *testing.T) {
	o, err := CreateOutput(filepath.Join(t.TempDir(), "run.csv"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Discard()
	for _, cfg := range []RecordConfig{
		{Duration: -time.Second},
		{Lease: control.MinLease - 1},
		{Output: o, CSV: &bytes.Buffer{}},
	} {
		if _, err := NewRecording(cfg); err == nil || !strings.HasPrefix(err.Error(), "receiver: ") {
			t.Errorf("%+v: %v, want an error", cfg, err)
		}
	}
	f := newFakeDevice(t, RecordConfig{Lease: control.MaxLease})
	cancel, done := f.runUntilStarted(t)
	cancel()
	wait(t, done)
	if _, err := f.r.Run(context.Background(), f); err == nil {
		t.Error("a recording ran twice")
	}
}

// TestRecordingSource: without a key, only datagrams from the source the
// start reply named are taken; the others are counted as from the wrong
// source. Those that come while a start waits for its reply are held
// until it says where the stream comes from: the first samples, and those
// of a stream the daemon started again from another port after a lease
// refresh.
func TestRecordingSource(t *testing.T) {
	o, err := CreateOutput(filepath.Join(t.TempDir(), "run.csv"), false)
	if err != nil {
		t.Fatal(err)
	}
	a, b := netip.MustParseAddrPort("127.0.0.1:41020"), netip.MustParseAddrPort("127.0.0.1:41030")
	elsewhere := netip.MustParseAddrPort("127.0.0.1:41021")
	f := newFakeDevice(t, RecordConfig{Output: o, Lease: control.MinLease})
	f.announce(a)
	again := make(chan struct{}) // the test says when the stream starts again
	f.onStart = func(n int) error {
		switch n {
		case 1: // before the reply: a genuine sample, and a forgery
			f.samples(1, time.Millisecond)
			f.inject(1, elsewhere)
		case 2: // a new stream from another port, and a forgery, before the reply
			<-again
			f.restart()
			f.announce(b)
			f.samples(1, time.Millisecond)
			f.inject(1, elsewhere)
		}
		return nil
	}
	cancel, done := f.runUntilStarted(t)
	f.samples(5, time.Millisecond)
	f.inject(3, elsewhere)
	close(again)
	waitFor(t, "a start after the new stream's", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.starts >= 3
	})
	f.samples(5, time.Millisecond)
	f.inject(9, a) // the old stream's port is no longer the source
	cancel()
	r := wait(t, done)
	if r.err != nil || r.res.Ending != EndStopped || r.res.Incomplete != "" {
		t.Fatalf("Run: %+v, %v", r.res, r.err)
	}
	if s := r.res.Summary; s.Auth != AuthSource || s.WrongSource != 4 || s.Samples != 12 || s.Sessions != 2 {
		t.Errorf("summary %+v; want 4 datagrams from the wrong source, 12 samples of 2 sessions", s)
	}
	rows := parseRecording(t, []byte(readFile(t, o.Path)))
	for i, row := range rows {
		if want := uint32(i % 6); row.seq != want || row.session != 1+uint32(i/6) || row.values[0] == forgedAccel {
			t.Errorf("row %d: session %d seq %d ax %v; want session %d seq %d, not forged", i, row.session, row.seq, row.values[0], 1+i/6, want)
		}
	}
}

// TestRecordingNoSourceNamed: a daemon whose start reply names no source
// cannot be checked; the summary says so.
func TestRecordingNoSourceNamed(t *testing.T) {
	f := newFakeDevice(t, RecordConfig{Lease: control.MaxLease})
	cancel, done := f.runUntilStarted(t)
	f.samples(3, time.Millisecond)
	f.inject(3, netip.MustParseAddrPort("127.0.0.1:9"))
	cancel()
	r := wait(t, done)
	var text bytes.Buffer
	r.res.Summary.WriteText(&text, "pi")
	if s := r.res.Summary; s.Auth != AuthNone || s.Samples != 4 || !strings.Contains(text.String(), "forged         not checked") {
		t.Errorf("summary %+v:\n%s\nwant every datagram taken, and said to be unchecked", s, text.String())
	}
}

// TestRecordingTagged: with a key, every start carries the recording's
// nonce, and only datagrams tagged under the stream key derived from it
// are taken.
func TestRecordingTagged(t *testing.T) {
	key, err := control.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	o, err := CreateOutput(filepath.Join(t.TempDir(), "run.csv"), false)
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeDevice(t, RecordConfig{Output: o, Lease: control.MinLease, Key: &key})
	f.key = &key
	f.fields = []control.Field{{Key: "tag", Value: "hmac-sha256"}}
	_, done := f.runUntilStarted(t)
	f.samples(3, time.Millisecond)
	f.inject(3, netip.AddrPort{}) // untagged, from where the stream comes from
	waitFor(t, "a lease refresh", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.starts >= 2
	})
	f.samples(3, time.Millisecond)
	f.end()
	r := wait(t, done)
	if r.res == nil || r.res.Ending != EndDaemon {
		t.Fatalf("Run: %+v, %v; want the daemon's end of stream", r.res, r.err)
	}
	if s := r.res.Summary; s.Auth != AuthTag || s.Forged != 1 || s.Samples != 6 || s.Lost != 0 || !s.EndSeen {
		t.Errorf("summary %+v; want 1 forged, 6 samples, the end", s)
	}
	f.mu.Lock()
	nonces := slices.Compact(slices.Clone(f.nonces))
	f.mu.Unlock()
	if len(nonces) != 1 || len(nonces[0]) != 2*telemetry.NonceLen {
		t.Errorf("the starts' nonces: %q; want one, of %d hex digits, the same in every start", nonces, 2*telemetry.NonceLen)
	}
}

// TestRecordingUntagged: with a key, a daemon that does not tag the
// stream is an error at the start, and the stream it started is stopped.
func TestRecordingUntagged(t *testing.T) {
	key, err := control.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeDevice(t, RecordConfig{Lease: control.MaxLease, Key: &key})
	f.onStop = func() error { return nil }
	r := wait(t, f.run(context.Background()))
	if !errors.Is(r.err, ErrUntagged) || r.res != nil {
		t.Fatalf("Run: %+v, %v; want ErrUntagged", r.res, r.err)
	}
	if v := f.sent(); !slices.Contains(v, control.VerbStop) {
		t.Errorf("commands %q; want the stream stopped", v)
	}
}

// BenchmarkRecordingReceive: a datagram through a recording costs what
// the recorder's Add costs, a lock and the source check; no allocation.
func BenchmarkRecordingReceive(b *testing.B) {
	r, err := NewRecording(RecordConfig{CSV: io.Discard, OnNote: func(Note) { b.Fatal("a note") }})
	if err != nil {
		b.Fatal(err)
	}
	src := netip.MustParseAddrPort("127.0.0.1:41020")
	r.dev = &fakeDevice{r: r, started: make(chan struct{}), fields: []control.Field{{Key: "src", Value: src.String()}}}
	if err := r.send(context.Background(), control.Command{Verb: control.VerbStart}); err != nil {
		b.Fatal(err)
	}
	data := dgram(1, 0, randSample(rand.New(rand.NewPCG(11, 12)), 1e9))
	var seq uint32
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		binary.LittleEndian.PutUint32(data[12:], seq) // seq, as in BenchmarkRecorderAdd
		r.Receive(data, src)
		seq++
	}
	b.StopTimer()
	if r.rec.Stats.Samples != uint64(seq) {
		b.Fatalf("%d samples after %d datagrams", r.rec.Stats.Samples, seq)
	}
}
