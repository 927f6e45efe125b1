package stream

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/telemetry"
)

// live returns the subscribers of target that are not gone.
func live(subs *Subscribers, target netip.AddrPort) []*Subscriber {
	var l []*Subscriber
	for _, sub := range subs.List() {
		if sub.Target == target && sub.state.Load() != subGone {
			l = append(l, sub)
		}
	}
	return l
}

// closedPort returns a loopback address nobody listens on: sends to it come
// back as ICMP port unreachable.
func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Close()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// readEnd reads rx up to and including an end marker. Up to maxSamples
// sample datagrams may come first (the sender may send a stopped subscriber
// the datagram of the tick that ends it); they must continue the stream at
// seq expected. The end marker must carry the seq the receiver expects next,
// or a receiver following docs/protocol.md counts the difference as lost.
// readEnd returns the marker and the sample datagrams read before it.
func readEnd(t *testing.T, rx *receiver, expected uint32, maxSamples int) (telemetry.Datagram, int) {
	t.Helper()
	for n := 0; ; n++ {
		d := rx.next()
		if d.Type == telemetry.TypeEnd {
			if d.Seq != expected {
				t.Errorf("end marker seq %d, want %d, the seq after the last sample received: a receiver counts %d lost",
					d.Seq, expected, int32(d.Seq-expected))
			}
			return d, n
		}
		if n == maxSamples {
			t.Fatalf("%d sample datagrams (last seq %d), want an end marker after at most %d", n+1, d.Seq, maxSamples)
		}
		if d.Seq != expected {
			t.Fatalf("samples seq %d before the end marker, want %d", d.Seq, expected)
		}
		expected += uint32(d.Count)
	}
}

func TestSubscribersStartRefresh(t *testing.T) {
	subs := NewSubscribers()
	rx := newReceiver(t)
	_, created, err := subs.Start(rx.addr(), 100, 0, 0, nil, "")
	if err != nil || !created {
		t.Fatalf("first Start: created %v, %v; want true, nil", created, err)
	}
	// The same target again, also written as an IPv4-mapped IPv6 address.
	mapped := netip.AddrPortFrom(netip.AddrFrom16(rx.addr().Addr().As16()), rx.addr().Port())
	// A refresh without a lease keeps the one it had (docs/protocol.md).
	for i, tc := range []struct {
		target      netip.AddrPort
		lease, want int64
	}{{rx.addr(), 200, 200}, {mapped, 300, 300}, {rx.addr(), 0, 300}} {
		_, created, err := subs.Start(tc.target, time.Duration(tc.lease), 0, 0, nil, "")
		if err != nil || created {
			t.Errorf("refresh %d (%v): created %v, %v; want false, nil", i, tc.target, created, err)
		}
		l := subs.List()
		if len(l) != 1 {
			t.Fatalf("refresh %d: %d subscribers, want 1", i, len(l))
		}
		if l[0].Target != rx.addr() || l[0].Expires() != tc.want {
			t.Errorf("refresh %d: target %v lease %d, want %v %d", i, l[0].Target, l[0].Expires(), rx.addr(), tc.want)
		}
	}
	if err := subs.Stop(closedPort(t), EndStopped); !errors.Is(err, ErrNotSubscribed) {
		t.Errorf("Stop of an unknown target: %v, want ErrNotSubscribed", err)
	}
}

func TestSubscribersChanged(t *testing.T) {
	subs := NewSubscribers()
	rx := newReceiver(t)
	woke := make(chan struct{})
	go func() {
		subs.Changed().Wait()
		close(woke)
	}()
	mustStart(t, subs, rx.addr(), 0)
	select {
	case <-woke:
	case <-time.After(10 * time.Second):
		t.Fatal("adding a subscriber did not set Changed")
	}
}

