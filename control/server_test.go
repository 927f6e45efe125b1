package control_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
)

// fakeStream is a control.Stream in memory. While gate is not nil, Start
// blocks until it is closed.
type fakeStream struct {
	mu       sync.Mutex
	targets  []netip.AddrPort
	leases   []time.Duration
	startErr error
	stopErr  error
	def      time.Duration // the lease of a start without one
	auths    []*control.StartAuth
	gate     chan struct{}
	entered  chan struct{}
}

func (f *fakeStream) Start(req control.StartRequest) (control.StartResult, error) {
	t, lease := req.Target, req.Lease
	if f.gate != nil {
		f.entered <- struct{}{}
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return control.StartResult{}, f.startErr
	}
	if lease == 0 {
		lease = f.def
	}
	f.targets, f.leases, f.auths = append(f.targets, t), append(f.leases, lease), append(f.auths, req.Auth)
	return control.StartResult{Created: true, Lease: lease, Tagged: req.Auth != nil}, nil
}

func (f *fakeStream) Stop(netip.AddrPort) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stopErr
}
func (f *fakeStream) Disallow(t netip.AddrPort) error     { return f.Stop(t) }
func (f *fakeStream) StopAll(string) int                  { return 0 }
func (f *fakeStream) Owner(netip.AddrPort) (string, bool) { return "", false }
func (f *fakeStream) Targets() []netip.AddrPort {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]netip.AddrPort(nil), f.targets...)
}

func listen(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ask sends line to the server at addr and returns the reply.
func ask(t *testing.T, addr net.Addr, line string) control.Reply {
	t.Helper()
	c := listen(t)
	if _, err := c.WriteTo([]byte(line), addr); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatalf("%q: no reply: %v", line, err)
	}
	r, err := control.ParseReply(buf[:n])
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return r
}

func newServer(t *testing.T, cfg control.ServerConfig) *control.Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := control.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serve runs s on conn and returns what Serve returned, once it has.
func serve(ctx context.Context, s *control.Server, conn net.PacketConn) <-chan error {
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, conn) }()
	return errc
}

// The context ends Serve with ErrServerClosed and leaves the socket open:
// the caller owns it.
func TestServeContextEnds(t *testing.T) {
	conn := listen(t)
	s := newServer(t, control.ServerConfig{Stream: &fakeStream{}})
	ctx, cancel := context.WithCancel(context.Background())
	errc := serve(ctx, s, conn)
	if r := ask(t, conn.LocalAddr(), "ping\n"); !r.OK {
		t.Fatalf("ping: %+v", r)
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, control.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := conn.WriteTo([]byte("x"), conn.LocalAddr()); err != nil {
		t.Errorf("the socket was closed: %v", err)
	}
	if err := s.Serve(context.Background(), conn); err == nil {
		t.Error("a second Serve was accepted")
	}
}

// Shutdown lets the command in progress finish and be answered, then waits
// for Serve; with a context that ends first it returns the context's error.
func TestShutdownContract(t *testing.T) {
	conn := listen(t)
	st := &fakeStream{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	s := newServer(t, control.ServerConfig{Stream: st})
	errc := serve(context.Background(), s, conn)

	client := listen(t)
	if _, err := client.WriteTo([]byte("start\n"), conn.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	<-st.entered // the command goroutine is inside Start
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown while a command runs, short context: %v, want DeadlineExceeded", err)
	}
	close(st.gate)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-errc; !errors.Is(err, control.ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	buf := make([]byte, 512)
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := client.ReadFrom(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "ok start") {
		t.Errorf("the command in progress at shutdown got %q, %v; want its ok reply", buf[:n], err)
	}
	// A server shut down before it serves does not serve.
	s2 := newServer(t, control.ServerConfig{Stream: &fakeStream{}})
	if err := s2.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown of an idle server: %v", err)
	}
	if err := s2.Serve(context.Background(), listen(t)); !errors.Is(err, control.ErrServerClosed) {
		t.Errorf("Serve after Shutdown: %v, want ErrServerClosed", err)
	}
}

// packetConn hides *net.UDPConn: the server takes any net.PacketConn.
type packetConn struct{ net.PacketConn }

// Wire text comes from CommandError's fields; any other error from the
// stream is answered without its text.
func TestStreamErrorsOnTheWire(t *testing.T) {
	conn := listen(t)
	st := &fakeStream{def: 7 * time.Second}
	s := newServer(t, control.ServerConfig{Stream: st})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serve(ctx, s, packetConn{conn})

	r := ask(t, conn.LocalAddr(), "start :9000\n")
	if !r.OK {
		t.Fatalf("start: %+v", r)
	}
	st.mu.Lock()
	if l, _ := r.Get("lease"); l != "7s" || st.leases[0] != 7*time.Second {
		t.Errorf("the stream's lease: reply %q, stream has %v; want 7s", l, st.leases[0])
	}
	st.startErr = &control.CommandError{Code: control.CodeFull, Message: "subscriber limit reached (8)"}
	st.mu.Unlock()
	r = ask(t, conn.LocalAddr(), "start :9001\n")
	if r.OK || r.Verb != control.CodeFull || r.Message != "start: subscriber limit reached (8)" {
		t.Errorf("full: %+v", r)
	}
	st.mu.Lock()
	st.startErr = errors.New("secret: socket table exhausted")
	st.mu.Unlock()
	r = ask(t, conn.LocalAddr(), "start :9002\n")
	if r.OK || r.Verb != control.CodeBadTarget || strings.Contains(r.Message, "secret") {
		t.Errorf("a plain error: %+v, want bad-target without its text", r)
	}
	st.mu.Lock()
	st.stopErr = &control.CommandError{Code: control.CodeNotSubscribed, Message: "not subscribed: 127.0.0.1:9"}
	st.mu.Unlock()
	r = ask(t, conn.LocalAddr(), "stop :9\n")
	if r.OK || r.Verb != control.CodeNotSubscribed || r.Message != "stop: not subscribed: 127.0.0.1:9" {
		t.Errorf("stop: %+v", r)
	}
	r = ask(t, conn.LocalAddr(), "start :0\n")
	if r.OK || r.Verb != control.CodeBadTarget || !strings.Contains(r.Message, "port must be 1..65535") {
		t.Errorf("port 0: %+v", r)
	}
}

// The status reply starts with the fields of the daemon's status source.
func TestStatusSource(t *testing.T) {
	conn := listen(t)
	s := newServer(t, control.ServerConfig{Stream: &fakeStream{}, Version: "v9", Status: func() []control.Field {
		return []control.Field{{Key: "state", Value: "idle"}, {Key: "sensor_reinits", Value: "4"}}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serve(ctx, s, conn)
	r := ask(t, conn.LocalAddr(), "status\n")
	if len(r.Fields) < 3 || r.Fields[0].Key != "state" || r.Fields[1] != (control.Field{Key: "sensor_reinits", Value: "4"}) {
		t.Errorf("status fields %+v", r.Fields)
	}
	if v, _ := r.Get("version"); v != "v9" {
		t.Errorf("version %q", v)
	}
	if _, ok := r.Get("cmd_accepted"); !ok {
		t.Error("no server counters")
	}
}
