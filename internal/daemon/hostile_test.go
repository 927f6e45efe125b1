package daemon_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/syncbuf"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/telemetry"
)

var (
	key      = control.Key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}
	wrongKey = control.Key{0: 9}
)

// boot is the boot nonce of the daemon the running test started with a key
// (keyedDaemon sets it; the tests do not run in parallel).
var boot string

// nonce is a signed start's nonce in these tests.
const nonce = "000102030405060708090a0b0c0d0e0f"

// signed returns body, for the daemon's boot, signed with k, as a client
// sends it.
func signed(k control.Key, body string) string {
	body += " boot=" + boot
	return string(control.AppendSigned(nil, []byte(body), k.CommandTag([]byte(body))))
}

// verified checks that b is a reply signed with k for the command line
// sent, and returns it parsed.
func verified(t *testing.T, k control.Key, sent string, b []byte) control.Reply {
	t.Helper()
	_, tag, err := control.SplitSigned([]byte(sent))
	if err != nil {
		t.Fatal(err)
	}
	body, err := k.VerifyReply(tag, b)
	if err != nil {
		t.Fatalf("reply %q to %q: %v", b, sent, err)
	}
	r, err := control.ParseReply(body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// signedDo sends a signed command and returns its verified reply.
func (p *peer) signedDo(k control.Key, body, id string) control.Reply {
	p.t.Helper()
	return p.sendSigned(k, signed(k, body), id)
}

// sendSigned sends a signed line and returns its verified reply.
func (p *peer) sendSigned(k control.Key, line, id string) control.Reply {
	p.t.Helper()
	p.send(line)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		pk, ok := p.next(time.Until(deadline))
		if !ok {
			break
		}
		if pk.reply != nil && pk.reply.ID == id {
			return verified(p.t, k, line, pk.data)
		}
	}
	p.t.Fatalf("no reply to %q", line)
	return control.Reply{}
}

// keyedDaemon runs a daemon with the test key, accepting commands from
// 127.0.0.1 and 127.0.0.3 (127.0.0.2 is a stranger).
func keyedDaemon(t *testing.T, o daemonOpts) *testDaemon {
	t.Helper()
	k := key
	o.key = &k
	if o.allow == nil {
		o.allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("127.0.0.3/32")}
	}
	d := startDaemon(t, o)
	boot = d.Boot()
	return d
}

// counter hands out ts values as the client does: the wall clock in µs,
// always above the previous one.
type counter struct{ ts uint64 }

func (c *counter) next() string {
	c.ts = max(uint64(time.Now().UnixMicro()), c.ts+1)
	return strconv.FormatUint(c.ts, 10)
}

