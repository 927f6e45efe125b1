package main

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rigemuPath is the rig emulator (rig/internal/rigemu), built once.
var (
	rigemuOnce sync.Once
	rigemuPath string
	rigemuErr  error
)

func buildRigemu(t *testing.T) string {
	t.Helper()
	rigemuOnce.Do(func() {
		rigemuPath = filepath.Join(filepath.Dir(bin), "rigemu")
		out, err := exec.Command("go", "build", "-o", rigemuPath, "../../rig/internal/rigemu").CombinedOutput()
		if err != nil {
			rigemuErr = err
			t.Logf("%s", out)
			return
		}
		rigemuErr = emulateIfForeign(rigemuPath)
	})
	if rigemuErr != nil {
		t.Fatalf("building the rig emulator: %v", rigemuErr)
	}
	return rigemuPath
}

// rigSummary is the emulator's JSON output.
type rigSummary struct {
	Packets    int     `json:"packets"`
	Samples    int     `json:"samples"`
	Other      int     `json:"other"`
	FirstSeq   int64   `json:"first_seq"`
	LastSeq    int64   `json:"last_seq"`
	Missing    int64   `json:"missing"`
	Backwards  int     `json:"backwards"`
	AzMean     float64 `json:"az_mean"`
	EndToLast  float64 `json:"end_to_last"`
	AfterQuiet int     `json:"after_quiet"`
}

// runRigemu runs the emulator as its own process and returns its summary.
func runRigemu(t *testing.T, args ...string) rigSummary {
	t.Helper()
	out, err := exec.Command(buildRigemu(t), args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("rigemu %q: %v\n%s", args, err, stderr)
	}
	var s rigSummary
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("rigemu output %q: %v", out, err)
	}
	return s
}

