package rig

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
)

// fakeStream records what the server asks of the stream.
type fakeStream struct {
	mu      sync.Mutex
	subs    map[netip.AddrPort]bool
	starts  []control.StartRequest
	created int
	stops   int
}

func (f *fakeStream) Start(r control.StartRequest) (control.StartResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, r)
	created := !f.subs[r.Target]
	if created {
		f.created++
	}
	f.subs[r.Target] = true
	return control.StartResult{Created: created, Lease: r.Lease}, nil
}

func (f *fakeStream) Stop(t netip.AddrPort) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.subs[t] {
		return errors.New("not subscribed")
	}
	delete(f.subs, t)
	f.stops++
	return nil
}
func (f *fakeStream) Disallow(t netip.AddrPort) error     { return f.Stop(t) }
func (f *fakeStream) StopAll(string) int                  { return 0 }
func (f *fakeStream) Owner(netip.AddrPort) (string, bool) { return "", false }
func (f *fakeStream) Targets() []netip.AddrPort           { return nil }
func (f *fakeStream) snapshot() (starts, created, stops int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.starts), f.created, f.stops
}

func listen(t *testing.T, addr string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond until it holds or a generous time passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Errorf("timed out waiting for %s", what)
}

func TestServer(t *testing.T) {
	fs := &fakeStream{subs: map[netip.AddrPort]bool{}}
	only1 := func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.1") }
	srv, err := NewServer(Config{Stream: fs, To: Target{Addr: mustAP("0.0.0.0:25000"), PortOnly: true}, Timeout: time.Second,
		Allowed: only1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	conn := listen(t, "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, conn) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()
	rig := listen(t, "127.0.0.1:0")
	stranger := listen(t, "127.0.0.2:0")
	to := conn.LocalAddr().(*net.UDPAddr)
	send := func(c *net.UDPConn, b []byte) {
		t.Helper()
		if _, err := c.WriteToUDP(b, to); err != nil {
			t.Fatal(err)
		}
	}
	pkt := func(v byte) []byte { b := make([]byte, 19); b[4] = v; return b }
	want := Counters{}
	check := func(what string) {
		t.Helper()
		waitFor(t, what, func() bool { return srv.Counters() == want })
		if t.Failed() {
			t.Fatalf("counters %+v, want %+v", srv.Counters(), want)
		}
	}

	send(rig, pkt(1))
	want.Packets, want.Start, want.Sessions = 1, 1, 1
	check("the first start")
	rigAP := rig.LocalAddr().(*net.UDPAddr).AddrPort()
	fs.mu.Lock()
	first := fs.starts[0]
	fs.mu.Unlock()
	if starts, created, _ := fs.snapshot(); starts != 1 || created != 1 || first.Target != netip.AddrPortFrom(rigAP.Addr(), 25000) ||
		first.Lease != time.Second || first.Owner != Owner {
		t.Fatalf("start: %+v", first)
	}
	for range 3 {
		send(rig, pkt(1))
	}
	want.Packets, want.Start = 4, 4
	check("three refreshes")
	if starts, created, _ := fs.snapshot(); starts != 4 || created != 1 || !srv.Streaming() {
		t.Fatalf("refreshes: %d starts, %d created", starts, created)
	}

	send(stranger, pkt(1))
	send(rig, pkt(1)[:18])
	send(rig, append(pkt(1), 0))
	send(rig, pkt(7)) // neither start nor stop
	send(rig, pkt(0))
	want.Packets, want.Disallowed, want.WrongLength, want.Ignored, want.Stop = 9, 1, 2, 1, 1
	check("the drops and a stop")
	if _, _, stops := fs.snapshot(); stops != 1 || srv.Streaming() {
		t.Fatalf("%d stops", stops)
	}
	send(rig, pkt(0)) // repeated stops do nothing
	want.Packets, want.Stop = 10, 2
	check("a second stop")
	if _, _, stops := fs.snapshot(); stops != 1 {
		t.Fatalf("%d stops after a repeated stop", stops)
	}

	// Silence: the daemon reports the lease's end.
	send(rig, pkt(1))
	want.Packets, want.Start, want.Sessions = 11, 5, 2
	check("a new session")
	target := netip.AddrPortFrom(rigAP.Addr(), 25000)
	fs.Stop(target) // the lease ran out in the stream
	srv.Ended(netip.MustParseAddrPort("127.0.0.1:1"), true, "not ours")
	srv.Ended(target, true, "lease expired")
	want.Timeouts = 1
	check("a timeout")
	if srv.Streaming() {
		t.Error("streaming after a timeout")
	}
	st := map[string]string{}
	for _, f := range srv.Status() {
		st[f.Key] = f.Value
	}
	if st["rig"] != "idle" || st["rig_packets"] != "11" || st["rig_timeouts"] != "1" || st["rig_wrong_length"] != "2" || st["rig_to"] != ":25000" {
		t.Errorf("status %v", st)
	}
}

func TestServerTargetNotAllowed(t *testing.T) {
	fs := &fakeStream{subs: map[netip.AddrPort]bool{}}
	srv, err := NewServer(Config{Stream: fs, To: Target{Addr: mustAP("192.0.2.1:25000")}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := ParseCommand(DefaultCommand)
	b := make([]byte, c.Len)
	b[4] = 1
	srv.handle(b, mustAP("127.0.0.1:5000"))
	if c := srv.Counters(); c.Disallowed != 1 || c.Start != 0 || len(fs.starts) != 0 {
		t.Errorf("start for a target outside the allow list: %+v", c)
	}
}

func TestServerShutdown(t *testing.T) {
	srv, err := NewServer(Config{Stream: &fakeStream{}, To: Target{Addr: mustAP("127.0.0.1:25000")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(context.Background(), listen(t, "127.0.0.1:0")); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Shutdown: %v", err)
	}
	if _, err := NewServer(Config{Stream: &fakeStream{}}); err == nil {
		t.Error("NewServer without a target succeeded")
	}
	if _, err := NewServer(Config{To: Target{Addr: mustAP("127.0.0.1:1")}}); err == nil {
		t.Error("NewServer without a stream succeeded")
	}
}
