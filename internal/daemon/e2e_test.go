package daemon_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/daemon/daemontest"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/stream"
	"github.com/imustream/imustream/telemetry"
)

// testDaemon is the daemon as the binary runs it, on a real loopback
// socket, in this process.
type testDaemon struct {
	*daemon.Daemon
	addr netip.AddrPort
	stop func(t *testing.T) // ends Run and waits for it; idempotent
}

type daemonOpts struct {
	listen string
	allow  []netip.Prefix
	rate   int
	// For the hostile-network tests: the command key and replay windows,
	// the sensor (a sim whose faults the test injects) and the log.
	key    *control.Key
	sensor sensor.Sensor
	log    *slog.Logger
}

func startDaemon(t *testing.T, o daemonOpts) *testDaemon {
	t.Helper()
	d, stop := daemontest.Start(t, daemon.Config{
		Reloadable: daemon.Reloadable{Allow: o.allow},
		Sensor:     o.sensor, Listen: o.listen, RateHz: o.rate, Logger: o.log,
	}, o.key)
	return &testDaemon{Daemon: d, addr: d.Addr(), stop: func(*testing.T) { stop() }}
}

// peer is a raw UDP socket standing in for a control PC or nc.
type peer struct {
	t    *testing.T
	conn *net.UDPConn
	dev  netip.AddrPort
}

func newPeer(t *testing.T, d *testDaemon, ip string) *peer {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &peer{t: t, conn: conn, dev: d.addr}
}

func (p *peer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *peer) send(line string) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort([]byte(line), p.dev); err != nil {
		p.t.Fatal(err)
	}
}

// packet is one received datagram: a reply or telemetry.
type packet struct {
	data  []byte
	reply *control.Reply
	dg    *telemetry.Datagram
}

// next returns the next packet, or ok=false after wait with nothing.
func (p *peer) next(wait time.Duration) (packet, bool) {
	p.t.Helper()
	buf := make([]byte, 2048)
	_ = p.conn.SetReadDeadline(time.Now().Add(wait))
	n, _, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return packet{}, false
		}
		p.t.Fatal(err)
	}
	pk := packet{data: buf[:n]}
	if telemetry.Is(pk.data) {
		var d telemetry.Datagram
		if err := telemetry.Parse(pk.data, &d); err != nil {
			p.t.Fatalf("bad datagram from daemon: %v", err)
		}
		pk.dg = &d
		return pk, true
	}
	r, err := control.ParseReply(pk.data)
	if err != nil {
		p.t.Fatalf("bad reply %q: %v", pk.data, err)
	}
	pk.reply = &r
	return pk, true
}

// reply waits for the reply with id, passing telemetry to onData.
func (p *peer) reply(id string, onData func(*telemetry.Datagram)) control.Reply {
	p.t.Helper()
	r, ok := p.answered(id, 3*time.Second, onData)
	if !ok {
		p.t.Fatalf("no reply with id %s", id)
	}
	return r
}

// answered returns the reply with id if it arrives within wait, passing
// telemetry to onData.
func (p *peer) answered(id string, wait time.Duration, onData func(*telemetry.Datagram)) (control.Reply, bool) {
	p.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		pk, ok := p.next(time.Until(deadline))
		if !ok {
			return control.Reply{}, false
		}
		if pk.reply != nil && pk.reply.ID == id {
			return *pk.reply, true
		}
		if pk.dg != nil && onData != nil {
			onData(pk.dg)
		}
	}
}

func (p *peer) do(line, id string) control.Reply {
	p.t.Helper()
	p.send(line)
	return p.reply(id, nil)
}

// stream is what a receiver saw.
type received struct {
	session uint32
	seqs    []uint32
	records map[uint32][]byte // seq → encoded sample
	byMono  map[int64][]byte  // t_mono_ns → encoded sample
	end     *telemetry.Header
}

func (s *received) add(d *telemetry.Datagram) {
	if d.Type == telemetry.TypeEnd {
		h := d.Header
		s.end = &h
		return
	}
	if s.records == nil {
		s.records, s.byMono = map[uint32][]byte{}, map[int64][]byte{}
	}
	s.session = d.Session
	for i := range d.Samples {
		seq := d.Seq + uint32(i)
		s.seqs = append(s.seqs, seq)
		s.records[seq] = telemetry.AppendSample(nil, &d.Samples[i])
		s.byMono[d.Samples[i].MonoNs] = s.records[seq]
	}
}