func TestSubscribersFull(t *testing.T) {
	subs := NewSubscribers()
	s := newTestSender(t, Config{Sensor: &countSensor{}, Subs: subs})
	var rxs []*receiver
	for range MaxSubscribers {
		rx := newReceiver(t)
		rxs = append(rxs, rx)
		mustStart(t, subs, rx.addr(), 0)
	}
	extra := newReceiver(t)
	if _, created, err := subs.Start(extra.addr(), 0, 0, 0, nil, ""); !errors.Is(err, ErrFull) || created {
		t.Fatalf("Start beyond MaxSubscribers: created %v, %v; want false, ErrFull", created, err)
	}
	if _, created, err := subs.Start(rxs[3].addr(), 42, 0, 0, nil, ""); err != nil || created {
		t.Errorf("refresh while full: created %v, %v; want false, nil", created, err)
	}
	if len(subs.List()) != MaxSubscribers {
		t.Fatalf("%d subscribers, want %d", len(subs.List()), MaxSubscribers)
	}
	// A stop frees its place once the sender has ended the stream.
	if err := subs.Stop(rxs[0].addr(), EndStopped); err != nil {
		t.Fatal(err)
	}
	s.tick(start, start)
	if _, created, err := subs.Start(extra.addr(), 0, 0, 0, nil, ""); err != nil || !created {
		t.Errorf("Start after a stop: created %v, %v; want true, nil", created, err)
	}
}

// TestStopEndsStream: Stop makes the next datagram's send an end marker
// instead, carrying the seq the receiver expects next; the subscriber is
// removed and gets nothing more, while the other one keeps every datagram.
func TestStopEndsStream(t *testing.T) {
	for _, batch := range []int{1, 4} {
		t.Run("batch"+strconv.Itoa(batch), func(t *testing.T) {
			a, b := newReceiver(t), newReceiver(t)
			subs := NewSubscribers()
			mustStart(t, subs, a.addr(), 0)
			mustStart(t, subs, b.addr(), 0)
			s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, Batch: batch})
			deadline := start
			flush := func() { // ticks until a datagram is sent
				for range batch {
					deadline = s.tick(deadline, deadline)
				}
			}
			var expected uint32 // the seq a expects next
			for range 3 {
				flush()
				for _, rx := range []*receiver{a, b} {
					d := rx.nextSamples()
					if d.Seq != expected {
						t.Fatalf("seq %d, want %d", d.Seq, expected)
					}
				}
				expected += uint32(batch)
			}
			subA := live(subs, a.addr())[0]
			if err := subs.Stop(a.addr(), EndStopped); err != nil {
				t.Fatal(err)
			}
			flush()
			end, n := readEnd(t, a, expected, 1)
			expected += uint32(n * batch)
			if end.Session != s.session || end.Count != 0 || end.RateHz != 200 {
				t.Errorf("end marker %+v, want session %#x, count 0, rate 200", end.Header, s.session)
			}
			if len(live(subs, a.addr())) != 0 || len(subs.List()) != 1 {
				t.Errorf("stopped subscriber still listed: %d subscribers", len(subs.List()))
			}
			if _, err := subA.conn.Write([]byte{0}); !errors.Is(err, net.ErrClosed) {
				t.Errorf("stopped subscriber's socket: write error %v, want net.ErrClosed", err)
			}
			if err := subs.Stop(a.addr(), EndStopped); !errors.Is(err, ErrNotSubscribed) {
				t.Errorf("second Stop: %v, want ErrNotSubscribed", err)
			}
			// b keeps getting every datagram.
			bExpected := uint32(3 * batch)
			for range 3 {
				if d := b.nextSamples(); d.Seq != bExpected {
					t.Fatalf("b: seq %d, want %d", d.Seq, bExpected)
				}
				bExpected += uint32(batch)
				flush()
			}
			a.expectQuiet()
			if got := subA.Datagrams.Load(); got != uint64(3+n) {
				t.Errorf("a's Datagrams = %d, want %d", got, 3+n)
			}
		})
	}
}

// TestStopAll ends every stream on the next tick.
func TestStopAll(t *testing.T) {
	subs := NewSubscribers()
	rxs := []*receiver{newReceiver(t), newReceiver(t), newReceiver(t)}
	for _, rx := range rxs {
		mustStart(t, subs, rx.addr(), 0)
	}
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs})
	next := s.tick(start, start)
	if n := subs.StopAll(""); n != len(rxs) {
		t.Errorf("StopAll = %d, want %d", n, len(rxs))
	}
	if n := subs.StopAll(""); n != 0 {
		t.Errorf("second StopAll = %d, want 0", n)
	}
	s.tick(next, next)
	for i, rx := range rxs {
		if d := rx.nextSamples(); d.Seq != 0 {
			t.Errorf("receiver %d: seq %d, want 0", i, d.Seq)
		}
		readEnd(t, rx, 1, 1)
		rx.expectQuiet()
	}
	if len(subs.List()) != 0 {
		t.Errorf("%d subscribers left, want 0", len(subs.List()))
	}
}

