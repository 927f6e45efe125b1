// Package sdnotifytest is test support for systemd's notify protocol: a
// socket that takes the place of systemd's NOTIFY_SOCKET and waits for the
// lines a daemon sends it.
package sdnotifytest

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Socket is a unixgram socket bound as systemd binds NOTIFY_SOCKET; every
// datagram it receives is split into its lines.
type Socket struct {
	Name string
	ch   chan string
}

// New binds name (a path, or @name for an abstract socket) until the test ends.
func New(t *testing.T, name string) *Socket {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	s := &Socket{Name: name, ch: make(chan string, 1000)}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			for _, l := range strings.Split(strings.TrimSpace(string(buf[:n])), "\n") {
				s.ch <- l
			}
		}
	})
	t.Cleanup(func() { c.Close(); wg.Wait() })
	return s
}

// WaitFor returns the first line starting with prefix, within d.
func (s *Socket) WaitFor(t *testing.T, prefix string, d time.Duration) string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l := <-s.ch:
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no %s… on the notify socket within %v", prefix, d)
			return ""
		}
	}
}

// During fails if a line that bad reports arrives within d.
func (s *Socket) During(t *testing.T, d time.Duration, bad func(line string) bool) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l := <-s.ch:
			if bad(l) {
				t.Fatalf("%q arrived while the sender was stalled", l)
			}
		case <-timeout:
			return
		}
	}
}

// StalledFor waits for a STATUS=stalled line reporting a stall of at
// least min and returns it.
func (s *Socket) StalledFor(t *testing.T, min time.Duration) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l := <-s.ch:
			rest, ok := strings.CutPrefix(l, "STATUS=stalled: no tick for ")
			if !ok {
				continue
			}
			age, _, _ := strings.Cut(rest, ";")
			d, err := time.ParseDuration(age)
			if err != nil {
				t.Fatalf("stall status %q: %v", l, err)
			}
			if d >= min {
				return l
			}
		case <-timeout:
			t.Fatalf("no status reporting a stall of %v or more", min)
			return ""
		}
	}
}