// collect reads until n samples or the end marker arrived.
func (p *peer) collect(s *received, n int) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.seqs) < n && s.end == nil {
		pk, ok := p.next(time.Until(deadline))
		if !ok {
			p.t.Fatalf("got %d of %d samples before the deadline", len(s.seqs), n)
		}
		if pk.dg != nil {
			s.add(pk.dg)
		}
	}
}

// untilEnd reads until the end-of-stream datagram.
func (p *peer) untilEnd(s *received) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.end == nil {
		pk, ok := p.next(time.Until(deadline))
		if !ok {
			p.t.Fatalf("no end of stream after %d samples", len(s.seqs))
		}
		if pk.dg != nil {
			s.add(pk.dg)
		}
	}
}

func contiguous(t *testing.T, seqs []uint32) {
	t.Helper()
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("seq %d follows %d (index %d): not contiguous", seqs[i], seqs[i-1], i)
		}
	}
}

func (p *peer) silent(wait time.Duration) {
	p.t.Helper()
	if pk, ok := p.next(wait); ok {
		p.t.Fatalf("expected silence, got %q", pk.data)
	}
}

var localOnly = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

func TestStartContiguousStopSilence(t *testing.T) {
	d := startDaemon(t, daemonOpts{})
	pc := newPeer(t, d, "127.0.0.1")
	var s received
	// Samples may arrive before the reply on a slow machine; keep them.
	pc.send("id=1 start\n")
	r := pc.reply("1", s.add)
	if !r.OK || r.Verb != "start" {
		t.Fatalf("start reply %+v", r)
	}
	if to, _ := r.Get("to"); to != pc.addr().String() {
		t.Errorf("start streams to %s, want the sender's address %s", to, pc.addr())
	}
	pc.collect(&s, 100)
	if s.seqs[0] != 0 {
		t.Errorf("first seq %d, want 0 for a new stream", s.seqs[0])
	}
	pc.send("id=2 stop\n")
	if r := pc.reply("2", s.add); !r.OK {
		t.Fatalf("stop reply %+v", r)
	}
	pc.untilEnd(&s)
	contiguous(t, s.seqs)
	if last := s.seqs[len(s.seqs)-1]; s.end.Seq != last+1 || s.end.Session != s.session {
		t.Errorf("end marker seq %d session %08x, want %d %08x", s.end.Seq, s.end.Session, last+1, s.session)
	}
	pc.silent(300 * time.Millisecond)
	if st := d.Stats(); st.Streaming {
		t.Error("sender still streaming with no subscribers")
	}
}

func TestTwoSubscribersIdenticalSequences(t *testing.T) {
	d := startDaemon(t, daemonOpts{})
	a, b := newPeer(t, d, "127.0.0.1"), newPeer(t, d, "127.0.0.1")
	var sa, sb received
	a.send("id=a start\n")
	a.reply("a", sa.add) // a datagram may come before the reply
	b.send("id=b start\n")
	b.reply("b", sb.add)
	a.collect(&sa, 300)
	b.collect(&sb, 200)
	// Each has its own session from seq 0 (b's is a's if it started
	// before the first tick); the samples are the same.
	contiguous(t, sa.seqs)
	contiguous(t, sb.seqs)
	if sa.seqs[0] != 0 || sb.seqs[0] != 0 {
		t.Errorf("first seqs %d and %d, want 0 each", sa.seqs[0], sb.seqs[0])
	}
	common := 0
	for mono, rec := range sb.byMono {
		if ra, ok := sa.byMono[mono]; ok {
			common++
			if !bytes.Equal(ra, rec) {
				t.Fatalf("the sample of t_mono_ns %d differs between subscribers", mono)
			}
		}
	}
	if common < 150 {
		t.Fatalf("only %d samples in common; both should see the same stream", common)
	}
}

func TestDisallowedSenderIgnored(t *testing.T) {
	d := startDaemon(t, daemonOpts{allow: localOnly})
	pc := newPeer(t, d, "127.0.0.1")
	stranger := newPeer(t, d, "127.0.0.2")
	var s received
	pc.do("id=1 start\n", "1")
	pc.collect(&s, 20)
	for _, line := range []string{"start\n", "id=9 status\n", "stop all\n", "ping"} {
		stranger.send(line)
	}
	stranger.silent(400 * time.Millisecond)
	pc.collect(&s, len(s.seqs)+100)
	contiguous(t, s.seqs)
	if s.end != nil {
		t.Fatal("a stranger's stop all ended the stream")
	}
	if c := d.Counters(); c.NotAllowed != 4 || c.Accepted != 1 {
		t.Errorf("counters %+v, want 4 not allowed and 1 accepted", c)
	}
	if n := len(d.Targets()); n != 1 {
		t.Errorf("%d subscribers, want 1", n)
	}
}