// TestUnauthenticatedCommandsRejected: with a key, every unsigned, wrongly
// signed, tampered, replayed, pre-restart or spoofed command is dropped (100 %
// of them, each counted under its reason), none gets a reply, none changes
// anything, and the controller that holds the key is obeyed throughout.
func TestUnauthenticatedCommandsRejected(t *testing.T) {
	d := keyedDaemon(t, daemonOpts{})
	pc := newPeer(t, d, "127.0.0.1")
	var ts counter

	// sync makes sure the daemon has handled everything sent before: it
	// answers in order.
	syncs := 0
	sync := func() {
		t.Helper()
		syncs++
		id := "sync" + itoa(uint16(syncs))
		if r := pc.signedDo(key, "id="+id+" ping from=pc ts="+ts.next(), id); !r.OK {
			t.Fatalf("ping: %+v", r)
		}
	}
	// A captured command of the controller, and the reply it got.
	captured := signed(key, "id=cap start lease=30s nonce="+nonce+" from=pc ts="+ts.next())
	if r := pc.sendSigned(key, captured, "cap"); !r.OK {
		t.Fatalf("start: %+v", r)
	}
	sync()

	attackers := map[string]*peer{
		"127.0.0.1": newPeer(t, d, "127.0.0.1"),
		"127.0.0.3": newPeer(t, d, "127.0.0.3"),
		"127.0.0.2": newPeer(t, d, "127.0.0.2"),
	}
	const n = 40
	cases := []struct {
		name  string
		from  string
		line  func(i int) string
		count func(c control.Counters) uint64
	}{
		{"unsigned", "127.0.0.1", func(i int) string { return "id=u" + itoa(uint16(i)) + " stop all\n" },
			func(c control.Counters) uint64 { return c.Unsigned }},
		{"unsigned with from and ts", "127.0.0.3", func(i int) string { return "stop all from=pc ts=" + strconv.Itoa(1e9+i) },
			func(c control.Counters) uint64 { return c.Unsigned }},
		{"wrong key", "127.0.0.1", func(i int) string { return signed(wrongKey, "stop all from=pc ts="+strconv.Itoa(1e9+i)) },
			func(c control.Counters) uint64 { return c.BadSig }},
		{"tampered", "127.0.0.3", func(i int) string {
			// The captured start, pointed at another port.
			return strings.Replace(captured, "start", "start :"+itoa(uint16(9000+i)), 1)
		}, func(c control.Counters) uint64 { return c.BadSig }},
		{"tag of another command", "127.0.0.1", func(i int) string {
			_, tag, _ := control.SplitSigned([]byte(captured))
			return string(control.AppendSigned(nil, []byte("stop all from=pc ts="+strconv.Itoa(1e9+i)), tag))
		}, func(c control.Counters) uint64 { return c.BadSig }},
		{"signed without ts", "127.0.0.1", func(i int) string { return signed(key, "id=n"+itoa(uint16(i))+" stop all from=pc") },
			func(c control.Counters) uint64 { return c.BadSig }},
		{"replayed from its own address", "127.0.0.1", func(int) string { return captured },
			func(c control.Counters) uint64 { return c.Replayed }},
		{"replayed from another allowed address", "127.0.0.3", func(int) string { return captured },
			func(c control.Counters) uint64 { return c.Replayed }},
		{"older counter", "127.0.0.3", func(i int) string { return signed(key, "stop all from=pc ts="+strconv.Itoa(1000+i)) },
			func(c control.Counters) uint64 { return c.Replayed }},
		{"spoofed source", "127.0.0.2", func(i int) string { return signed(key, "stop all from=pc ts="+ts.next()) },
			func(c control.Counters) uint64 { return c.NotAllowed }},
		{"captured before a restart (another boot)", "127.0.0.1", func(i int) string {
			body := "stop all from=pc ts=" + ts.next() + " boot=0123456789abcdef"
			return string(control.AppendSigned(nil, []byte(body), key.CommandTag([]byte(body))))
		}, func(c control.Counters) uint64 { return c.WrongBoot }},
	}
	for _, tc := range cases {
		before := d.Counters()
		a := attackers[tc.from]
		for i := range n {
			a.send(tc.line(i))
		}
		sync()
		after := d.Counters()
		if got := tc.count(after) - tc.count(before); got != n {
			t.Errorf("%s: %d of %d counted", tc.name, got, n)
		}
		if got := after.Accepted - before.Accepted; got != 1 { // the sync ping
			t.Errorf("%s: %d commands ran, want only the sync ping", tc.name, got-1)
		}
		a.silent(50 * time.Millisecond) // any reply was sent before the ping's
	}

	if n := len(d.Targets()); n != 1 {
		t.Errorf("%d subscribers after the attacks, want the controller's 1", n)
	}
	st := pc.signedDo(key, "id=st status from=pc ts="+ts.next(), "st")
	for field, want := range map[string]string{
		"auth": "hmac-sha256", "drop_unsigned": itoa(2 * n), "drop_bad_sig": itoa(4 * n),
		"drop_replayed": itoa(3 * n), "drop_wrong_boot": itoa(n), "drop_not_allowed": itoa(n), "subscribers": "1",
	} {
		if got, _ := st.Get(field); got != want {
			t.Errorf("status %s=%s, want %s", field, got, want)
		}
	}
}

