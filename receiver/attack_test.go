package receiver

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/daemon/daemontest"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// The attack tests record a real daemon's stream over loopback while an
// attacker injects forged datagrams into the recorder's socket, crafted
// from a genuine datagram it saw (an attacker on the path sees them all;
// here the test hands it one). The attacker sends from a socket of its
// own: it cannot send from the daemon's port.

// forgedAccel marks the values of forged records: no sample at rest has it.
const forgedAccel = 1234.5

// runDaemon runs a daemon with the simulated sensor on loopback, with the
// key when there is one, until the test ends.
func runDaemon(t *testing.T, key *control.Key) netip.AddrPort {
	t.Helper()
	d, _ := daemontest.Start(t, daemon.Config{Logger: slog.New(slog.DiscardHandler)}, key)
	return d.Addr()
}

// forgeries returns the datagrams an attacker makes of a genuine one, g,
// the first of its stream with a seq of 10 or more: a substitution of the
// record 40 samples on with other values, the same records 2³⁰ samples on,
// and a new session followed by its end of stream. Of a tagged datagram
// they keep the flag and the tag, the best an attacker without the key
// can do.
func forgeries(t *testing.T, g []byte) [][]byte {
	var d telemetry.Datagram
	if err := telemetry.Parse(g, &d); err != nil {
		t.Errorf("the daemon sent %x: %v", g, err)
		return nil
	}
	h := d.Header
	h.Flags = 0
	encode := func(h telemetry.Header, s []sensor.Sample) []byte {
		b := telemetry.AppendDatagram(nil, h, s)
		if h.SampleLen >= telemetry.SampleLenPressure {
			b = telemetry.AppendDatagramPressure(nil, h, s)
		}
		return b
	}
	retag := func(b []byte) []byte {
		if d.Tag == nil {
			return b
		}
		telemetry.SetTagged(b, true)
		return append(b, d.Tag...)
	}
	other := make([]sensor.Sample, len(d.Samples))
	copy(other, d.Samples)
	for i := range other {
		other[i].Accel[0] = forgedAccel
	}
	sub, far, sess := h, h, h
	sub.Seq += 40
	far.Seq += 1 << 30
	sess.Session, sess.Seq = h.Session^0x5a5a5a5a, 0
	return [][]byte{
		retag(encode(sub, other)),
		retag(encode(far, d.Samples)),
		retag(encode(sess, other)),
		retag(telemetry.AppendEnd(nil, sess.Session, uint32(len(other)), h.RateHz)),
	}
}