// TestLeaseExpiry: a lease ends the stream with an end marker on the first
// tick at or after it and counts Expired; a subscriber without a lease and
// one whose lease was refreshed go on.
func TestLeaseExpiry(t *testing.T) {
	short, refreshed, forever := newReceiver(t), newReceiver(t), newReceiver(t)
	subs := NewSubscribers()
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs})
	p := s.Period()
	lease := start + 4*p // it ends at the fifth tick
	mustStart(t, subs, short.addr(), lease)
	mustStart(t, subs, refreshed.addr(), lease)
	mustStart(t, subs, forever.addr(), 0)

	deadline := start
	for i := range 4 { // ticks before the lease ends
		if i == 2 {
			mustStart(t, subs, refreshed.addr(), lease+10*p)
		}
		deadline = s.tick(deadline, deadline)
		for _, rx := range []*receiver{short, refreshed, forever} {
			if d := rx.nextSamples(); d.Seq != uint32(i) || d.Samples[0].MonoNs >= lease {
				t.Fatalf("tick %d: seq %d at %d, want seq %d before the lease ends at %d", i, d.Seq, d.Samples[0].MonoNs, i, lease)
			}
		}
	}
	if st := s.Stats(); st.Expired != 0 {
		t.Fatalf("Expired = %d before the lease ended", st.Expired)
	}
	s.tick(deadline, deadline) // the lease ends now
	readEnd(t, short, 4, 1)
	if st := s.Stats(); st.Expired != 1 || st.Pruned != 0 {
		t.Errorf("Expired %d, Pruned %d; want 1, 0", st.Expired, st.Pruned)
	}
	if len(live(subs, short.addr())) != 0 || len(subs.List()) != 2 {
		t.Errorf("expired subscriber still listed (%d subscribers)", len(subs.List()))
	}
	for _, rx := range []*receiver{refreshed, forever} {
		if d := rx.nextSamples(); d.Seq != 4 {
			t.Errorf("seq %d, want 4", d.Seq)
		}
	}
	short.expectQuiet()
}

// TestPruneRefused: a subscriber without a lease whose port is closed is
// dropped once sends have been refused (ICMP port unreachable comes back as
// ECONNREFUSED on its connected socket) for PruneAfter, not after a count
// of refusals, while another subscriber gets every datagram; the prune is
// reported with its reason.
func TestPruneRefused(t *testing.T) {
	const pruneAfter = 2 * time.Second
	good := newReceiver(t)
	dead := closedPort(t)
	subs := NewSubscribers()
	mustStart(t, subs, good.addr(), 0)
	mustStart(t, subs, dead, 0)
	deadSub := live(subs, dead)[0]
	ends := make(chan End, 4)
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, PruneAfter: pruneAfter, Ends: ends})

	deadline := start
	ticks := 0
	for ; ticks < 10_000 && len(live(subs, dead)) > 0; ticks++ {
		deadline = s.tick(deadline, deadline)
		if d := good.nextSamples(); d.Seq != uint32(ticks) {
			t.Fatalf("good subscriber: seq %d, want %d", d.Seq, ticks)
		}
	}
	st := s.Stats()
	if len(live(subs, dead)) != 0 {
		t.Fatalf("dead subscriber not pruned after %d ticks: %d refused sends; Pruned %d", ticks, deadSub.SendErrors.Load(), st.Pruned)
	}
	// At 200 Hz, 2 s of refusals are about 400 ticks (every other send
	// is refused): hundreds of refusals, not a count reachable in 200 ms.
	if span := time.Duration(int64(ticks) * s.Period()); span < pruneAfter || span > pruneAfter+time.Second {
		t.Errorf("pruned after %v of refusals (%d ticks), want %v", span, ticks, pruneAfter)
	}
	if st.Pruned != 1 || st.Expired != 0 {
		t.Errorf("Pruned %d, Expired %d; want 1, 0", st.Pruned, st.Expired)
	}
	select {
	case e := <-ends:
		if e.Target != dead || e.Reason != EndPruned {
			t.Errorf("end %+v, want %s pruned", e, dead)
		}
	default:
		t.Error("the prune was not reported")
	}
	// The good subscriber goes on.
	for range 3 {
		deadline = s.tick(deadline, deadline)
		if d := good.nextSamples(); d.Seq != uint32(ticks) {
			t.Fatalf("good subscriber: seq %d, want %d", d.Seq, ticks)
		}
		ticks++
	}
	if got := live(subs, good.addr())[0].Datagrams.Load(); got != uint64(ticks) {
		t.Errorf("good subscriber's Datagrams = %d, want %d", got, ticks)
	}
}

