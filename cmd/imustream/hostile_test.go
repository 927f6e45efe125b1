package main

import (
	"cmp"
	"encoding/csv"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/receiver"
	"github.com/imustream/imustream/telemetry"
)

// keygen makes a key file with the real command and loads it.
func keygen(t *testing.T, dir, name string) (string, control.Key) {
	t.Helper()
	path := filepath.Join(dir, name)
	stdout, stderr, code := runCmd(t, "keygen", "--out", path)
	if code != 0 || !strings.Contains(stdout, "256-bit key") {
		t.Fatalf("keygen: exit %d\n%s%s", code, stdout, stderr)
	}
	k, err := control.LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, k
}

// udpPeer is a raw socket on a loopback address, standing in for a
// controller, a receiver or an attacker.
type udpPeer struct {
	t    *testing.T
	conn *net.UDPConn
	dev  netip.AddrPort
	boot string // the daemon's boot nonce, once asked for
}

func newUDPPeer(t *testing.T, ip, device string) *udpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &udpPeer{t: t, conn: c, dev: netip.MustParseAddrPort(device)}
}

func (p *udpPeer) addr() netip.AddrPort {
	return p.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (p *udpPeer) send(b []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(b, p.dev); err != nil {
		p.t.Fatal(err)
	}
}

// sign signs a command body with k, a ts from the wall clock and the
// daemon's boot nonce, which it asks for (hello) until it has it: a peer
// outside the allow list gets no answer and signs for no boot.
func (p *udpPeer) sign(k control.Key, body, from string) []byte {
	p.t.Helper()
	if p.boot == "" {
		p.boot = p.hello()
	}
	boot := cmp.Or(p.boot, "0000000000000000")
	body += " from=" + from + " ts=" + strconv.FormatInt(time.Now().UnixMicro(), 10) + " boot=" + boot
	return control.AppendSigned(nil, []byte(body), k.CommandTag([]byte(body)))
}

// hello asks the daemon for its boot nonce, padded as a client does; ""
// when no answer comes.
func (p *udpPeer) hello() string {
	p.t.Helper()
	p.send([]byte("id=h hello pad=" + strings.Repeat("x", 50) + "\n"))
	buf := make([]byte, 512)
	deadline := time.Now().Add(500 * time.Millisecond)
	for {
		_ = p.conn.SetReadDeadline(deadline)
		n, _, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return ""
		}
		if r, err := control.ParseReply(buf[:n]); err == nil && r.ID == "h" {
			boot, _ := r.Get("boot")
			return boot
		}
	}
}

// ask sends a signed command and waits up to wait for a reply verified
// with k; ok is false when none came.
func (p *udpPeer) ask(k control.Key, line []byte, wait time.Duration) (r control.Reply, ok bool) {
	p.t.Helper()
	_, tag, err := control.SplitSigned(line)
	if err != nil {
		p.t.Fatal(err)
	}
	p.send(line)
	buf := make([]byte, 2048)
	deadline := time.Now().Add(wait)
	for {
		_ = p.conn.SetReadDeadline(deadline)
		n, _, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return r, false
			}
			continue // ICMP errors surfacing
		}
		if telemetry.Is(buf[:n]) {
			continue
		}
		body, err := k.VerifyReply(tag, buf[:n])
		if err != nil {
			p.t.Fatalf("reply %q does not verify: %v", buf[:n], err)
		}
		r, err := control.ParseReply(body)
		if err != nil {
			p.t.Fatal(err)
		}
		return r, true
	}
}

