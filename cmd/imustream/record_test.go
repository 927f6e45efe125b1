package main

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/syncbuf"
)

// The tests of record run the binary against a daemon (a real one, or a
// fake one where the test must control what the daemon does) and check
// the files it leaves and what it says. They wait for counts and contents
// with generous deadlines; only TestRecordDurationFromFirstSample checks
// a time, the device time the CSV spans, to a few sample periods.

// wantHeader is the recording's first line: today's 12 columns, then the
// ones appended.
const wantHeader = "session,seq,t_mono_ns,t_wall_ns,ax,ay,az,gx,gy,gz,temp_c,flags,late_ns,pressure_pa,mx,my,mz,qw,qx,qy,qz,t_pc_ns"

// recordProc is `imustream record` running in the background.
type recordProc struct {
	cmd            *exec.Cmd
	stdout, stderr syncbuf.Buffer
	done           chan struct{}
	code           int
}

// startBin runs imustream with args as a process, killed at the end of
// the test.
func startBin(t *testing.T, args ...string) *recordProc {
	t.Helper()
	p := &recordProc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func startRecord(t *testing.T, args ...string) *recordProc {
	t.Helper()
	return startBin(t, append([]string{"record"}, args...)...)
}

func (p *recordProc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// wait returns record's exit code, failing the test if it does not exit
// within d.
func (p *recordProc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(d):
		t.Fatalf("record still runs after %v\nstdout:\n%s\nstderr:\n%s", d, p.stdout.String(), p.stderr.String())
	}
	return 0
}

func (p *recordProc) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", p.code, p.stdout.String(), p.stderr.String())
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// daemonSeq returns the daemon's next sequence number from its status.
func daemonSeq(t *testing.T, addr string) int {
	t.Helper()
	stdout, _, _ := runCmd(t, "status", "--device", addr)
	for _, line := range strings.Split(stdout, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "seq" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// readCSV reads a recording and checks its header.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = 22
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s is not a CSV of 22 columns: %v", path, err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != wantHeader {
		t.Fatalf("%s: header %q, want %q", path, rows[0], wantHeader)
	}
	return rows[1:]
}

// sidecar is what the tests read of a recording's metadata.
type sidecar struct {
	Format   string `json:"format"`
	CSV      string `json:"csv"`
	CSVBytes int64  `json:"csv_bytes"`
	Rows     int    `json:"rows"`
	Complete bool   `json:"complete"`
	Ended    string `json:"ended"`
	Device   string `json:"device"`
	Daemon   struct {
		Version string            `json:"version"`
		Sensor  string            `json:"sensor"`
		RateHz  int               `json:"rate_hz"`
		Batch   int               `json:"batch"`
		Status  map[string]string `json:"status"`
	} `json:"daemon"`
	Start       string `json:"start"`
	StartWallNs int64  `json:"start_wall_ns"`
	Columns     []struct {
		Name, Unit string
	} `json:"columns"`
	Flags   []struct{ Mask, Name string } `json:"flags"`
	Summary struct {
		Samples, Lost, LostBetween, Duplicated, Reordered, Late, Skipped, SensorErrors, Sessions int
		EndSeen                                                                                  bool `json:"end_seen"`
	} `json:"summary"`
}

func readSidecar(t *testing.T, path string) sidecar {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m sidecar
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var raw struct {
		Summary map[string]any `json:"summary"`
	}
	_ = json.Unmarshal(data, &raw)
	for k, p := range map[string]*int{"lost_between_sessions": &m.Summary.LostBetween, "sensor_errors": &m.Summary.SensorErrors} {
		if v, ok := raw.Summary[k].(float64); ok {
			*p = int(v)
		}
	}
	return m
}

func dirList(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// silentDevice is a UDP socket where a daemon would be that never
// answers; it reports what it received.
func silentDevice(t *testing.T) (*net.UDPConn, string) {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, c.LocalAddr().String()
}

const precious = "session,seq\nan earlier recording that must survive\n"

// TestRecordRefusesToOverwrite: an existing --out is refused without
// --force, exit 2, before a word goes to the daemon; the file is intact.
// (record used to truncate it first and overwrite it without asking.)
func TestRecordRefusesToOverwrite(t *testing.T) {
	dev, addr := silentDevice(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "run1.csv")
	if err := os.WriteFile(out, []byte(precious), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCmd(t, "record", "--device", addr, "--out", out, "--duration", "1s", "--retries", "0", "--timeout", "100ms")
	if code != 2 || !strings.Contains(stderr, out+" exists") || !strings.Contains(stderr, "--force") {
		t.Errorf("record over an existing file: exit %d, %q; want exit 2 naming the file and --force", code, stderr)
	}
	if data, _ := os.ReadFile(out); string(data) != precious {
		t.Errorf("the existing file now holds %q", data)
	}
	if names := dirList(t, dir); !slices.Equal(names, []string{"run1.csv"}) {
		t.Errorf("the directory holds %q, want only run1.csv", names)
	}
	// The process has exited: anything it sent is in the socket already.
	_ = dev.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := dev.ReadFromUDP(make([]byte, 2048)); err == nil {
		t.Errorf("record refused, yet sent the daemon %d bytes", n)
	}
}

// TestRecordUnreachableKeepsFile: with --force, a daemon that does not
// answer costs nothing: the existing file is intact and no partial file
// is left. (record used to leave it at 0 bytes.)
func TestRecordUnreachableKeepsFile(t *testing.T) {
	_, addr := silentDevice(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "run1.csv")
	if err := os.WriteFile(out, []byte(precious), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCmd(t, "record", "--device", addr, "--out", out, "--force", "--duration", "1s", "--retries", "0", "--timeout", "100ms")
	if code != 1 || !strings.Contains(stderr, "no reply") {
		t.Errorf("record from a silent device: exit %d\n%s%s; want exit 1, no reply", code, stdout, stderr)
	}
	if data, _ := os.ReadFile(out); string(data) != precious {
		t.Errorf("the existing file now holds %q", data)
	}
	if names := dirList(t, dir); !slices.Equal(names, []string{"run1.csv"}) {
		t.Errorf("the directory holds %q, want only run1.csv", names)
	}
}

// TestRecordForceReplaces: with --force a complete recording replaces the
// file, and its sidecar says what a reader needs.
func TestRecordForceReplaces(t *testing.T) {
	_, addr := startDaemon(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "run1.csv")
	for _, p := range []string{out, out + ".json"} {
		if err := os.WriteFile(p, []byte(precious), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, code := runCmd(t, "record", "--device", addr, "--out", out, "--force", "--duration", "1s")
	if code != 0 {
		t.Fatalf("record --force: exit %d\n%s%s", code, stdout, stderr)
	}
	rows := readCSV(t, out)
	if names := dirList(t, dir); !slices.Equal(names, []string{"run1.csv", "run1.csv.json"}) {
		t.Errorf("the directory holds %q, want the recording and its sidecar", names)
	}
	for i, r := range rows {
		if r[13] != "" || r[12] == "" { // the simulator has no barometer
			t.Fatalf("row %d: late_ns %q, pressure_pa %q; want a number and an empty cell", i, r[12], r[13])
		}
	}
	m := readSidecar(t, out+".json")
	data, _ := os.ReadFile(out)
	if m.Format != "imustream-recording/1" || m.CSV != "run1.csv" || m.CSVBytes != int64(len(data)) || m.Rows != len(rows) || !m.Complete || m.Device != addr {
		t.Errorf("sidecar %+v", m)
	}
	if m.Daemon.Version == "" || m.Daemon.Sensor != "sim" || m.Daemon.RateHz != 200 || m.Daemon.Batch != 1 || m.Daemon.Status["state"] == "" {
		t.Errorf("sidecar's daemon %+v", m.Daemon)
	}
	if first, _ := strconv.ParseInt(rows[0][3], 10, 64); m.StartWallNs != first || m.Start != time.Unix(0, first).UTC().Format(time.RFC3339Nano) {
		t.Errorf("sidecar start %q (%d), want the first row's t_wall_ns %d", m.Start, m.StartWallNs, first)
	}
	var names []string
	units := map[string]string{}
	for _, c := range m.Columns {
		names = append(names, c.Name)
		units[c.Name] = c.Unit
	}
	if strings.Join(names, ",") != wantHeader || units["ax"] != "m/s²" || units["gx"] != "rad/s" || units["temp_c"] != "°C" || units["pressure_pa"] != "Pa" || units["t_mono_ns"] != "ns" {
		t.Errorf("sidecar columns %+v", m.Columns)
	}
	if len(m.Flags) != 9 || m.Flags[5].Name != "pressure" || m.Flags[5].Mask != "0x0020" || m.Flags[7].Name != "orientation" || m.Flags[8].Mask != "0x0100" {
		t.Errorf("sidecar flags %+v", m.Flags)
	}
	if s := m.Summary; s.Samples != len(rows) || s.Lost != 0 || s.Sessions != 1 || !s.EndSeen {
		t.Errorf("sidecar summary %+v, %d rows", s, len(rows))
	}
}

// TestRecordInterruptedKeepsPartial: Ctrl-C before --duration is reached
// leaves the existing file alone; the rows recorded so far are kept
// under the partial name, which record names.
func TestRecordInterruptedKeepsPartial(t *testing.T) {
	_, addr := startDaemon(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "run1.csv")
	if err := os.WriteFile(out, []byte(precious), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := startRecord(t, "--device", addr, "--out", out, "--force", "--duration", "10m")
	waitFor(t, "samples streamed", func() bool { return daemonSeq(t, addr) >= 100 })
	rec.signal(t, syscall.SIGINT)
	if code := rec.wait(t, 15*time.Second); code != 1 {
		t.Errorf("interrupted record: %v; want exit 1", rec)
	}
	partial := filepath.Join(dir, "run1.partial.csv")
	if !strings.Contains(rec.stderr.String(), "incomplete (interrupted after") || !strings.Contains(rec.stderr.String(), partial) {
		t.Errorf("record does not say where the interrupted recording is:\n%s", rec.stderr.String())
	}
	if data, _ := os.ReadFile(out); string(data) != precious {
		t.Errorf("the existing file now holds %.100q", data)
	}
	rows := readCSV(t, partial)
	if len(rows) < 50 {
		t.Errorf("the partial file holds %d rows; the daemon had sent over 100", len(rows))
	}
	if m := readSidecar(t, partial+".json"); m.Complete || m.Rows != len(rows) || !strings.Contains(m.Ended, "interrupted") {
		t.Errorf("the partial file's sidecar: %+v", m)
	}
}

// TestRecordBadDurations: a duration without a unit says it needs one, a
// negative one (which recorded forever) is refused; both exit 2.
func TestRecordBadDurations(t *testing.T) {
	_, addr := silentDevice(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--duration", "5"}, []string{`--duration "5"`, "needs a unit", "5s"}},
		{[]string{"--lease", "3"}, []string{`--lease "3"`, "needs a unit"}},
		{[]string{"--duration", "-1s"}, []string{"--duration -1s is negative"}},
	} {
		args := append([]string{"record", "--device", addr, "--retries", "0", "--timeout", "100ms"}, tc.args...)
		_, stderr, code := runCmd(t, args...)
		if code != 2 {
			t.Errorf("record %q: exit %d, want 2\n%s", tc.args, code, stderr)
		}
		for _, want := range tc.want {
			if !strings.Contains(stderr, want) {
				t.Errorf("record %q: stderr %q lacks %q", tc.args, stderr, want)
			}
		}
	}
}

// TestRecordDurationFromFirstSample: --duration counts from the first
// sample, not from when record started. Here the daemon starts after
// record, which has to retry its start (as make demo's record does); the
// recording still spans the duration asked, to a few periods.
func TestRecordDurationFromFirstSample(t *testing.T) {
	addr := freePort(t)
	out := filepath.Join(t.TempDir(), "rec.csv")
	rec := startRecord(t, "--device", addr, "--out", out, "--duration", "1s", "--retries", "50", "--timeout", "200ms")
	time.Sleep(500 * time.Millisecond) // record's first attempts find no daemon
	startProc(t, exec.Command(bin, "run", "--sim", "--listen", addr))
	if code := rec.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("record: %v", rec)
	}
	rows := readCSV(t, out)
	first, _ := strconv.ParseInt(rows[0][2], 10, 64)
	last, _ := strconv.ParseInt(rows[len(rows)-1][2], 10, 64)
	const period = 5 * time.Millisecond
	if span := time.Duration(last - first); span < time.Second-4*period || span >= time.Second {
		t.Errorf("the recording spans %v of device time (%d rows); want 1 s less a few periods of %v", span, len(rows), period)
	}
}

// TestRecordCtrlCDuringStart: Ctrl-C while the start is being retried
// ends record at once (it used to go on retrying).
func TestRecordCtrlCDuringStart(t *testing.T) {
	dev, addr := silentDevice(t)
	out := filepath.Join(t.TempDir(), "run1.csv")
	rec := startRecord(t, "--device", addr, "--out", out, "--retries", "1000", "--timeout", "1s")
	_ = dev.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, _, err := dev.ReadFromUDP(make([]byte, 2048)); err != nil {
		t.Fatalf("record sent the daemon nothing: %v", err)
	}
	rec.signal(t, syscall.SIGINT)
	if code := rec.wait(t, 10*time.Second); code != 1 || !strings.Contains(rec.stderr.String(), "interrupted") {
		t.Errorf("record after Ctrl-C: %v; want exit 1, interrupted", rec)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an interrupted start left a file behind")
	}
	if names := dirList(t, filepath.Dir(out)); len(names) != 0 {
		t.Errorf("an interrupted start left %q", names)
	}
}

// TestRecordDaemonEndsStream: when the daemon shuts down, record stops
// and says that the daemon ended the stream; the recording, incomplete,
// is kept under its partial name.
func TestRecordDaemonEndsStream(t *testing.T) {
	d, addr := startDaemon(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "run1.csv")
	rec := startRecord(t, "--device", addr, "--out", out, "--duration", "10m")
	waitFor(t, "samples streamed", func() bool { return daemonSeq(t, addr) >= 100 })
	d.terminate(t)
	if code := rec.wait(t, 15*time.Second); code != 1 {
		t.Errorf("record after the daemon ended the stream: %v; want exit 1", rec)
	}
	stderr, stdout := rec.stderr.String(), rec.stdout.String()
	if !strings.Contains(stderr, "the daemon ended the stream") || !strings.Contains(stderr, "no longer answers") ||
		!strings.Contains(stdout, "ended          the daemon ended the stream") || strings.Contains(stderr, "lease refresh") {
		t.Errorf("record does not say that the daemon ended the stream:\n%v", rec)
	}
	partial := filepath.Join(dir, "run1.partial.csv")
	if rows := readCSV(t, partial); len(rows) < 50 {
		t.Errorf("the partial file holds %d rows", len(rows))
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an incomplete recording was put at --out")
	}
	if m := readSidecar(t, partial+".json"); m.Complete || !m.Summary.EndSeen || !strings.Contains(m.Ended, "the daemon ended the stream") {
		t.Errorf("sidecar %+v", m)
	}
}

// TestRecordDaemonRestarts: the daemon is killed and started again while
// record runs; record rides through, and the summary counts the samples
// missing between the two sessions instead of "lost 0".
func TestRecordDaemonRestarts(t *testing.T) {
	d, addr := startDaemon(t)
	out := filepath.Join(t.TempDir(), "run1.csv")
	rec := startRecord(t, "--device", addr, "--out", out)
	waitFor(t, "samples streamed", func() bool { return daemonSeq(t, addr) >= 100 })
	_ = d.cmd.Process.Kill() // no end of stream
	err := <-d.done
	d.done <- err // for the cleanup that waits for it
	startProc(t, exec.Command(bin, "run", "--sim", "--listen", addr))
	// The new daemon streams only once record's lease refresh subscribed.
	waitFor(t, "samples of the second session", func() bool { return daemonSeq(t, addr) >= 100 })
	rec.signal(t, syscall.SIGINT)
	if code := rec.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("record: %v", rec)
	}
	stdout := rec.stdout.String()
	if !strings.Contains(stdout, "(2 seen: the stream restarted 1 time)") || !strings.Contains(stdout, "between sessions") || strings.Contains(stdout, "lost           0\n") {
		t.Errorf("the summary does not count the gap:\n%v", rec)
	}
	if !strings.Contains(rec.stderr.String(), "the stream restarted") {
		t.Errorf("record did not say when the stream restarted:\n%v", rec)
	}
	rows := readCSV(t, out)
	sessions := map[string]bool{}
	for _, r := range rows {
		sessions[r[0]] = true
	}
	m := readSidecar(t, out+".json")
	if len(sessions) != 2 || m.Summary.Sessions != 2 || m.Summary.LostBetween == 0 || m.Summary.Lost < m.Summary.LostBetween {
		t.Errorf("%d sessions in the CSV; sidecar summary %+v", len(sessions), m.Summary)
	}
}

// fakeDaemon answers record's commands and streams to it like a daemon,
// but can fall silent and come back, as a daemon on a lost network does.
type fakeDaemon struct {
	conn    *net.UDPConn
	silent  atomic.Bool
	session atomic.Uint32 // of the current stream; 0: none
	sent    atomic.Int64
	missed  sync.Map // ids of the starts not answered
}

func newFakeDaemon(t *testing.T) (*fakeDaemon, string) {
	t.Helper()
	conn, addr := silentDevice(t)
	f := &fakeDaemon{conn: conn}
	var to atomic.Pointer[net.UDPAddr]
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(stop); conn.Close(); wg.Wait() })
	wg.Go(func() { // the commands
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			var id, verb string
			for _, w := range strings.Fields(string(buf[:n])) {
				if v, ok := strings.CutPrefix(w, "id="); ok {
					id = v
				} else if verb == "" && !strings.Contains(w, "=") {
					verb = w
				}
			}
			if f.silent.Load() {
				if verb == "start" {
					f.missed.Store(id, true)
				}
				continue
			}
			reply := "ok id=" + id + " " + verb
			switch verb {
			case "status":
				reply += " state=idle rate=200 batch=1 sensor=fake version=fake-1"
			case "start":
				if f.session.Load() == 0 {
					f.session.Store(uint32(time.Now().UnixNano()) | 1)
				}
				to.Store(from)
				reply += " to=" + from.String() + " new=true subscribers=1"
			case "stop":
				if s := f.session.Swap(0); s != 0 {
					_, _ = conn.WriteToUDP(endDatagram(s), from)
				}
			}
			_, _ = conn.WriteToUDP([]byte(reply+"\n"), from)
		}
	})
	wg.Go(func() { // the stream, 200 Hz on this machine's clocks
		var seq uint32
		var session uint32
		mono0 := time.Now()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			dst, s := to.Load(), f.session.Load()
			if dst == nil || s == 0 || f.silent.Load() {
				continue
			}
			if s != session {
				session, seq = s, 0
			}
			now := time.Now()
			mono := int64(1e12) + int64(now.Sub(mono0))
			_, _ = conn.WriteToUDP(sampleDatagram(session, seq, mono, now.UnixNano()), dst)
			seq++
			f.sent.Add(1)
		}
	})
	return f, addr
}

// silence makes the daemon go away, its stream too; resume brings it back,
// so that the next refresh starts a new stream.
func (f *fakeDaemon) silence() { f.silent.Store(true); f.session.Store(0) }
func (f *fakeDaemon) resume()  { f.silent.Store(false) }

func (f *fakeDaemon) missedStarts() int {
	n := 0
	f.missed.Range(func(_, _ any) bool { n++; return true })
	return n
}

// sampleDatagram is a v1 samples datagram of one 52-byte record
// (docs/protocol.md), written out here so that the test does not share
// the encoder under test.
func sampleDatagram(session, seq uint32, mono, wall int64) []byte {
	b := append([]byte("IMUS"), 1, 1, 1, 52)
	b = binary.LittleEndian.AppendUint32(b, session)
	b = binary.LittleEndian.AppendUint32(b, seq)
	b = binary.LittleEndian.AppendUint16(b, 200)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint64(b, uint64(mono))
	b = binary.LittleEndian.AppendUint64(b, uint64(wall))
	b = binary.LittleEndian.AppendUint32(b, 0) // late_ns
	b = binary.LittleEndian.AppendUint32(b, 0) // flags, reserved
	for _, v := range []float32{0, 0, 9.80665, 0, 0, 0, 25} {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func endDatagram(session uint32) []byte {
	b := append([]byte("IMUS"), 1, 2, 0, 52)
	b = binary.LittleEndian.AppendUint32(b, session)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint16(b, 200)
	return binary.LittleEndian.AppendUint16(b, 0)
}

// TestRecordDaemonAway: the daemon stops answering for a while. record
// says so once, not at every failed lease refresh, says when it answers
// again, and counts the samples of the gap.
func TestRecordDaemonAway(t *testing.T) {
	f, addr := newFakeDaemon(t)
	rec := startRecord(t, "--device", addr, "--lease", "600ms", "--timeout", "200ms", "--retries", "1")
	waitFor(t, "samples streamed", func() bool { return f.sent.Load() >= 50 })
	f.silence()
	waitFor(t, "three failed lease refreshes", func() bool { return f.missedStarts() >= 3 })
	sent := f.sent.Load()
	f.resume()
	// The fake streams again once a lease refresh subscribed.
	waitFor(t, "samples of the new stream", func() bool { return f.sent.Load() >= sent+50 })
	rec.signal(t, syscall.SIGINT)
	if code := rec.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("record: %v", rec)
	}
	stderr, stdout := rec.stderr.String(), rec.stdout.String()
	if n := strings.Count(stderr, "lease refresh"); n != 1 || !strings.Contains(stderr, "\nrecord: the daemon answers again\n") {
		t.Errorf("%d lines about failed lease refreshes, want 1 and one when they work again:\n%s", n, stderr)
	}
	if !strings.Contains(stdout, "between sessions") || strings.Contains(stdout, "lost           0\n") || !strings.Contains(stderr, "the stream restarted") {
		t.Errorf("record does not count the gap:\n%v", rec)
	}
}
