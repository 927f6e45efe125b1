package daemon_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/daemon/daemontest"
	"github.com/imustream/imustream/receiver"
)

// TestStreamSource: the daemon's replies and telemetry come from the
// address the client sends its commands to, and the start reply's src=
// names the address the datagrams come from, whether the daemon listens
// on that address or on the wildcard one. 127.0.1.5 is one of the loopback
// addresses besides 127.0.0.1 (as a fleet on one host uses), which the
// kernel would not pick by itself: without a key a recording takes every
// datagram only if they agree.
func TestStreamSource(t *testing.T) {
	for _, c := range []struct{ name, listen, dev string }{
		{"specific address", "127.0.1.5:0", "127.0.1.5"},
		{"wildcard, second loopback address", "0.0.0.0:0", "127.0.1.5"},
		{"wildcard, 127.0.0.1", "0.0.0.0:0", "127.0.0.1"},
		{"wildcard, ::1", "[::]:0", "::1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, _ := daemontest.Start(t, daemon.Config{Listen: c.listen}, nil)
			dev := netip.AddrPortFrom(netip.MustParseAddr(c.dev), d.Addr().Port())
			recordFrom(t, dev)
		})
	}
}

// recordFrom records a second from the daemon at dev and checks where the
// datagrams came from.
func recordFrom(t *testing.T, dev netip.AddrPort) {
	t.Helper()
	from := make(chan netip.AddrPort, 1)
	c, err := control.Dial(dev.String(), &control.ClientOptions{Timeout: time.Second, OnData: func(b []byte, a netip.AddrPort) {
		select {
		case from <- a:
		default:
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// src= against the datagrams' source, on a stream of its own.
	reply, err := c.Start(ctx, "", 5*time.Second)
	if err != nil {
		t.Fatalf("start at %s: %v", dev, err)
	}
	src, _ := reply.Get("src")
	var got netip.AddrPort
	select {
	case got = <-from:
	case <-ctx.Done():
		t.Fatal("no telemetry")
	}
	if src != got.String() || got.Addr().Unmap() != dev.Addr() {
		t.Errorf("start reply src=%s, datagrams from %s; the client talks to %s", src, got, dev)
	}
	if _, err := c.Stop(ctx, ""); err != nil {
		t.Fatal(err)
	}
	c.Close()

	// A recording on a client of its own: the first stream's last
	// datagrams, still on their way to c, come from its own socket.
	r, err := receiver.NewRecording(receiver.RecordConfig{Duration: time.Second, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := control.Dial(dev.String(), &control.ClientOptions{Timeout: time.Second, OnData: r.Receive})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	res, err := r.Run(ctx, c2)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	s := res.Summary
	if s.Samples == 0 || s.WrongSource != 0 || s.Auth != receiver.AuthSource {
		t.Fatalf("recording from %s: %d samples, %d from a wrong source, auth %q; want samples, none dropped, auth by source",
			dev, s.Samples, s.WrongSource, s.Auth)
	}
}
