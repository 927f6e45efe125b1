package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// The forged-telemetry tests run record against a real daemon while an
// attacker on this host sends forged datagrams to record's socket. It
// learns the session and seq as an eavesdropper would (here from status),
// and record's port from /proc (record says nothing about it). It sends
// from a socket of its own: it cannot send from the daemon's port.

// forgedAX marks the values of forged records.
const forgedAX = 1234.5

// recordPort returns the port of the UDP socket of process pid, when it
// has one.
func recordPort(pid int) (int, bool) {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if ino, ok := strings.CutPrefix(l, "socket:["); ok && err == nil {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	for _, table := range []string{"udp", "udp6"} {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line) // sl local_address rem_address st … inode
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			_, port, _ := strings.Cut(f[1], ":")
			if p, err := strconv.ParseUint(port, 16, 16); err == nil {
				return int(p), true
			}
		}
	}
	return 0, false
}

// streamNow returns the session and next seq of the daemon's stream, from
// its status.
func streamNow(t *testing.T, addr string, keyArgs ...string) (session, seq uint32) {
	t.Helper()
	stdout, _, _ := runCmd(t, append([]string{"status", "--device", addr}, keyArgs...)...)
	for _, line := range strings.Split(stdout, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		switch f[0] {
		case "session":
			v, _ := strconv.ParseUint(f[1], 16, 32)
			session = uint32(v)
		case "seq":
			v, _ := strconv.ParseUint(f[1], 10, 32)
			seq = uint32(v)
		}
	}
	return session, seq
}

// forge makes the attacker's datagrams: a record some samples ahead with
// other values, a record 2³⁰ ahead, and a new session with its end of
// stream. With a key they say they are tagged, with a tag of random bytes.
func forge(session, seq uint32, tagged bool) [][]byte {
	s := []sensor.Sample{{MonoNs: 1e12, WallNs: 1.7e18, Accel: [3]float32{forgedAX, 0, 9.80665}, TempC: 25}}
	h := telemetry.Header{Session: session, Seq: seq, RateHz: 200}
	other := h
	other.Session, other.Seq = session^0x5a5a5a5a, 0
	far := h
	far.Seq += 1 << 30
	out := [][]byte{
		telemetry.AppendDatagram(nil, h, s),
		telemetry.AppendDatagram(nil, far, s),
		telemetry.AppendDatagram(nil, other, s),
		telemetry.AppendEnd(nil, other.Session, 1, 200),
	}
	if tagged {
		for i, b := range out {
			telemetry.SetTagged(b, true)
			out[i] = append(b, rand.Text()[:telemetry.TagLen]...)
		}
	}
	return out
}

// recordAttacked runs record (with extra args) until the attacker's
// forgeries are in and the stream went on past them, stops it with
// SIGINT, and returns it and its CSV.
func recordAttacked(t *testing.T, daemonArgs []string, keyArgs []string) (*recordProc, string) {
	t.Helper()
	_, addr := startDaemon(t, daemonArgs...)
	out := filepath.Join(t.TempDir(), "run.csv")
	args := append([]string{"--device", addr, "--out", out}, keyArgs...)
	if !emulated { // the count check would time the emulator (see TestRecordFromDaemon)
		args = append(args, "--strict")
	}
	rec := startRecord(t, args...)
	var port int
	waitFor(t, "record's socket", func() bool {
		p, ok := recordPort(rec.cmd.Process.Pid)
		port = p
		return ok
	})
	statusArgs := keyArgs
	if len(keyArgs) > 0 { // a name of its own: its counters do not race record's
		statusArgs = append(slices.Clone(keyArgs), "--from", "attacker")
	}
	var session, seq uint32
	waitFor(t, "record's stream", func() bool {
		session, seq = streamNow(t, addr, statusArgs...)
		return seq >= 20
	})
	attacker, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer attacker.Close()
	// A second ahead: the substitute comes before the record it replaces,
	// however slow this machine is.
	target := seq + 200
	for _, b := range forge(session, target, len(keyArgs) > 0) {
		if _, err := attacker.WriteToUDP(b, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the stream past the substituted record", func() bool {
		_, now := streamNow(t, addr, statusArgs...)
		return now > target+20
	})
	select {
	case <-rec.done:
		t.Fatalf("record ended before it was stopped (by a forged end of stream?): %v", rec)
	default:
	}
	rec.signal(t, syscall.SIGINT)
	rec.wait(t, 15*time.Second)
	return rec, out
}

// checkAttacked checks that record passed, with every row genuine, one
// session and nothing lost, and that its summary names the forgeries.
func checkAttacked(t *testing.T, rec *recordProc, out, summaryLine, sidecarField string) {
	t.Helper()
	stdout := rec.stdout.String()
	if rec.code != 0 && !(strings.Contains(stdout, "strict check   FAIL") && !strings.Contains(stdout, "skipped ticks  0 ")) {
		t.Fatalf("record: %v", rec) // only ticks a busy machine made the daemon skip may fail --strict
	}
	for _, want := range []string{summaryLine, "lost           0\n", "(1 seen)", "suspicious     0 datagrams set aside"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the summary lacks %q:\n%s", want, stdout)
		}
	}
	if !emulated && rec.code == 0 && !strings.Contains(stdout, "strict check   PASS") {
		t.Errorf("no strict check passed:\n%s", stdout)
	}
	rows := readCSV(t, out)
	if len(rows) < 100 {
		t.Fatalf("%d rows", len(rows))
	}
	for i, r := range rows {
		seq, _ := strconv.ParseUint(r[1], 10, 32)
		prev, _ := strconv.ParseUint(rows[max(i-1, 0)][1], 10, 32)
		if r[0] != rows[0][0] || r[4] == "1234.5" || i > 0 && seq != prev+1 {
			t.Fatalf("row %d: %q after %q: a forged row, or a genuine one missing", i, r, rows[max(i-1, 0)])
		}
	}
	data, err := os.ReadFile(out + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Summary map[string]any }
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.Summary[sidecarField] != 4.0 || m.Summary["lost"] != 0.0 {
		t.Errorf("sidecar summary: %s %v, lost %v; want 4, 0", sidecarField, m.Summary[sidecarField], m.Summary["lost"])
	}
}

// TestRecordForgedWithKey: with --key, record drops the forgeries as
// forged (their tags are wrong), counts them, and passes --strict.
func TestRecordForgedWithKey(t *testing.T) {
	keyFile, _ := keygen(t, t.TempDir(), "key")
	rec, out := recordAttacked(t, []string{"--key", keyFile}, []string{"--key", keyFile})
	checkAttacked(t, rec, out, "\n  forged         4 datagrams dropped (tag missing or wrong)\n", "forged")
}

// TestRecordForgedWithoutKey: without a key, record drops the forgeries
// as from the wrong source, counts them, and passes --strict.
func TestRecordForgedWithoutKey(t *testing.T) {
	rec, out := recordAttacked(t, nil, nil)
	checkAttacked(t, rec, out, "\n  wrong source   4 datagrams dropped (not from the address the daemon named)\n", "wrong_source")
}