func TestTargetOutsideAllowListRefused(t *testing.T) {
	d := startDaemon(t, daemonOpts{allow: localOnly})
	pc := newPeer(t, d, "127.0.0.1")
	// Refused before any socket is opened: nothing is ever sent there.
	for _, target := range []string{"127.0.0.2:9000", "192.0.2.1:9000"} {
		r := pc.do("id=1 start "+target+"\n", "1")
		if r.OK || r.Verb != control.CodeNotAllowed {
			t.Errorf("start %s: %+v, want %s", target, r, control.CodeNotAllowed)
		}
		pc.send("id=2 status\n") // a fresh id, so the cache cannot answer
		if st := pc.reply("2", nil); func() string { v, _ := st.Get("subscribers"); return v }() != "0" {
			t.Errorf("start %s created a subscriber: %+v", target, st)
		}
	}
}

func TestStartToExplicitPort(t *testing.T) {
	d := startDaemon(t, daemonOpts{})
	pc := newPeer(t, d, "127.0.0.1")
	rx := newPeer(t, d, "127.0.0.1")
	port := rx.addr().Port()
	r := pc.do("id=1 start :"+itoa(port)+"\n", "1")
	if to, _ := r.Get("to"); to != rx.addr().String() {
		t.Fatalf("start :%d streams to %s, want %s", port, to, rx.addr())
	}
	var s received
	rx.collect(&s, 20)
	pc.do("id=2 stop :"+itoa(port)+"\n", "2")
	rx.untilEnd(&s)
	contiguous(t, s.seqs)
	pc.silent(200 * time.Millisecond) // the controller itself gets replies only
}

func TestLeaseExpires(t *testing.T) {
	d := startDaemon(t, daemonOpts{})
	pc := newPeer(t, d, "127.0.0.1")
	var s received
	pc.send("id=1 start lease=300ms\n")
	pc.reply("1", s.add)
	pc.untilEnd(&s)
	contiguous(t, s.seqs)
	if len(s.seqs) == 0 {
		t.Fatal("no samples before the lease ended")
	}
	pc.silent(300 * time.Millisecond)
	if st := d.Stats(); st.Expired != 1 {
		t.Errorf("expired = %d, want 1", st.Expired)
	}
}

func TestLeaseRefreshKeepsOneStream(t *testing.T) {
	d := startDaemon(t, daemonOpts{})
	pc := newPeer(t, d, "127.0.0.1")
	var s received
	// The classic rig: the controller repeats start every so often.
	for i := range 8 {
		id := "r" + itoa(uint16(i))
		pc.send("id=" + id + " start lease=2s\n")
		r := pc.reply(id, s.add)
		if created, _ := r.Get("new"); created != strconv.FormatBool(i == 0) {
			t.Fatalf("start #%d new=%s", i, created)
		}
		pc.collect(&s, len(s.seqs)+20)
	}
	if s.end != nil {
		t.Fatal("the stream ended while refreshed")
	}
	contiguous(t, s.seqs)
	if n := len(d.Targets()); n != 1 {
		t.Fatalf("%d subscribers after repeated start, want 1", n)
	}
}

func TestRepeatedIDNotExecutedTwice(t *testing.T) {
	d := startDaemon(t, daemonOpts{})
	pc := newPeer(t, d, "127.0.0.1")
	var s received
	pc.send("id=once start\n")
	first := pc.reply("once", s.add)
	pc.send("id=halt stop\n")
	pc.reply("halt", s.add)
	pc.untilEnd(&s)
	// A retry of the old start (a duplicate from the network) must not
	// restart the stream; it gets the same answer again.
	pc.send("id=once start\n")
	again := pc.reply("once", nil)
	if again.String() != first.String() {
		t.Errorf("repeated id answered %q, first answer was %q", again.String(), first.String())
	}
	pc.silent(300 * time.Millisecond)
	if c := d.Counters(); c.Repeated != 1 || c.Accepted != 2 {
		t.Errorf("counters %+v, want 1 repeated, 2 accepted", c)
	}
}

