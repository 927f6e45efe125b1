package daemon_test

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/daemon/daemontest"
	"github.com/imustream/imustream/receiver"
)

// TestSecondaryLoopbackSource: a daemon listening on 127.0.1.5 (one of the
// loopback addresses besides 127.0.0.1, as a fleet on one host uses)
// streams from 127.0.1.5, the address the receiver talks to and the start
// reply names: a recording without a key takes every datagram.
func TestSecondaryLoopbackSource(t *testing.T) {
	d, _ := daemontest.Start(t, daemon.Config{Listen: "127.0.1.5:0"}, nil)
	from := make(chan netip.AddrPort, 1)
	var rc *receiver.Recording
	var mu sync.Mutex
	c, err := control.Dial(d.Addr().String(), &control.ClientOptions{Timeout: time.Second, OnData: func(b []byte, a netip.AddrPort) {
		select {
		case from <- a:
		default:
		}
		mu.Lock()
		r := rc
		mu.Unlock()
		if r != nil {
			r.Receive(b, a)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := receiver.NewRecording(receiver.RecordConfig{Duration: time.Second, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	rc = r
	mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := r.Run(ctx, c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	s := res.Summary
	if s.Samples == 0 || s.WrongSource != 0 || s.Auth != receiver.AuthSource {
		t.Fatalf("recording from %s: %d samples, %d from a wrong source, auth %q; want samples, none dropped, auth by source",
			d.Addr(), s.Samples, s.WrongSource, s.Auth)
	}
	if a := <-from; a.Addr() != d.Addr().Addr() {
		t.Errorf("telemetry from %s, the daemon listens on %s", a, d.Addr())
	}
}

// TestWildcardListenSource: a daemon on the wildcard address names in its
// start reply (src=) the address its datagrams come from.
func TestWildcardListenSource(t *testing.T) {
	d, _ := daemontest.Start(t, daemon.Config{Listen: "0.0.0.0:0"}, nil)
	dev := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), d.Addr().Port())
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
	reply, err := c.Start(ctx, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(ctx, "")
	src, _ := reply.Get("src")
	var got netip.AddrPort
	select {
	case got = <-from:
	case <-ctx.Done():
		t.Fatal("no telemetry")
	}
	if src != got.String() {
		t.Errorf("start reply src=%q, datagrams from %s", src, got)
	}
}