// TestSignedRetryAnsweredFromCache: a retry is a new signed datagram with
// the same id; it is answered (signed for the retry) and not run again.
func TestSignedRetryAnsweredFromCache(t *testing.T) {
	d := keyedDaemon(t, daemonOpts{})
	pc := newPeer(t, d, "127.0.0.1")
	rx := newPeer(t, d, "127.0.0.1")
	port := itoa(rx.addr().Port())
	first := pc.signedDo(key, "id=s1 start :"+port+" nonce="+nonce+" from=pc ts=10", "s1")
	if v, _ := first.Get("new"); !first.OK || v != "true" {
		t.Fatalf("start: %+v", first)
	}
	var s received
	rx.collect(&s, 20)
	again := pc.signedDo(key, "id=s1 start :"+port+" nonce="+nonce+" from=pc ts=11", "s1")
	if again.String() != first.String() {
		t.Errorf("retry answered %q, first answer %q", again.String(), first.String())
	}
	// Another sender name with the same id is another request (run, not
	// answered from the cache); as another name's refresh it needs admin=1.
	other := pc.signedDo(key, "id=s1 start :"+port+" nonce="+nonce+" admin=1 from=laptop ts=1", "s1")
	if v, _ := other.Get("new"); v != "false" {
		t.Errorf("start from another name: %+v, want a refresh (new=false)", other)
	}
	c := d.Counters()
	if c.Repeated != 1 || c.Accepted != 2 {
		t.Errorf("counters %+v, want 1 repeated, 2 accepted", c)
	}
	rx.collect(&s, len(s.seqs)+20)
	contiguous(t, s.seqs)
}

