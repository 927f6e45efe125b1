package daemon_test

import (
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/syncbuf"
	"github.com/imustream/imustream/receiver"
)

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Port()
}

// TestLateListenerGetsLeasedStream is the README's netcat flow: a start
// with a lease for a port nobody listens on yet, and a listener that
// appears a second later. The refused sends in between (ICMP port
// unreachable) do not end a leased stream.
func TestLateListenerGetsLeasedStream(t *testing.T) {
	d := startDaemon(t, daemonOpts{})
	ctl := newPeer(t, d, "127.0.0.1")
	port := freePort(t)
	if r := ctl.do("id=s start :"+strconv.Itoa(int(port))+" lease=30s\n", "s"); !r.OK {
		t.Fatalf("start: %+v", r)
	}
	time.Sleep(time.Second) // about 100 refused sends at 200 Hz
	if n := len(d.Targets()); n != 1 {
		t.Fatalf("%d targets a second after start, want the leased one", n)
	}
	rx, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)))
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	late := &peer{t: t, conn: rx, dev: d.addr}
	var s received
	late.collect(&s, 100)
	contiguous(t, s.seqs)
	if r := ctl.do("id=x stop :"+strconv.Itoa(int(port))+"\n", "x"); !r.OK {
		t.Fatalf("stop: %+v", r)
	}
	late.untilEnd(&s)
}

// TestStreamEndsLogged: every end of a stream is logged once with its
// reason: a stop, a lease that ran out, the allow list, the shutdown.
func TestStreamEndsLogged(t *testing.T) {
	var logBuf syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	both := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("127.0.0.3/32")}
	d := startDaemon(t, daemonOpts{log: log, allow: both})
	a, b := newPeer(t, d, "127.0.0.1"), newPeer(t, d, "127.0.0.3")
	var sa, sb, sc received
	a.send("id=1 start\n")
	a.reply("1", sa.add)
	a.collect(&sa, 5)
	a.send("id=2 stop\n")
	a.reply("2", sa.add)
	a.untilEnd(&sa)

	a.send("id=3 start lease=300ms\n")
	sb = received{}
	a.reply("3", sb.add)
	a.untilEnd(&sb) // the lease runs out

	b.send("id=4 start\n")
	b.reply("4", sc.add)
	b.collect(&sc, 5)
	if err := d.Reload(daemon.Reloadable{Allow: both[:1]}); err != nil {
		t.Fatal(err)
	}
	b.untilEnd(&sc)

	c := newPeer(t, d, "127.0.0.1")
	var sd received
	c.send("id=5 start\n")
	c.reply("5", sd.add)
	c.collect(&sd, 5)
	d.stop(t)
	c.untilEnd(&sd)

	out := logBuf.String()
	for _, want := range []string{
		`msg="stream ended" to=` + a.addr().String() + ` reason=stopped`,
		`msg="stream ended" to=` + a.addr().String() + ` reason="lease expired"`,
		`msg="stream ended" to=` + b.addr().String() + ` reason="target no longer allowed"`,
		`msg="stream ended" to=` + c.addr().String() + ` reason="daemon shutdown"`,
	} {
		if strings.Count(out, want) != 1 {
			t.Errorf("log has %d lines with %s, want 1:\n%s", strings.Count(out, want), want, out)
		}
	}
}

// TestResubscribeNewSession is the spec defect the independent receiver
// found: a subscriber that stops and starts again while another keeps the
// stream must not look, to a receiver following docs/protocol.md, like one
// that lost the samples in between. Each of its streams is a session of
// its own from seq 0.
func TestResubscribeNewSession(t *testing.T) {
	d := startDaemon(t, daemonOpts{})
	a, b := newPeer(t, d, "127.0.0.1"), newPeer(t, d, "127.0.0.1")
	var sa received
	a.do("id=a start\n", "a")
	a.collect(&sa, 20)
	var first, second received
	b.send("id=b1 start\n")
	b.reply("b1", first.add)
	b.collect(&first, 20)
	b.send("id=b2 stop\n")
	b.reply("b2", first.add)
	b.untilEnd(&first)
	time.Sleep(200 * time.Millisecond) // a's stream goes on meanwhile
	b.send("id=b3 start\n")
	b.reply("b3", second.add)
	b.collect(&second, 20)
	var tr receiver.Tracker
	for _, seq := range first.seqs {
		tr.Add(first.session, seq)
	}
	for i, seq := range second.seqs {
		tr.Add(second.session, seq)
		if i == 0 && seq != 0 {
			t.Errorf("the second subscription starts at seq %d, want 0", seq)
		}
	}
	if second.session == first.session {
		t.Errorf("the second subscription has the first one's session %08x", first.session)
	}
	if tr.Lost() != 0 {
		t.Errorf("a receiver following the rules counts %d lost", tr.Lost())
	}
	contiguous(t, second.seqs)
}
