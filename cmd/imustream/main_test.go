package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/leaktest"
	"github.com/imustream/imustream/receiver"
	"github.com/imustream/imustream/telemetry"
)

// bin is the imustream binary built once for these tests: they run it as
// real processes, as a user would.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imustream-test")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "imustream")
	os.Unsetenv(control.DeviceEnv) // the tests name the device, or set this themselves
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building imustream: %v\n%s", err, out)
		os.Exit(1)
	}
	if err := emulateIfForeign(bin); err != nil {
		fmt.Fprintf(os.Stderr, "running imustream: %v\n", err)
		os.Exit(1)
	}
	code := leaktest.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePort returns a UDP port that was free a moment ago on 127.0.0.1.
func freePort(t *testing.T) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

// startDaemon runs `imustream run --sim` and waits until it is ready.
func startDaemon(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	addr := freePort(t)
	return startProc(t, exec.Command(bin, append([]string{"run", "--sim", "--listen", addr}, args...)...)), addr
}

// startProc starts a daemon command line and waits for its ready log line;
// the process is killed when the test ends.
func startProc(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			p.stderr.WriteLine(sc.Text())
			if !signalled && strings.Contains(sc.Text(), "imustream daemon ready") {
				close(ready)
				signalled = true
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("daemon not ready:\n%s", p.stderr)
	}
	return p
}

func (p *proc) terminate(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Errorf("daemon exit after SIGTERM: %v\n%s", err, p.stderr)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("daemon ignored SIGTERM:\n%s", p.stderr)
	}
}

func runCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCmdEnv(t, nil, args...)
}

// runCmdEnv is runCmd with extra environment variables.
func runCmdEnv(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	// Under qemu-user a command that streams or calibrates for seconds of
	// real time runs several times slower.
	timeout := 20 * time.Second
	if emulated || os.Getenv("QEMU_CPU") != "" {
		timeout = 90 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...) // a daemon that should have refused to start must not hang the test
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestRecordFromDaemon(t *testing.T) {
	d, addr := startDaemon(t)
	out := filepath.Join(t.TempDir(), "rec.csv")
	args := []string{"record", "--device", addr, "--duration", "1s", "--out", out}
	wants := []string{"lost           0", "duplicated     0", "end of stream  true"}
	if emulated {
		t.Log("under qemu: no --strict, whose count check would time the emulator (the first ticks wait for code translation); loss is still checked")
	} else {
		args, wants = append(args, "--strict"), append(wants, "strict check   PASS")
	}
	stdout, stderr, code := runCmd(t, args...)
	if code != 0 {
		t.Fatalf("record exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range wants {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("CSV unreadable: %v", err)
	}
	if got := strings.Join(rows[0], ","); got+"\n" != receiver.CSVHeader {
		t.Errorf("CSV header %q, want %q", got, receiver.CSVHeader)
	}
	// 1 s at 200 Hz; the recording spans from the first to the last sample.
	if n := len(rows) - 1; n < 150 || n > 250 {
		t.Errorf("%d rows for 1 s at 200 Hz", n)
	}
	for i, r := range rows[1:] {
		if r[1] != fmt.Sprint(i) {
			t.Fatalf("row %d has seq %s", i, r[1])
		}
	}
	stdout, _, code = runCmd(t, "status", "--device", addr)
	if code != 0 || !strings.Contains(stdout, "state             idle") || !strings.Contains(stdout, "drop_not_allowed  0") {
		t.Errorf("status after recording (exit %d):\n%s", code, stdout)
	}
	d.terminate(t)
	if !strings.Contains(d.stderr.String(), "imustream daemon stopped") {
		t.Errorf("daemon log lacks the stop line:\n%s", d.stderr)
	}
}

func TestSIGTERMEndsStreams(t *testing.T) {
	d, addr := startDaemon(t)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dev, _ := net.ResolveUDPAddr("udp", addr)
	if _, err := conn.WriteToUDP([]byte("start\n"), dev); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	var dg telemetry.Datagram
	samples := 0
	for samples < 10 {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			t.Fatal(err)
		}
		if telemetry.Parse(buf[:n], &dg) == nil {
			samples++
		}
	}
	d.terminate(t)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("no end-of-stream datagram after SIGTERM: %v", err)
		}
		if telemetry.Parse(buf[:n], &dg) == nil && dg.Type == telemetry.TypeEnd {
			return
		}
	}
}

func TestBadInvocations(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"run", "--sensor", "bogus"}, 2, `--sensor "bogus": want auto, mpu6050`},
		{[]string{"run", "--sim", "--rate", "0"}, 2, "--rate 0 Hz out of range"},
		{[]string{"run", "--sim", "--rate", "20000"}, 2, "--rate 20000 Hz out of range"},
		{[]string{"run", "--sim", "--batch", "99"}, 2, "--batch 99 out of range"},
		{[]string{"run", "--sim", "--allow", "nonsense"}, 2, "not a CIDR"},
		{[]string{"run", "--sim", "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"run", "--sim", "--listen", "nohost"}, 2, "--listen"},
		{[]string{"run", "--sim", "extra"}, 2, "unexpected argument"},
		{[]string{"record", "--lease", "1ms"}, 2, "--lease"},
		{[]string{"status", "--device", "127.0.0.1:1", "--timeout", "100ms", "--retries", "0"}, 1, "nothing listens on 127.0.0.1:1"},
		{[]string{"start", "--device", "no such host:1", "--to", ":9000"}, 1, "device"},
	} {
		_, stderr, code := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("imustream %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	stdout, _, code := runCmd(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "imustream ") || !strings.Contains(stdout, "linux/") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
}