func TestMalformedAndOversizedCounted(t *testing.T) {
	d := startDaemon(t, daemonOpts{})
	pc := newPeer(t, d, "127.0.0.1")
	pc.send("\x00\x01binary\xff")
	pc.send(strings.Repeat("start ", 200))
	pc.send("IMUS\x01\x01\x01\x34") // telemetry sent to the wrong port
	pc.silent(300 * time.Millisecond)
	// An err reply to a command that does not parse is never longer than
	// the command (TestReplyNoLargerThanRequest measures every case).
	pc.send("id=u frobnicate\n")
	pc.silent(300 * time.Millisecond)
	for _, tc := range []struct{ line, code string }{
		{"id=u2 frobnicate the gyroscope\n", control.CodeUnknownCommand},
		{"id=l start :9000 lease=forever\n", control.CodeBadRequest},
		{"id=t start nohost\n", control.CodeBadTarget},
	} {
		pc.send(tc.line)
		pk, ok := pc.next(2 * time.Second)
		if !ok || pk.reply == nil || pk.reply.OK || pk.reply.Verb != tc.code {
			t.Errorf("%q: got %q, want err %s", tc.line, pk.data, tc.code)
		}
	}
	if r := pc.do("id=p ping\n", "p"); !r.OK {
		t.Fatal("daemon does not answer after bad input")
	}
	c := d.Counters()
	if c.Oversized != 1 || c.Malformed != 5 {
		t.Errorf("counters %+v, want 1 oversized and 5 malformed (binary, telemetry, 2 unknown, bad lease)", c)
	}
}

func TestFloodLosesNoTick(t *testing.T) {
	d := startDaemon(t, daemonOpts{allow: localOnly})
	pc := newPeer(t, d, "127.0.0.1")
	var s received
	pc.do("id=1 start\n", "1")
	pc.collect(&s, 10)

	// 5,000 control packets while streaming: strangers, junk, and
	// allowed status requests.
	var wg sync.WaitGroup
	stranger, junk := newPeer(t, d, "127.0.0.2"), newPeer(t, d, "127.0.0.1")
	wg.Go(func() {
		for range 2500 {
			stranger.send("start\n")
		}
	})
	wg.Go(func() {
		for i := range 2500 {
			if i%2 == 0 {
				junk.send("\xde\xad")
			} else {
				junk.send("status\n")
			}
		}
	})
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
		default:
			pc.collect(&s, len(s.seqs)+1)
			continue
		}
		break
	}
	// A ping answered means the flood left the socket queue; pings lost to
	// a still-full queue are retried and accounted for.
	sent := 1 + 5000
	for i := 0; ; i++ {
		id := "q" + strconv.Itoa(i)
		pc.send("id=" + id + " ping\n")
		sent++
		if _, ok := pc.answered(id, time.Second, s.add); ok {
			break
		}
		if i == 10 {
			t.Fatal("no ping answered after the flood")
		}
	}
	pc.collect(&s, len(s.seqs)+50)
	pc.send("id=stop stop\n")
	sent++
	pc.untilEnd(&s)
	contiguous(t, s.seqs)
	if got, want := uint32(len(s.seqs)), s.end.Seq-s.seqs[0]; got != want {
		t.Errorf("received %d samples, the daemon sent %d", got, want)
	}
	// The socket buffer may overflow under the flood (it does under
	// emulation); every packet is either counted or a kernel drop.
	c := d.Counters()
	read := c.Accepted + c.Repeated + c.NotAllowed + c.Oversized + c.Malformed +
		c.Unsigned + c.BadSig + c.Replayed + c.WrongBoot + c.SenderLimit + c.Replies
	drops := udpDrops(t, d.addr)
	if read+drops != uint64(sent) {
		t.Errorf("sent %d packets, the daemon counted %d and the kernel dropped %d: %+v", sent, read, drops, c)
	}
	if c.NotAllowed+c.Malformed == 0 {
		t.Errorf("no flood packet read: %+v", c)
	}
	t.Logf("flood: %d samples, %d kernel drops, counters %+v", len(s.seqs), drops, c)
}