// rigLayoutJSON writes the daemon's layout as rig-layout prints it.
func rigLayoutJSON(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, code := runCmd(t, append([]string{"rig-layout", "--as", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("rig-layout: exit %d: %s", code, stderr)
	}
	p := filepath.Join(t.TempDir(), "layout.json")
	if err := os.WriteFile(p, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func statusFields(t *testing.T, addr string) map[string]string {
	t.Helper()
	stdout, stderr, code := runCmd(t, "status", "--device", addr)
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, stderr)
	}
	m := map[string]string{}
	for _, line := range strings.Split(stdout, "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

const rigTimeout = 3 * time.Second

// rigCommand is the tests' rig packet: the lab's, whose byte 0 must be 0.
const rigCommand = "len=19,offset=4,type=u8,start=1,stop=0,match=0:00"

// startRigDaemon runs the daemon with the rig front-end: only 127.0.0.1
// allowed, the rig's packets must start with a zero byte.
func startRigDaemon(t *testing.T, extra ...string) (d *proc, ctl, rigAddr string, samplePort int) {
	t.Helper()
	rigAddr = freePort(t)
	_, p, _ := net.SplitHostPort(freePort(t))
	samplePort, _ = strconv.Atoi(p)
	args := append([]string{"--allow", "127.0.0.1/32", "--rig-listen", rigAddr, "--rig-to", ":" + p,
		"--rig-timeout", rigTimeout.String(), "--rig-command", rigCommand}, extra...)
	d, ctl = startDaemon(t, args...)
	if !strings.Contains(d.stderr.String(), "rig front-end listening") {
		t.Fatalf("no rig line in the log:\n%s", d.stderr)
	}
	return d, ctl, rigAddr, samplePort
}

// The rig emulator, a process of its own, sends the 19-byte packet with
// byte 4 = 1 every second and decodes the samples with the JSON layout;
// byte 4 = 0 stops the stream within a period, silence within the
// timeout. The 60 s acceptance run is a measured run (docs/rig.md).
func TestRigEmulator(t *testing.T) {
	d, ctl, rigAddr, port := startRigDaemon(t)
	layout := rigLayoutJSON(t)
	listen := "127.0.0.1:" + strconv.Itoa(port)
	const run = 5 * time.Second

	s := runRigemu(t, "-daemon", rigAddr, "-listen", listen, "-layout", layout, "-run", run.String(), "-end", "stop", "-wait", "1s")
	t.Logf("stopped run: %+v", s)
	if s.Samples == 0 || s.FirstSeq != 0 || s.Missing != 0 || s.Backwards != 0 || s.Other != 0 ||
		int64(s.Samples) != s.LastSeq-s.FirstSeq+1 {
		t.Errorf("counter not contiguous from 0: %+v", s)
	}
	// Timing is the measured run's; here only a sanity bound: more than
	// half the samples of run at 200 Hz, never more than all. Under qemu
	// the first ticks wait for code translation: no lower bound.
	if s.Samples < int(run.Seconds()*200/2) && !emulated || s.Samples > int(run.Seconds()*200)+200 {
		t.Errorf("%d samples in %v at 200 Hz", s.Samples, run)
	}
	if s.AzMean < 5 || s.AzMean > 15 {
		t.Errorf("az mean %.3f m/s²: not the simulated IMU's gravity", s.AzMean)
	}
	if s.EndToLast > 1 || s.AfterQuiet != 0 {
		t.Errorf("the stream went on %.3f s after the stop packet (%d samples after the wait)", s.EndToLast, s.AfterQuiet)
	}

	wait := rigTimeout + 2*time.Second
	if emulated {
		wait += 2 * time.Second
	}
	s = runRigemu(t, "-daemon", rigAddr, "-listen", listen, "-layout", layout, "-run", "2s", "-end", "silent", "-wait", wait.String())
	t.Logf("silent run: %+v", s)
	if s.Samples == 0 || s.FirstSeq != 0 || s.Missing != 0 || s.Backwards != 0 {
		t.Errorf("silent run: %+v", s)
	}
	// From the last start packet, the lease runs rigTimeout; a busy
	// machine may add a little to its end.
	slack := 1.0
	if emulated {
		slack = 3 // an emulated sender's tick, which ends the lease, may come late
	}
	if s.EndToLast < rigTimeout.Seconds()-0.5 || s.EndToLast > rigTimeout.Seconds()+slack || s.AfterQuiet != 0 {
		t.Errorf("silence ended the stream %.3f s after the last start packet, want about %v (%d samples later)", s.EndToLast, rigTimeout, s.AfterQuiet)
	}
	st := statusFields(t, ctl)
	for k, want := range map[string]string{"rig": "idle", "rig_sessions": "2", "rig_stop": "1", "rig_timeouts": "1",
		"rig_disallowed": "0", "rig_wrong_length": "0", "rig_not_matching": "0", "rig_to": ":" + strconv.Itoa(port)} {
		if st[k] != want {
			t.Errorf("status %s = %q, want %q", k, st[k], want)
		}
	}
	if n, _ := strconv.Atoi(st["rig_start"]); n < 6 {
		t.Errorf("rig_start %s, want at least 6", st["rig_start"])
	}
	d.terminate(t)
	log := d.stderr.String()
	for _, want := range []string{`msg="rig stream started" reason="start packet"`, `msg="rig stream stopped" reason="stop packet"`,
		`msg="rig stream stopped" reason="no start packet for longer than the timeout"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
}

// Packets from a sender outside the allow list, of the wrong length or
// without the match bytes are counted and start nothing.
func TestRigBadPackets(t *testing.T) {
	_, ctl, rigAddr, port := startRigDaemon(t)
	samples, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer samples.Close()
	own, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	to, _ := net.ResolveUDPAddr("udp", rigAddr)
	send := func(from net.IP, b []byte) {
		t.Helper()
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: from})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.WriteToUDP(b, to); err != nil {
			t.Fatal(err)
		}
	}
	start := make([]byte, 19)
	start[4] = 1
	notMatching := append([]byte{0xff}, start[1:]...)
	send(net.IPv4(127, 0, 0, 2), start) // outside --allow 127.0.0.1/32
	send(net.IPv4(127, 0, 0, 1), start[:18])
	send(net.IPv4(127, 0, 0, 1), append(start, 0))
	send(net.IPv4(127, 0, 0, 1), notMatching)
	want := map[string]string{"rig_packets": "4", "rig_disallowed": "1", "rig_wrong_length": "2", "rig_not_matching": "1",
		"rig_start": "0", "rig_sessions": "0", "rig": "idle", "subscribers": "0"}
	var st map[string]string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if st = statusFields(t, ctl); st["rig_packets"] == "4" {
			break
		}
	}
	for k, v := range want {
		if st[k] != v {
			t.Errorf("status %s = %q, want %q", k, st[k], v)
		}
	}
	buf := make([]byte, 100)
	for _, c := range []*net.UDPConn{samples, own} {
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, _, err := c.ReadFromUDP(buf); err == nil {
			t.Errorf("a sample (%d bytes) came after bad packets only", n)
		}
	}
}

// The C struct rig-layout prints compiles, and a C program with it
// decodes live samples as the JSON layout does.
func TestRigLayoutC(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("TestRigLayoutC: no cc on PATH; CI must have a C compiler")
		}
		t.Skip("TestRigLayoutC did not run: no cc on PATH (install gcc)")
	}
	dir := t.TempDir()
	stdout, stderr, code := runCmd(t, "rig-layout", "--as", "c")
	if code != 0 {
		t.Fatalf("rig-layout --as c: %d %s", code, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "rig_sample.h"), []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := filepath.Abs("testdata/rig.c")
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "rig")
	if out, err := exec.Command(cc, "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Werror", "-I", dir, "-o", prog, src).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	_, _, rigAddr, port := startRigDaemon(t)
	host, rport, _ := net.SplitHostPort(rigAddr)
	out, err := exec.Command(prog, host, rport, strconv.Itoa(port), "400").Output()
	if err != nil {
		t.Fatalf("C rig: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 400 {
		t.Fatalf("C rig printed %d lines, want 400", len(lines))
	}
	layout, err := os.ReadFile(rigLayoutJSON(t))
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Size   int `json:"size"`
		Fields []struct {
			Name, Type string
			Offset     int
		} `json:"fields"`
	}
	if err := json.Unmarshal(layout, &l); err != nil {
		t.Fatal(err)
	}
	var prev int64 = -1
	for i, line := range lines {
		// raw hex, then name=value as the C struct read them
		f := strings.Fields(line)
		raw, err := hexBytes(f[0])
		if err != nil || len(raw) != l.Size || len(f) != 1+len(l.Fields) {
			t.Fatalf("line %d: %q", i, line)
		}
		for j, fl := range l.Fields {
			name, cval, _ := strings.Cut(f[1+j], "=")
			if name != fl.Name {
				t.Fatalf("line %d: field %d is %s in C, %s in the layout", i, j, name, fl.Name)
			}
			got, _ := strconv.ParseFloat(cval, 64)
			if want := decodeField(raw[fl.Offset:], fl.Type); got != want {
				t.Errorf("line %d: %s = %v in C, %v by the layout", i, name, got, want)
			}
			if name == "seq" {
				if prev >= 0 && int64(got) != prev+1 {
					t.Errorf("line %d: seq %v after %d", i, got, prev)
				}
				prev = int64(got)
			}
		}
	}
}

func hexBytes(s string) ([]byte, error) { return hex.DecodeString(s) }

// decodeField reads a little-endian field of the JSON layout's types.
func decodeField(b []byte, typ string) float64 {
	le := binary.LittleEndian
	switch typ {
	case "u8":
		return float64(b[0])
	case "u16":
		return float64(le.Uint16(b))
	case "u32":
		return float64(le.Uint32(b))
	case "f32":
		return float64(math.Float32frombits(le.Uint32(b)))
	case "f64":
		return math.Float64frombits(le.Uint64(b))
	}
	return math.NaN()
}

func TestRigBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--sim", "--rig-listen", "127.0.0.1:0"}, "--rig-listen needs --rig-to"},
		{[]string{"run", "--sim", "--rig-to", ":9"}, "--rig-to needs --rig-listen"},
		{[]string{"run", "--sim", "--rig-listen", "127.0.0.1:0", "--rig-to", "host:9"}, "--rig-to: rig: target"},
		{[]string{"run", "--sim", "--rig-listen", "127.0.0.1:0", "--rig-to", ":9", "--rig-layout", "speed:f64"}, `--rig-layout: rig: layout: unknown field "speed"`},
		{[]string{"run", "--sim", "--rig-listen", "127.0.0.1:0", "--rig-to", ":9", "--rig-command", "len=2,offset=4,type=u8,start=1"}, "--rig-command: rig: command spec"},
		{[]string{"run", "--sim", "--rig-listen", "127.0.0.1:0", "--rig-to", ":9", "--rig-timeout", "0s"}, "--rig-timeout"},
		{[]string{"rig-layout", "--as", "python"}, `--as "python"`},
		{[]string{"rig-layout", "--rig-layout", "simulink,order=be"}, "its byte order"},
	} {
		_, stderr, code := runCmd(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("imustream %q: exit %d, %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	// rig-layout reads the daemon's config file.
	conf := filepath.Join(t.TempDir(), "imustream.conf")
	if err := os.WriteFile(conf, []byte("listen = 127.0.0.1:7600\nrig-layout = seq:u16,ax:f32,order=be\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCmd(t, "rig-layout", "--config", conf, "--as", "json")
	if code != 0 || strings.TrimSpace(stdout) != `{"order":"be","size":6,"every":1,"fields":[{"name":"seq","type":"u16","offset":0},{"name":"ax","type":"f32","offset":2}]}` {
		t.Errorf("rig-layout --config: exit %d, %q %q", code, stdout, stderr)
	}
}