// recordUnderAttack records 2 s of a real daemon's stream, with the key
// when there is one, while the attacker sends its forgeries; it returns
// the result, the rows and the genuine samples by seq.
func recordUnderAttack(t *testing.T, key *control.Key) (*RecordResult, []csvRow, map[uint32]sensor.Sample, uint32) {
	t.Helper()
	addr := runDaemon(t, key)
	o, err := CreateOutput(filepath.Join(t.TempDir(), "run.csv"), false)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := NewRecording(RecordConfig{Output: o, Duration: 2 * time.Second, Key: key, Device: addr.String(), Program: "test"})
	if err != nil {
		t.Fatal(err)
	}
	attacker, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer attacker.Close()
	from := attacker.LocalAddr().(*net.UDPAddr).AddrPort()

	var (
		victim  atomic.Pointer[netip.AddrPort] // the recorder's socket
		sent    int
		session uint32
		genuine = map[uint32]sensor.Sample{}
		d       telemetry.Datagram
	)
	// tap stands for the attacker's view of the stream: it runs on the
	// client's reader goroutine, before the recording gets the datagram.
	tap := func(b []byte, src netip.AddrPort) {
		if src == from || telemetry.Parse(b, &d) != nil || d.Type != telemetry.TypeSamples {
			rc.Receive(b, src)
			return
		}
		session = d.Session
		for i, s := range d.Samples {
			genuine[d.Seq+uint32(i)] = s
		}
		if dst := victim.Load(); sent == 0 && d.Seq >= 10 && dst != nil {
			for _, f := range forgeries(t, b) {
				if _, err := attacker.WriteToUDPAddrPort(f, *dst); err != nil {
					t.Errorf("attacker: %v", err)
				}
				sent++
			}
		}
		rc.Receive(b, src)
	}
	c, err := control.Dial(addr.String(), &control.ClientOptions{Key: key, From: "recorder", OnData: tap, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr()
	victim.Store(&local)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := rc.Run(ctx, c)
	if err != nil || res.Ending != EndDuration || res.Incomplete != "" {
		t.Fatalf("Run: %+v, %v; want the duration recorded, complete (a forged end of stream must not end it)", res, err)
	}
	c.Close() // no more taps: the maps are the test's now
	if sent != 4 {
		t.Fatalf("the attacker sent %d forgeries, want 4", sent)
	}
	return res, parseRecording(t, []byte(readFile(t, o.Path))), genuine, session
}

// checkAttack checks that the CSV holds the genuine stream and nothing of
// the forgeries, and that the summary passes the strict check.
func checkAttack(t *testing.T, res *RecordResult, rows []csvRow, genuine map[uint32]sensor.Sample, session uint32) {
	t.Helper()
	s := res.Summary
	if s.Lost != 0 || s.Sessions != 1 || s.Suspicious != 0 || s.UnknownGaps != 0 || !s.EndSeen {
		t.Errorf("summary %+v; want 1 session, nothing lost or suspicious, the end seen", s)
	}
	// The count may be off only by ticks a busy machine made the daemon
	// skip: those are flagged, and are no forgery's doing.
	if !s.OK() && s.Skipped == 0 {
		t.Errorf("the strict check fails with nothing lost and no tick skipped: %+v", s)
	}
	if len(rows) < 100 || uint64(len(rows)) != s.Samples {
		t.Fatalf("%d rows for %d samples; want the same, at least 100", len(rows), s.Samples)
	}
	for i, r := range rows {
		want, ok := genuine[r.seq]
		if r.session != session || !ok {
			t.Fatalf("row %d: session %08x seq %d; the daemon sent no such sample", i, r.session, r.seq)
		}
		if r.values[0] == forgedAccel || r.mono != want.MonoNs || !sameBits(r.values[0], want.Accel[0]) {
			t.Fatalf("row %d (seq %d): t_mono_ns %d, ax %v; the daemon sent %d, %v", i, r.seq, r.mono, r.values[0], want.MonoNs, want.Accel[0])
		}
		if i > 0 && r.seq != rows[i-1].seq+1 {
			t.Fatalf("row %d: seq %d after %d", i, r.seq, rows[i-1].seq)
		}
	}
}

// TestRecordingForgedWithKey: with a key, the forged datagrams fail the
// tag check and are counted as forged; nothing of them reaches the CSV,
// the end of stream of the forged session does not end the recording, and
// the strict check passes. (Without the check a forged record replaced a
// genuine one, seq + 2³⁰ made the rest of the stream "too old" and counted
// 2³⁰ lost, and the forged end of stream ended the recording.)
func TestRecordingForgedWithKey(t *testing.T) {
	key, err := control.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	res, rows, genuine, session := recordUnderAttack(t, &key)
	checkAttack(t, res, rows, genuine, session)
	s := res.Summary
	if s.Auth != AuthTag || s.Forged != 4 || s.WrongSource != 0 {
		t.Errorf("auth %q, forged %d, wrong source %d; want %q, 4, 0", s.Auth, s.Forged, s.WrongSource, AuthTag)
	}
	var text bytes.Buffer
	s.WriteText(&text, "pi")
	if !strings.Contains(text.String(), "\n  forged         4 datagrams dropped (tag missing or wrong)\n") {
		t.Errorf("the summary does not count the forgeries:\n%s", text.String())
	}
	if m := readSidecar(t, res.At); m.Summary.Forged != 4 || m.Summary.Auth != AuthTag {
		t.Errorf("sidecar summary: auth %q, forged %d", m.Summary.Auth, m.Summary.Forged)
	}
}

// TestRecordingForgedWithoutKey: without a key, the forgeries come from
// another port than the one the start reply named (src=), and are dropped
// and counted as from the wrong source.
func TestRecordingForgedWithoutKey(t *testing.T) {
	res, rows, genuine, session := recordUnderAttack(t, nil)
	checkAttack(t, res, rows, genuine, session)
	s := res.Summary
	if s.Auth != AuthSource || s.WrongSource != 4 || s.Forged != 0 {
		t.Errorf("auth %q, wrong source %d, forged %d; want %q, 4, 0", s.Auth, s.WrongSource, s.Forged, AuthSource)
	}
	var text bytes.Buffer
	s.WriteText(&text, "pi")
	if !strings.Contains(text.String(), "\n  wrong source   4 datagrams dropped (not from the address the daemon named)\n") {
		t.Errorf("the summary does not count the forgeries:\n%s", text.String())
	}
	if m := readSidecar(t, res.At); m.Summary.WrongSource != 4 || m.Summary.Auth != AuthSource {
		t.Errorf("sidecar summary: auth %q, wrong source %d", m.Summary.Auth, m.Summary.WrongSource)
	}
}