// udpDrops returns the kernel's drop count for the IPv4 UDP socket bound
// to a (the last column of /proc/net/udp).
func udpDrops(t *testing.T, a netip.AddrPort) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		t.Fatal(err)
	}
	ip := a.Addr().As4()
	local := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], a.Port())
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[1] == local {
			n, err := strconv.ParseUint(f[len(f)-1], 10, 64)
			if err != nil {
				t.Fatalf("/proc/net/udp: %q: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("/proc/net/udp has no socket %s", local)
	return 0
}

func TestSubscriberLimit(t *testing.T) {
	d := startDaemon(t, daemonOpts{})
	pc := newPeer(t, d, "127.0.0.1")
	for i := range stream.MaxSubscribers {
		rx := newPeer(t, d, "127.0.0.1")
		id := "s" + itoa(uint16(i))
		if r := pc.do("id="+id+" start :"+itoa(rx.addr().Port())+"\n", id); !r.OK {
			t.Fatalf("subscriber %d refused: %+v", i, r)
		}
	}
	rx := newPeer(t, d, "127.0.0.1")
	if r := pc.do("id=x start :"+itoa(rx.addr().Port())+"\n", "x"); r.OK || r.Verb != control.CodeFull {
		t.Fatalf("9th subscriber: %+v, want err %s", r, control.CodeFull)
	}
	if r := pc.do("id=all stop all\n", "all"); !r.OK {
		t.Fatalf("stop all: %+v", r)
	} else if n, _ := r.Get("stopped"); n != itoa(stream.MaxSubscribers) {
		t.Errorf("stop all stopped %s, want %d", n, stream.MaxSubscribers)
	}
}

func TestClientIPv6AndHostname(t *testing.T) {
	probe, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback on this machine: %v", err)
	}
	probe.Close()
	d := startDaemon(t, daemonOpts{listen: "[::1]:0"})
	var mu sync.Mutex
	var s received
	c, err := control.Dial(d.addr.String(), &control.ClientOptions{OnData: func(b []byte, _ netip.AddrPort) {
		var dg telemetry.Datagram
		if telemetry.Parse(b, &dg) == nil {
			mu.Lock()
			s.add(&dg)
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Start(ctx, "", time.Minute); err != nil {
		t.Fatal(err)
	}
	// A named target resolves; "localhost" may be ::1 or 127.0.0.1 and
	// the allow list admits both.
	rx := newPeer(t, d, "::1")
	r, err := c.Start(ctx, "localhost:"+itoa(rx.addr().Port()), 0)
	if err != nil {
		t.Fatalf("start to localhost: %v", err)
	}
	if to, _ := r.Get("to"); !strings.HasSuffix(to, ":"+itoa(rx.addr().Port())) {
		t.Errorf("start to localhost streams to %s", to)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(s.seqs)
		mu.Unlock()
		if n >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d samples over IPv6", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := c.Stop(ctx, "all"); err != nil {
		t.Fatal(err)
	}
}

func TestClientRetriesWithSameID(t *testing.T) {
	// A fake daemon that ignores the first copy of every request.
	srv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	seen := make(chan string, 10)
	go func() {
		buf := make([]byte, 512)
		count := map[string]int{}
		for {
			n, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			cmd, err := control.ParseCommand(buf[:n])
			if err != nil {
				continue
			}
			seen <- cmd.ID
			if count[cmd.ID]++; count[cmd.ID] < 2 {
				continue
			}
			r := control.Reply{OK: cmd.Verb != "stop", ID: cmd.ID, Verb: cmd.Verb, Message: ""}
			if !r.OK {
				r.Verb, r.Message = control.CodeNotSubscribed, "stop: nothing to stop"
			}
			_, _ = srv.WriteToUDPAddrPort([]byte(r.String()), from)
		}
	}()
	c, err := control.Dial(srv.LocalAddr().String(), &control.ClientOptions{Timeout: 100 * time.Millisecond, Retries: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Ping(context.Background()); err != nil {
		t.Fatalf("ping with one lost request: %v", err)
	}
	if a, b := <-seen, <-seen; a != b || a == "" {
		t.Errorf("retry used id %q after %q; a retry must repeat the id", b, a)
	}
	_, err = c.Stop(context.Background(), "")
	var re *control.ReplyError
	if !errors.As(err, &re) || re.Reply.Verb != control.CodeNotSubscribed {
		t.Errorf("err reply surfaced as %v, want *ReplyError %s", err, control.CodeNotSubscribed)
	}
	srv.Close()
	_, err = c.Status(context.Background())
	if !errors.Is(err, control.ErrNoReply) {
		t.Errorf("silent device: %v, want ErrNoReply", err)
	}
}

func itoa[T ~int | ~uint16](v T) string { return strconv.Itoa(int(v)) }