// statusWith runs `imustream status` with a key file and returns its
// fields.
func statusWith(t *testing.T, addr, keyFile string) map[string]string {
	t.Helper()
	stdout, stderr, code := runCmd(t, "status", "--device", addr, "--key", keyFile, "--from", "test-status")
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, stderr)
	}
	m := map[string]string{}
	for _, line := range strings.Split(stdout, "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			m[f[0]] = f[1]
		} else if len(f) == 1 {
			m[f[0]] = ""
		}
	}
	return m
}

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	path, _ := keygen(t, dir, "key")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %#o, want 0600", fi.Mode().Perm())
	}
	before, _ := os.ReadFile(path)
	if _, stderr, code := runCmd(t, "keygen", "--out", path); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("keygen over an existing key: exit %d, %q", code, stderr)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("keygen overwrote an existing key")
	}
	if _, stderr, code := runCmd(t, "keygen"); code != 2 || !strings.Contains(stderr, "--out") {
		t.Errorf("keygen without --out: exit %d, %q", code, stderr)
	}
	_, k2 := keygen(t, dir, "key2")
	if k1, _ := control.LoadKey(path); k1 == k2 {
		t.Error("two keygens wrote the same key")
	}
}

// TestSignedCommandsCLI: with --key the daemon obeys the commands that
// carry the key and nothing else, and counts what it dropped.
func TestSignedCommandsCLI(t *testing.T) {
	dir := t.TempDir()
	keyFile, _ := keygen(t, dir, "key")
	wrongFile, _ := keygen(t, dir, "wrong")
	_, addr := startDaemon(t, "--key", keyFile)
	if _, stderr, code := runCmd(t, "ping", "--device", addr, "--timeout", "100ms", "--retries", "0"); code != 1 || !strings.Contains(stderr, "no reply") {
		t.Errorf("unsigned ping: exit %d, %q; want no reply", code, stderr)
	}
	if _, stderr, code := runCmd(t, "ping", "--device", addr, "--key", wrongFile, "--timeout", "100ms", "--retries", "1"); code != 1 || !strings.Contains(stderr, "same key") {
		t.Errorf("ping with the wrong key: exit %d, %q; want no reply and a hint", code, stderr)
	}
	stdout, stderr, code := runCmd(t, "ping", "--device", addr, "--key", keyFile)
	if code != 0 || !strings.Contains(stdout, "ok ping version=") {
		t.Errorf("signed ping: exit %d, %q %q", code, stdout, stderr)
	}
	// record signs its start, lease refreshes and stop.
	stdout, stderr, code = runCmd(t, "record", "--device", addr, "--key", keyFile, "--duration", "2500ms", "--lease", "2s")
	if code != 0 || !strings.Contains(stdout, "end of stream  true") || !strings.Contains(stdout, "(1 seen)") {
		t.Errorf("signed record: exit %d\n%s%s", code, stdout, stderr)
	}
	st := statusWith(t, addr, keyFile)
	if n, _ := strconv.Atoi(st["cmd_accepted"]); n < 6 { // ping, start, ≥ 3 refreshes, stop, status
		t.Errorf("cmd_accepted=%d after a signed recording", n)
	}
	// drop_unsigned: the unsigned ping, and the unsigned probe each ping
	// that got no reply sends to tell silence from a closed port.
	for field, want := range map[string]string{"auth": "hmac-sha256", "drop_unsigned": "3", "drop_bad_sig": "2", "drop_replayed": "0", "subscribers": "0"} {
		if st[field] != want {
			t.Errorf("status %s=%q, want %q", field, st[field], want)
		}
	}
	// Nothing on disk but the two keys: replay protection writes nothing.
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%d files in the key directory, want the 2 keys", len(entries))
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", "--sim", "--key", filepath.Join(dir, "missing")}, 1, "no such file"},
		{[]string{"ping", "--from", "x"}, 2, "--from names the sender of signed commands"},
		{[]string{"ping", "--key", keyFile, "--from", "a/b"}, 1, "sender name"},
	} {
		_, stderr, code := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("imustream %q: exit %d, %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCmd(t, "run", "--sim", "--key", keyFile); code != 1 || !strings.Contains(stderr, "chmod 600") {
		t.Errorf("run with a world-readable key: exit %d, %q", code, stderr)
	}
}