// TestLeasedNotPruned: ICMP is unauthenticated, the lease is not: a
// subscriber whose lease is fresh keeps its stream however long its sends
// are refused (a forged ICMP flood, or a listener that starts after the
// start command), and it is not pruned, but expires, once the lease runs
// out without a refresh.
func TestLeasedNotPruned(t *testing.T) {
	dead := closedPort(t)
	subs := NewSubscribers()
	const lease = 30 * time.Second
	if _, _, err := subs.Start(dead, lease, 0, start, nil, ""); err != nil {
		t.Fatal(err)
	}
	sub := live(subs, dead)[0]
	ends := make(chan End, 4)
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, PruneAfter: time.Second, Ends: ends})
	deadline := start
	for deadline < start+int64(lease)-s.Period() {
		deadline = s.tick(deadline, deadline)
	}
	if len(live(subs, dead)) != 1 || sub.SendErrors.Load() < 100 {
		t.Fatalf("leased subscriber: live %d, %d refused sends; want it kept through hundreds", len(live(subs, dead)), sub.SendErrors.Load())
	}
	for range 3 {
		deadline = s.tick(deadline, deadline)
	}
	if len(live(subs, dead)) != 0 {
		t.Fatal("still subscribed after the lease ran out")
	}
	if st := s.Stats(); st.Pruned != 0 || st.Expired != 1 {
		t.Errorf("Pruned %d, Expired %d; want 0, 1", st.Pruned, st.Expired)
	}
	if e := <-ends; e.Reason != EndExpired {
		t.Errorf("end %+v, want lease expired", e)
	}
}

// A refresh that names no lease keeps the lease it had, for its length;
// a new subscriber without one gets the default.
func TestRefreshKeepsLease(t *testing.T) {
	rx := newReceiver(t)
	subs := NewSubscribers()
	sub, created, err := subs.Start(rx.addr(), 0, 7*time.Second, 100, nil, "")
	if err != nil || !created || sub.Lease() != 7*time.Second {
		t.Fatalf("new without lease: %v %v, want the default 7s", created, err)
	}
	if again, created, err := subs.Start(rx.addr(), 0, time.Hour, 5e9, nil, ""); err != nil || created || again != sub || sub.Lease() != 7*time.Second || sub.Expires() != 5e9+int64(7*time.Second) {
		t.Errorf("refresh without lease: %v %v, lease %v expires %d; want the 7s lease from now", created, err, sub.Lease(), sub.Expires())
	}
	if _, _, _ = subs.Start(rx.addr(), 2*time.Second, 0, 6e9, nil, ""); sub.Lease() != 2*time.Second || sub.Expires() != 8e9 {
		t.Errorf("refresh with lease=2s: %v, expires %d", sub.Lease(), sub.Expires())
	}
}

// A stop frees the slot at once: a start to another target right after
// it is not refused as full, though the stopped stream's end goes out
// only on the next tick.
func TestStopFreesSlot(t *testing.T) {
	subs := NewSubscribers()
	var rxs []*receiver
	for range MaxSubscribers {
		rx := newReceiver(t)
		rxs = append(rxs, rx)
		mustStart(t, subs, rx.addr(), 0)
	}
	extra := newReceiver(t)
	if err := subs.Stop(rxs[0].addr(), EndStopped); err != nil {
		t.Fatal(err)
	}
	if _, created, err := subs.Start(extra.addr(), 0, 0, 0, nil, ""); err != nil || !created {
		t.Fatalf("start after a stop: %v %v", created, err)
	}
	if n := len(subs.Active()); n != MaxSubscribers {
		t.Errorf("%d active, want %d", n, MaxSubscribers)
	}
	// Reviving the stopped one now would make nine.
	if _, _, err := subs.Start(rxs[0].addr(), 0, 0, 0, nil, ""); !errors.Is(err, ErrFull) {
		t.Errorf("restarting the stopped target with every slot taken: %v, want ErrFull", err)
	}
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs})
	s.tick(start, start)
	if n := len(subs.List()); n != MaxSubscribers {
		t.Errorf("%d listed after a tick, want %d", n, MaxSubscribers)
	}
}