// TestClientSigns: the Go client signs, retries with fresh counters and
// checks the replies.
func TestClientSigns(t *testing.T) {
	d := keyedDaemon(t, daemonOpts{})
	k := key
	c, err := control.Dial(d.addr.String(), &control.ClientOptions{Key: &k, From: "bench-pc"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for range 20 {
		if _, err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The first command's hello, 20 pings and the status: the client
	// learns the boot nonce once.
	if v, _ := r.Get("cmd_accepted"); v != "22" {
		t.Errorf("cmd_accepted=%s, want 22", v)
	}
	if _, err := c.Stop(ctx, ""); !errors.As(err, new(*control.ReplyError)) {
		t.Errorf("stop with nothing to stop: %v, want a signed err reply", err)
	}

	// The same key under a wrong expectation: a client with another key
	// hears nothing it trusts and says what to check.
	wk := wrongKey
	bad, err := control.Dial(d.addr.String(), &control.ClientOptions{Key: &wk, From: "intruder", Timeout: 50 * time.Millisecond, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := bad.Ping(ctx); !errors.Is(err, control.ErrNoReply) || !strings.Contains(err.Error(), "same key") {
		t.Errorf("ping with the wrong key: %v", err)
	}
	if got := d.Counters().BadSig; got != 2 {
		t.Errorf("BadSig = %d, want 2 (two attempts)", got)
	}
}

// TestClientRejectsForgedReplies: a client with a key ignores unsigned
// replies, replies signed with another key and genuine replies to another
// request, and takes the right one when it comes, even behind 64 forgeries.
func TestClientRejectsForgedReplies(t *testing.T) {
	srv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var mu sync.Mutex
	honest := false
	go func() {
		buf := make([]byte, 512)
		// The tag of a command this client never sent.
		otherTag := key.CommandTag([]byte("ping from=pc ts=1"))
		for {
			n, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			body, tag, err := key.VerifyCommand(buf[:n])
			if err != nil {
				continue
			}
			cmd, _ := control.ParseCommand(body)
			r := []byte(control.Reply{OK: true, ID: cmd.ID, Verb: cmd.Verb, Fields: []control.Field{{Key: "forged", Value: "yes"}}}.String())
			r = r[:len(r)-1]
			send := func(b []byte) { _, _ = srv.WriteToUDPAddrPort(b, from) }
			// Many forgeries ahead of the genuine reply: they must not
			// crowd it out of the client's queue.
			for range 16 {
				send(append(bytes.Clone(r), '\n'))                                    // unsigned
				send(control.AppendSigned(nil, r, wrongKey.ReplyTag(tag, r)))         // another key
				send(control.AppendSigned(nil, r, key.ReplyTag(otherTag, r)))         // for another request
				send(control.AppendSigned(nil, r, key.ReplyTag(tag, append(r, '!')))) // tampered
			}
			mu.Lock()
			h := honest
			mu.Unlock()
			if h {
				good := []byte(control.Reply{OK: true, ID: cmd.ID, Verb: cmd.Verb, Fields: []control.Field{{Key: "genuine", Value: "yes"}}}.String())
				good = good[:len(good)-1]
				send(control.AppendSigned(nil, good, key.ReplyTag(tag, good)))
			}
		}
	}()
	k := key
	c, err := control.Dial(srv.LocalAddr().String(), &control.ClientOptions{Key: &k, From: "pc", Timeout: 100 * time.Millisecond, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Ping(context.Background())
	if !errors.Is(err, control.ErrNoReply) || !strings.Contains(err.Error(), "without a valid signature") {
		t.Errorf("only forged replies: %v, want ErrNoReply saying so", err)
	}
	mu.Lock()
	honest = true
	mu.Unlock()
	r, err := c.Ping(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Get("genuine"); v != "yes" {
		t.Errorf("client took %+v, want the genuine reply", r)
	}
}

// TestKeyedClientKeylessDaemon: the client notices that the daemon does
// not authenticate instead of trusting its unsigned replies.
func TestKeyedClientKeylessDaemon(t *testing.T) {
	d := startDaemon(t, daemonOpts{})
	k := key
	c, err := control.Dial(d.addr.String(), &control.ClientOptions{Key: &k, Timeout: 100 * time.Millisecond, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Ping(context.Background()); !errors.Is(err, control.ErrNoReply) || !strings.Contains(err.Error(), "--key") {
		t.Errorf("ping: %v, want ErrNoReply naming --key", err)
	}
}

// TestReplyNoLargerThanRequest measures every reply path open to a sender
// the daemon does not trust yet: each reply is at most as long as its
// request, and with a key there is no reply at all.
func TestReplyNoLargerThanRequest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	junk := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(0x20 + rng.IntN(0x5f))
		}
		return string(b)
	}
	type probe struct {
		path, from, line string
	}
	var probes []probe
	for _, l := range []string{"x", "x\n", "frobnicate\n", "id=abc frobnicate\n", "id=u2 frobnicate the gyroscope\n",
		"start lease=forever\n", "start :9000 lease=forever and ever, amen\n", "stop a b\n", "id=!!! ping\n", "ping sig=1\n",
		"lease=5s\n", "id=1\n", "start all\n", "status now\n", strings.Repeat("x", 256), "id=" + strings.Repeat("i", 32) + " y",
		"start from=" + strings.Repeat("f", 40), "start ts=0", "stop lease=1s"} {
		probes = append(probes, probe{"malformed text", "127.0.0.1", l})
	}
	for n := 1; n <= 256; n += 3 {
		probes = append(probes, probe{"random printable", "127.0.0.1", junk(n)})
	}
	probes = append(probes,
		probe{"stranger", "127.0.0.2", "status\n"},
		probe{"stranger", "127.0.0.2", "id=1 start :1\n"},
		probe{"oversized", "127.0.0.1", "status " + strings.Repeat("x", 300)},
		probe{"binary", "127.0.0.1", "\x00\x01status\xff"},
		probe{"hello", "127.0.0.1", "hello\n"},
		probe{"hello", "127.0.0.1", "id=1 hello pad=" + strings.Repeat("p", 40) + "\n"},
		probe{"reply", "127.0.0.1", "err unknown-command\n"},
	)
	keyedProbes := func() []probe {
		return []probe{
			{"unsigned", "127.0.0.1", "status\n"},
			{"unsigned", "127.0.0.1", "id=1 start :1\n"},
			{"unsigned", "127.0.0.1", "frobnicate\n"},
			{"wrong key", "127.0.0.1", signed(wrongKey, "status from=x ts=5")},
			{"no ts", "127.0.0.1", signed(key, "status from=x")},
			{"stranger", "127.0.0.2", signed(key, "status from=x ts=9")},
			{"replayed", "127.0.0.1", signed(key, "status from=x ts=1")}, // after ts=5 below
			{"oversized", "127.0.0.1", signed(key, "status from=x "+strings.Repeat("a", 250))},
			{"hello", "127.0.0.1", "hello\n"},
			{"hello", "127.0.0.1", "id=1 hello pad=" + strings.Repeat("p", 40) + "\n"},
		}
	}

	measure := func(t *testing.T, d *testDaemon, ctl *peer, sync func(), probes []probe) {
		type stat struct {
			n, replies, maxReq, maxReply int
			worst                        float64
		}
		stats := map[string]*stat{}
		var order []string
		for _, p := range probes {
			a := newPeer(t, d, p.from)
			a.send(p.line)
			sync()
			got := 0
			_ = a.conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			buf := make([]byte, 2048)
			if n, _, err := a.conn.ReadFromUDPAddrPort(buf); err == nil {
				got = n
			}
			if got > len(p.line) {
				t.Errorf("%s: %d-byte request %q got a %d-byte reply %q", p.path, len(p.line), p.line, got, buf[:got])
			}
			st := stats[p.path]
			if st == nil {
				st = &stat{}
				stats[p.path] = st
				order = append(order, p.path)
			}
			st.n++
			st.maxReq = max(st.maxReq, len(p.line))
			if got > 0 {
				st.replies++
				st.maxReply = max(st.maxReply, got)
				st.worst = max(st.worst, float64(got)/float64(len(p.line)))
			}
		}
		for _, path := range order {
			st := stats[path]
			t.Logf("%-18s %3d requests (≤ %3d bytes): %3d replies, largest %3d bytes, largest reply/request %.2f",
				path, st.n, st.maxReq, st.replies, st.maxReply, st.worst)
		}
	}

	t.Run("allow list only", func(t *testing.T) {
		d := startDaemon(t, daemonOpts{allow: localOnly})
		ctl := newPeer(t, d, "127.0.0.1")
		i := 0
		sync := func() {
			i++
			id := "p" + itoa(uint16(i))
			ctl.do("id="+id+" ping\n", id)
		}
		measure(t, d, ctl, sync, probes)
	})
	t.Run("key", func(t *testing.T) {
		d := keyedDaemon(t, daemonOpts{})
		ctl := newPeer(t, d, "127.0.0.1")
		var ts counter
		sync := func() {
			id := "p" + ts.next()
			ctl.signedDo(key, "id="+id+" ping from=ctl ts="+ts.ts2(), id)
		}
		ctl.signedDo(key, "id=first ping from=x ts=5", "first")
		measure(t, d, ctl, sync, keyedProbes())
		if c := d.Counters(); c.Unsigned != 3 || c.BadSig != 2 || c.NotAllowed != 1 || c.Replayed != 1 || c.Oversized != 1 {
			t.Errorf("counters %+v", c)
		}
		// An authenticated command that does not parse gets an err reply,
		// also no longer than the command.
		line := signed(key, "id=bad start lease=forever from=x ts=100")
		ctl.send(line)
		pk, ok := ctl.next(2 * time.Second)
		if !ok {
			t.Fatal("no reply to a signed malformed command")
		}
		r := verified(t, key, line, pk.data)
		if r.OK || r.Verb != control.CodeBadRequest || len(pk.data) > len(line) {
			t.Errorf("signed malformed command: %q (%d bytes for %d)", pk.data, len(pk.data), len(line))
		}
		t.Logf("%-18s %3d-byte request: %d-byte signed err reply", "signed malformed", len(line), len(pk.data))
	})
}

func (c *counter) ts2() string { return strconv.FormatUint(c.ts, 10) }

// TestFloodLogRateLimited: a flood of unauthenticated packets is counted
// exactly and logged at most about once a second per kind.
func TestFloodLogRateLimited(t *testing.T) {
	var logBuf syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	d := keyedDaemon(t, daemonOpts{log: log})
	ctl := newPeer(t, d, "127.0.0.1")
	stranger, local := newPeer(t, d, "127.0.0.2"), newPeer(t, d, "127.0.0.1")
	var ts counter
	began := time.Now()
	const rounds, burst = 40, 25 // bursts small enough for the socket buffer
	for r := range rounds {
		for i := range burst {
			switch i % 4 {
			case 0:
				stranger.send(signed(key, "start from=x ts="+strconv.Itoa(r*burst+i+1)))
			case 1:
				local.send("stop all\n")
			case 2:
				local.send(signed(wrongKey, "stop all from=x ts=1"))
			default:
				local.send("\x00junk")
			}
		}
		id := "p" + ts.next()
		ctl.signedDo(key, "id="+id+" ping from=ctl ts="+ts.ts2(), id)
	}
	elapsed := time.Since(began)
	c := d.Counters()
	// 25 per burst: 7 of the first kind, 6 of each other.
	if c.NotAllowed != 7*rounds || c.Unsigned != 6*rounds || c.BadSig != 6*rounds || c.Malformed != 6*rounds || c.Accepted != rounds {
		t.Errorf("counters %+v after %d packets", c, rounds*burst)
	}
	// The daemon's own start-up lines go to the same log: count the drops'.
	lines := 0
	for l := range strings.Lines(logBuf.String()) {
		if strings.Contains(l, " dropped") {
			lines++
		}
	}
	limit := int(elapsed/time.Second) + 2
	if lines > limit {
		t.Errorf("%d log lines in %v for %d dropped packets, want at most %d", lines, elapsed, rounds*burst, limit)
	}
	t.Logf("%d packets dropped in %v, %d log lines", rounds*burst, elapsed.Round(time.Millisecond), lines)
}

// TestSensorFailsAndRecovers: the sensor fails for a while; the stream
// goes on (same session, no gap) with the failed samples flagged and
// holding the last good values, every failure is counted, and the values
// move again once it recovers.
func TestSensorFailsAndRecovers(t *testing.T) {
	imu := sim.New(sim.Opts{Seed: 3})
	d := startDaemon(t, daemonOpts{sensor: imu})
	pc := newPeer(t, d, "127.0.0.1")
	var s received
	var dgs []telemetry.Datagram
	keep := func(dg *telemetry.Datagram) {
		s.add(dg)
		if dg.Type == telemetry.TypeSamples {
			dgs = append(dgs, *dg)
			dgs[len(dgs)-1].Samples = append([]sensor.Sample(nil), dg.Samples...)
		}
	}
	pc.send("id=1 start\n")
	pc.reply("1", keep)
	for len(s.seqs) < 20 {
		pk, ok := pc.next(5 * time.Second)
		if !ok {
			t.Fatal("no samples")
		}
		if pk.dg != nil {
			keep(pk.dg)
		}
	}
	const fails = 40
	imu.FailFor(fails)
	flagged, after := 0, 0
	for after < 50 {
		pk, ok := pc.next(5 * time.Second)
		if !ok {
			t.Fatalf("stream stopped: %d flagged, %d after", flagged, after)
		}
		if pk.dg == nil {
			continue
		}
		keep(pk.dg)
		if pk.dg.Samples[0].Status&sensor.StatusSensorError != 0 {
			flagged++
		} else if flagged > 0 {
			after++
		}
	}
	contiguous(t, s.seqs)
	if flagged != fails {
		t.Errorf("%d samples flagged as sensor errors, want %d", flagged, fails)
	}
	var prev *sensor.Sample
	moved := 0
	for i := range dgs {
		smp := &dgs[i].Samples[0]
		if dgs[i].Session != dgs[0].Session {
			t.Fatalf("session changed at seq %d", dgs[i].Seq)
		}
		if prev != nil {
			failed := smp.Status&sensor.StatusSensorError != 0
			same := smp.Accel == prev.Accel && smp.Gyro == prev.Gyro
			if failed && !same {
				t.Fatalf("seq %d: failed read changed the values", dgs[i].Seq)
			}
			if !failed && !same {
				moved++
			}
		}
		prev = smp
	}
	if moved < 40 {
		t.Errorf("only %d good samples moved", moved)
	}
	st := pc.do("id=st status\n", "st")
	if v, _ := st.Get("sensor_errors"); v != itoa(fails) {
		t.Errorf("status sensor_errors=%s, want %d", v, fails)
	}
}

// TestReloadShrinksAllowList: a new allow list takes effect at once: the
// stream to a target no longer in it ends with an end marker, its sender's
// commands are dropped, and the other stream goes on without a gap.
func TestReloadShrinksAllowList(t *testing.T) {
	both := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("127.0.0.3/32")}
	d := startDaemon(t, daemonOpts{allow: both})
	a, b := newPeer(t, d, "127.0.0.1"), newPeer(t, d, "127.0.0.3")
	var sa, sb received
	a.send("id=a start\n")
	a.reply("a", sa.add)
	b.send("id=b start\n")
	b.reply("b", sb.add)
	a.collect(&sa, 20)
	b.collect(&sb, 20)
	if err := d.Reload(daemon.Reloadable{Allow: both[:1]}); err != nil {
		t.Fatal(err)
	}
	b.untilEnd(&sb)
	contiguous(t, sb.seqs)
	b.send("id=b2 start\n")
	a.collect(&sa, len(sa.seqs)+50)
	b.silent(200 * time.Millisecond)
	contiguous(t, sa.seqs)
	if sa.end != nil {
		t.Error("the allowed stream ended")
	}
	if c := d.Counters(); c.NotAllowed != 1 {
		t.Errorf("NotAllowed = %d, want 1", c.NotAllowed)
	}
}

// TestStreamOwner: with a key, only the sender name that started a stream
// refreshes or stops it; another key holder needs admin=1. A spoofed
// copy of the owner's address is no owner: the name is under the tag.
func TestStreamOwner(t *testing.T) {
	d := keyedDaemon(t, daemonOpts{})
	owner, other := newPeer(t, d, "127.0.0.1"), newPeer(t, d, "127.0.0.3")
	rx := newPeer(t, d, "127.0.0.1")
	port := itoa(rx.addr().Port())
	var ts counter
	if r := owner.signedDo(key, "id=s start 127.0.0.1:"+port+" nonce="+nonce+" from=owner ts="+ts.next(), "s"); !r.OK {
		t.Fatalf("start: %+v", r)
	}
	for _, line := range []string{
		"id=a stop 127.0.0.1:" + port + " from=intruder ts=" + ts.next(),
		"id=b start 127.0.0.1:" + port + " lease=1s nonce=" + nonce + " from=intruder ts=" + ts.next(),
	} {
		id := strings.TrimPrefix(strings.Fields(line)[0], "id=")
		if r := other.signedDo(key, line, id); r.OK || r.Verb != control.CodeNotOwner || !strings.Contains(r.Message, "started by owner") {
			t.Errorf("%q from another name: %+v, want not-owner", line, r)
		}
	}
	if r := other.signedDo(key, "id=c stop all from=intruder ts="+ts.next(), "c"); !r.OK {
		t.Errorf("stop all: %+v", r)
	} else if n, _ := r.Get("stopped"); n != "0" {
		t.Errorf("another name's stop all stopped %s streams, want 0 (only its own)", n)
	}
	if len(d.Targets()) != 1 {
		t.Fatal("the owner's stream ended")
	}
	var s received
	rx.collect(&s, 20)
	if r := other.signedDo(key, "id=d stop 127.0.0.1:"+port+" admin=1 from=intruder ts="+ts.next(), "d"); !r.OK {
		t.Errorf("stop with admin=1: %+v", r)
	}
	rx.untilEnd(&s)
}