// TestReplayRejectedAfterRestart: a command captured before the daemon
// restarts is refused after it: it carries the earlier boot's nonce. No
// counter is kept on disk.
func TestReplayRejectedAfterRestart(t *testing.T) {
	dir := t.TempDir()
	keyFile, k := keygen(t, dir, "key")
	d, addr := startDaemon(t, "--key", keyFile)
	pc := newUDPPeer(t, "127.0.0.1", addr)
	captured := pc.sign(k, "id=c start lease=1s nonce=000102030405060708090a0b0c0d0e0f", "pc")
	if r, ok := pc.ask(k, captured, 3*time.Second); !ok || !r.OK {
		t.Fatalf("start: %+v, %v", r, ok)
	}
	d.terminate(t)

	_, addr = startDaemon(t, "--key", keyFile)
	pc.dev, pc.boot = netip.MustParseAddrPort(addr), ""
	if r, ok := pc.ask(k, captured, 500*time.Millisecond); ok {
		t.Fatalf("the captured command was obeyed after a restart: %+v", r)
	}
	if r, ok := pc.ask(k, pc.sign(k, "id=p ping", "pc"), 3*time.Second); !ok || !r.OK {
		t.Fatalf("a fresh command after the restart: %+v, %v", r, ok)
	}
	st := statusWith(t, addr, keyFile)
	// Accepted: the hello, the ping, status's hello and status.
	if st["drop_wrong_boot"] != "1" || st["subscribers"] != "0" || st["cmd_accepted"] != "4" {
		t.Errorf("after replaying a pre-restart command: drop_wrong_boot=%s subscribers=%s cmd_accepted=%s; want 1, 0, 4",
			st["drop_wrong_boot"], st["subscribers"], st["cmd_accepted"])
	}
}

// rxStream reads a receiver socket in the background and keeps what
// arrived.
type rxStream struct {
	mu      sync.Mutex
	samples []uint32 // seq of every sample
	session []uint32 // session of every sample
	ends    int
	done    chan struct{}
}

func receive(p *udpPeer) *rxStream {
	_ = p.conn.SetReadBuffer(1 << 20)
	s := &rxStream{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 2048)
		var dg telemetry.Datagram
		for {
			_ = p.conn.SetReadDeadline(time.Time{})
			n, _, err := p.conn.ReadFromUDPAddrPort(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil || telemetry.Parse(buf[:n], &dg) != nil {
				continue
			}
			s.mu.Lock()
			if dg.Type == telemetry.TypeEnd {
				s.ends++
			}
			for i := range dg.Samples {
				s.samples = append(s.samples, dg.Seq+uint32(i))
				s.session = append(s.session, dg.Session)
			}
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *rxStream) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.samples)
}

func (s *rxStream) endCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ends
}

func (s *rxStream) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d samples, want %d", s.count(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// check reports gaps and session changes.
func (s *rxStream) check(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 1; i < len(s.samples); i++ {
		if s.session[i] != s.session[0] {
			t.Fatalf("session changed from %08x to %08x at sample %d", s.session[0], s.session[i], i)
		}
		if s.samples[i] != s.samples[i-1]+1 {
			t.Fatalf("seq %d follows %d: gap or reorder at sample %d", s.samples[i], s.samples[i-1], i)
		}
	}
}