// TestStopThenStart: a start after a stop is never lost, whether the
// sender has handled the stop yet or not.
func TestStopThenStart(t *testing.T) {
	rx := newReceiver(t)
	subs := NewSubscribers()
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs})
	mustStart(t, subs, rx.addr(), 0)
	deadline := s.tick(start, start)
	rx.nextSamples()

	// Stop then Start before the sender's next tick: the stop is cancelled.
	sub := live(subs, rx.addr())[0]
	if err := subs.Stop(rx.addr(), EndStopped); err != nil {
		t.Fatal(err)
	}
	if _, created, err := subs.Start(rx.addr(), 0, 0, 0, nil, ""); err != nil || created {
		t.Errorf("Start after Stop: created %v, %v; want false, nil", created, err)
	}
	deadline = s.tick(deadline, deadline)
	if d := rx.next(); d.Type != telemetry.TypeSamples || d.Seq != 1 {
		t.Fatalf("%v seq %d, want samples seq 1", d.Type, d.Seq)
	}
	if l := live(subs, rx.addr()); len(l) != 1 || l[0] != sub {
		t.Errorf("%d live subscribers, want the same one", len(l))
	}

	// Stop, the sender ends the stream, then Start: a new subscription.
	if err := subs.Stop(rx.addr(), EndStopped); err != nil {
		t.Fatal(err)
	}
	deadline = s.tick(deadline, deadline)
	end, _ := readEnd(t, rx, 2, 1)
	if _, created, err := subs.Start(rx.addr(), 0, 0, 0, nil, ""); err != nil || !created {
		t.Errorf("Start after the end: created %v, %v; want true, nil", created, err)
	}
	s.tick(deadline, deadline)
	if d := rx.nextSamples(); d.Seq != 0 || d.Session == end.Session {
		t.Errorf("session %#x seq %d after the end of %#x, want a new session from 0", d.Session, d.Seq, end.Session)
	}
}

// TestStopStartRace toggles a subscription while Run streams: after every
// Start exactly one live subscription exists, and after the last one the
// stream goes on until shutdown ends it.
func TestStopStartRace(t *testing.T) {
	rx := newReceiver(t)
	subs := NewSubscribers()
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, RateHz: 500})
	mustStart(t, subs, rx.addr(), 0)
	headers := readHeaders(rx)
	stop := runSender(t, s)
	for i := range 300 {
		if err := subs.Stop(rx.addr(), EndStopped); err != nil {
			t.Fatalf("toggle %d: Stop: %v", i, err)
		}
		if i%2 == 1 { // let the sender handle the stop first, sometimes
			waitFor(t, "the stop to be handled", func() bool { return len(live(subs, rx.addr())) == 0 })
		}
		if _, _, err := subs.Start(rx.addr(), 0, 0, 0, nil, ""); err != nil {
			t.Fatalf("toggle %d: Start: %v", i, err)
		}
		l := live(subs, rx.addr())
		if len(l) != 1 || l[0].state.Load() != subActive {
			t.Fatalf("toggle %d: %d live subscriptions after Start, want 1 active", i, len(l))
		}
	}
	sub := live(subs, rx.addr())[0]
	waitFor(t, "datagrams after the last start", func() bool { return sub.Datagrams.Load() >= 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	hs := headers()
	st := s.Stats()
	// The last start may have joined while the sender still held the
	// stopped subscription, so the session is the subscriber's own
	// (read after stop: the sender thread is done with it).
	if !sub.joined || sub.session == 0 {
		t.Fatalf("the last subscription never joined the stream (session %#x)", sub.session)
	}
	want := telemetry.Header{Version: telemetry.Version, Type: telemetry.TypeEnd, SampleLen: telemetry.SampleLen, Session: sub.session, Seq: st.NextSeq - sub.base, RateHz: 500}
	if len(hs) == 0 || hs[len(hs)-1] != want {
		t.Errorf("last datagram of %d: %+v, want the shutdown's end marker %+v", len(hs), hs[len(hs)-1:], want)
	}
}

// TestSessionPerSubscriber: every subscriber's stream is one session from
// seq 0 to its end marker. The one that starts the stream has the
// sender's session; one that joins a running stream, or comes back after
// its own stop while another keeps the stream, gets a new session counted
// from 0, so a receiver following the rules never counts the samples
// before its start as lost. The samples themselves are the same.
func TestSessionPerSubscriber(t *testing.T) {
	subs := NewSubscribers()
	a, b := newReceiver(t), newReceiver(t)
	mustStart(t, subs, a.addr(), 0)
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs})
	deadline := start
	for range 5 {
		deadline = s.tick(deadline, deadline)
	}
	for i := range 5 {
		if d := a.nextSamples(); d.Seq != uint32(i) || d.Session != s.Stats().Session {
			t.Fatalf("a: session %#x seq %d, want the sender's %#x, %d", d.Session, d.Seq, s.Stats().Session, i)
		}
	}
	join := func() telemetry.Datagram {
		t.Helper()
		mustStart(t, subs, b.addr(), 0)
		deadline = s.tick(deadline, deadline)
		da, db := a.nextSamples(), b.nextSamples()
		if db.Seq != 0 || db.Session == da.Session || db.Session == 0 {
			t.Fatalf("b joins at a's seq %d: session %#x seq %d, want a session of its own from 0", da.Seq, db.Session, db.Seq)
		}
		if !bytes.Equal(telemetry.AppendSample(nil, &da.Samples[0]), telemetry.AppendSample(nil, &db.Samples[0])) {
			t.Fatal("a and b got different samples")
		}
		return db
	}
	first := join()
	for i := 1; i < 4; i++ {
		deadline = s.tick(deadline, deadline)
		a.nextSamples()
		if d := b.nextSamples(); d.Session != first.Session || d.Seq != uint32(i) {
			t.Fatalf("b: session %#x seq %d, want %#x %d", d.Session, d.Seq, first.Session, i)
		}
	}
	if err := subs.Stop(b.addr(), EndStopped); err != nil {
		t.Fatal(err)
	}
	deadline = s.tick(deadline, deadline)
	a.nextSamples()
	if end, _ := readEnd(t, b, 4, 1); end.Session != first.Session {
		t.Errorf("b's end marker: session %#x, want %#x", end.Session, first.Session)
	}
	if again := join(); again.Session == first.Session {
		t.Error("b back after its stop got its old session")
	}
}

// TestTaggedSubscriber: a subscriber started with a tagger gets every
// datagram, its end marker too, tagged under its stream key; another
// subscriber of the same stream gets them untagged; the tick allocates
// nothing either way.
func TestTaggedSubscriber(t *testing.T) {
	subs := NewSubscribers()
	plain, tagged := newReceiver(t), newReceiver(t)
	k := telemetry.StreamKey([]byte("shared key"), []byte("nonce-0123456789"))
	mustStart(t, subs, plain.addr(), 0)
	sub, _, err := subs.Start(tagged.addr(), 0, 0, 0, telemetry.NewTagger(k), "")
	if err != nil || !sub.Tagged() || !sub.Source.IsValid() {
		t.Fatalf("tagged start: %v, tagged %v, source %v", err, sub.Tagged(), sub.Source)
	}
	s := newTestSender(t, Config{Sensor: sim.New(sim.Opts{}), Subs: subs, Batch: 2})
	check := telemetry.NewTagger(k)
	deadline := start
	for range 6 {
		deadline = s.tick(deadline, deadline)
	}
	for range 3 {
		b := tagged.readRaw()
		if !check.Verify(b) {
			t.Fatalf("tagged subscriber got % x: no valid tag", b)
		}
		var d telemetry.Datagram
		if err := telemetry.Parse(b, &d); err != nil || d.Count != 2 || len(d.Tag) != telemetry.TagLen {
			t.Fatalf("tagged datagram: %v %+v", err, d.Header)
		}
		if d := plain.nextSamples(); d.Flags&telemetry.FlagTagged != 0 || d.Tag != nil {
			t.Fatalf("plain subscriber got a tagged datagram: %+v", d.Header)
		}
	}
	if n := testing.AllocsPerRun(50, func() { deadline = s.tick(deadline, deadline) }); n != 0 {
		t.Errorf("%v allocations per tick with a tagged subscriber", n)
	}
	if err := subs.Stop(tagged.addr(), EndStopped); err != nil {
		t.Fatal(err)
	}
	s.tick(deadline, deadline)
	for {
		b := tagged.readRaw()
		var d telemetry.Datagram
		if err := telemetry.Parse(b, &d); err != nil {
			t.Fatal(err)
		}
		if d.Type == telemetry.TypeEnd {
			if !check.Verify(b) {
				t.Error("the end marker is not tagged")
			}
			break
		}
	}
}