func (p *proc) waitLog(t *testing.T, text string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(p.stderr.String(), text) < n {
		if time.Now().After(deadline) {
			t.Fatalf("daemon log lacks %q (#%d):\n%s", text, n, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSIGHUPReload: SIGHUP re-reads the config file's allow list and key
// while the stream goes on: a sender that was outside is obeyed, one that
// was inside is not, the old key no longer works, and the subscriber sees
// one session without a gap. A file that does not load changes nothing.
func TestSIGHUPReload(t *testing.T) {
	dir := t.TempDir()
	key1File, k1 := keygen(t, dir, "key1")
	key2File, k2 := keygen(t, dir, "key2")
	cfg := filepath.Join(dir, "imustream.conf")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("allow = 127.0.0.1/32, 127.0.0.3/32\nkey = " + key1File + "\n")
	d, addr := startDaemon(t, "--config", cfg)
	ctl, rx := newUDPPeer(t, "127.0.0.1", addr), newUDPPeer(t, "127.0.0.1", addr)
	two, three := newUDPPeer(t, "127.0.0.2", addr), newUDPPeer(t, "127.0.0.3", addr)
	stream := receive(rx)
	if r, ok := ctl.ask(k1, ctl.sign(k1, "id=s start :"+strconv.Itoa(int(rx.addr().Port()))+" nonce=000102030405060708090a0b0c0d0e0f", "ctl"), 3*time.Second); !ok || !r.OK {
		t.Fatalf("start: %+v %v", r, ok)
	}
	stream.wait(t, 50)
	if _, ok := two.ask(k1, two.sign(k1, "id=a ping", "two"), 300*time.Millisecond); ok {
		t.Fatal("127.0.0.2 obeyed before the reload")
	}
	if r, ok := three.ask(k1, three.sign(k1, "id=b ping", "three"), 3*time.Second); !ok || !r.OK {
		t.Fatalf("127.0.0.3 before the reload: %+v %v", r, ok)
	}

	write("allow = 127.0.0.1/32, 127.0.0.2/32\nkey = " + key2File + "\n")
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.waitLog(t, "configuration reloaded", 1)
	if r, ok := two.ask(k2, two.sign(k2, "id=c ping", "two"), 3*time.Second); !ok || !r.OK {
		t.Fatalf("127.0.0.2 after the reload: %+v %v", r, ok)
	}
	if _, ok := three.ask(k2, three.sign(k2, "id=d ping", "three"), 300*time.Millisecond); ok {
		t.Error("127.0.0.3 obeyed after leaving the allow list")
	}
	if _, ok := two.ask(k1, two.sign(k1, "id=e ping", "two"), 300*time.Millisecond); ok {
		t.Error("the old key still works")
	}

	// Files that must not load: the running configuration stays.
	for i, bad := range []string{
		"allow = nonsense\nkey = " + key2File + "\n",
		"allow = 127.0.0.1/32\nkey = " + filepath.Join(dir, "missing") + "\n",
		"allow = 127.0.0.1/32\n", // no key: authentication off needs a restart
		"frobnicate = 1\n",
	} {
		write(bad)
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		d.waitLog(t, "reload failed", i+1)
	}
	if r, ok := two.ask(k2, two.sign(k2, "id=f ping", "two"), 3*time.Second); !ok || !r.OK {
		t.Fatalf("after failed reloads, 127.0.0.2 with the new key: %+v %v", r, ok)
	}
	n := stream.count()
	stream.wait(t, n+50)
	if r, ok := ctl.ask(k2, ctl.sign(k2, "id=g status", "ctl"), 3*time.Second); !ok {
		t.Fatal("no status")
	} else if v, _ := r.Get("drop_bad_sig"); v != "1" {
		t.Errorf("drop_bad_sig=%s, want 1 (the old key)", v)
	}
	stream.check(t)
	if stream.endCount() != 0 {
		t.Error("the stream ended")
	}
	d.terminate(t)
}

// TestControllerSilentLeaseExpires: a controller starts a stream to a
// receiver with a lease and goes silent; the stream ends by itself with
// an end marker, counted as expired.
func TestControllerSilentLeaseExpires(t *testing.T) {
	d, addr := startDaemon(t)
	rx := newUDPPeer(t, "127.0.0.1", addr)
	stream := receive(rx)
	stdout, stderr, code := runCmd(t, "start", "--device", addr, "--to", ":"+strconv.Itoa(int(rx.addr().Port())), "--lease", "1s")
	if code != 0 || !strings.Contains(stdout, "lease=1s") {
		t.Fatalf("start: exit %d, %q %q", code, stdout, stderr)
	}
	stream.wait(t, 20)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if stream.endCount() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no end of stream after the lease")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stream.check(t)
	stdout, _, _ = runCmd(t, "status", "--device", addr)
	if !strings.Contains(stdout, "expired           1") || !strings.Contains(stdout, "subscribers       0") {
		t.Errorf("status after the lease ran out:\n%s", stdout)
	}
	d.terminate(t)
}

// TestRecorderKilledExpires: a recorder killed outright leaves a closed
// port behind. ICMP port unreachable can be forged, so the daemon does not
// prune a subscriber for it while its lease is fresh: the stream ends when
// the lease runs out, an end the recorder's silence proves.
func TestRecorderKilledExpires(t *testing.T) {
	d, addr := startDaemon(t)
	rec := exec.Command(bin, "record", "--device", addr, "--lease", "2s", "--duration", "1m")
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rec.Process.Kill(); _ = rec.Wait() })
	waitStatus := func(want string) string {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			stdout, _, _ := runCmd(t, "status", "--device", addr)
			if strings.Contains(stdout, want) || time.Now().After(deadline) {
				return stdout
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The subscriber is listed before the sender wakes to stream to it.
	if st := waitStatus("state             streaming"); !strings.Contains(st, "subscribers       1") {
		t.Fatalf("the recorder never subscribed:\n%s", st)
	}
	_ = rec.Process.Kill()
	_ = rec.Wait()
	st := waitStatus("expired           1")
	if !strings.Contains(st, "expired           1") || !strings.Contains(st, "subscribers       0") || !strings.Contains(st, "pruned            0") {
		t.Errorf("after killing the recorder:\n%s", st)
	}
	d.terminate(t)
}

// mountTmpfs mounts a tmpfs of the given size for the test, or skips.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("filling a disk needs a small tmpfs, and mounting one needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size="+size); err != nil {
		t.Skipf("filling a disk needs a small tmpfs: mount: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestRecordDiskFull: record fills its disk; it says so clearly, still
// prints the summary, exits 1, and leaves a CSV of whole rows under the
// partial name, which it names: an incomplete recording never goes to --out.
func TestRecordDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "100k")
	out, partial := filepath.Join(dir, "rec.csv"), filepath.Join(dir, "rec.partial.csv")
	_, addr := startDaemon(t, "--rate", "1000")
	stdout, stderr, code := runCmd(t, "record", "--device", addr, "--duration", "3s", "--out", out)
	if code != 1 {
		t.Errorf("record on a full disk: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "no space left on device") || !strings.Contains(stderr, "writing recording") {
		t.Errorf("stderr does not say the disk is full:\n%s", stderr)
	}
	if !strings.Contains(stdout, "recorded ") || !strings.Contains(stdout, "lost           0") || !strings.Contains(stdout, "INCOMPLETE") || !strings.Contains(stderr, partial) {
		t.Errorf("summary missing, not marked incomplete, or the partial file not named:\n%s%s", stdout, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("the incomplete recording went to %s", out)
	}
	data, err := os.ReadFile(partial)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 || data[len(data)-1] != '\n' {
		t.Fatalf("the CSV (%d bytes) does not end in a whole line", len(data))
	}
	if !strings.Contains(stdout, "("+strconv.Itoa(len(data))+" bytes of whole rows") {
		t.Errorf("the summary's byte count is not the file's %d bytes:\n%s", len(data), stdout)
	}
	rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	if len(rows) < 100 || strings.Join(rows[0], ",")+"\n" != receiver.CSVHeader {
		t.Fatalf("%d rows, header %q", len(rows), rows[0])
	}
	for i, row := range rows[1:] {
		if len(row) != 22 {
			t.Fatalf("row %d has %d fields", i+1, len(row))
		}
		if _, err := strconv.ParseUint(row[1], 10, 32); err != nil {
			t.Fatalf("row %d: seq %q", i+1, row[1])
		}
	}
	t.Logf("disk full after %d rows (%d bytes)", len(rows)-1, len(data))
}
