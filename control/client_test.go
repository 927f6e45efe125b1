package control_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
)

// closedUDPPort returns a loopback UDP address that nothing listens on: the
// host answers datagrams to it with ICMP port unreachable.
func closedUDPPort(t *testing.T) string {
	t.Helper()
	c := listen(t)
	addr := c.LocalAddr().String()
	c.Close()
	return addr
}

// quietDevice reads datagrams and answers only those that answer
// returns true for (the source and the command); it returns its address
// and a channel of the commands it read.
func quietDevice(t *testing.T, answer func(from netip.AddrPort, cmd control.Command) bool) (string, <-chan control.Command) {
	t.Helper()
	srv := listen(t)
	got := make(chan control.Command, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			n, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			cmd, err := control.ParseCommand(buf[:n])
			if err != nil {
				continue
			}
			select {
			case got <- cmd:
			default:
			}
			if answer(from, cmd) {
				r := control.Reply{OK: true, ID: cmd.ID, Verb: cmd.Verb}
				_, _ = srv.WriteToUDPAddrPort([]byte(r.String()), from)
			}
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return srv.LocalAddr().String(), got
}

func dialClient(t *testing.T, addr string, opts control.ClientOptions) *control.Client {
	t.Helper()
	c, err := control.Dial(addr, &opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func asNoReply(t *testing.T, err error) *control.NoReplyError {
	t.Helper()
	var nr *control.NoReplyError
	if !errors.Is(err, control.ErrNoReply) || !errors.As(err, &nr) {
		t.Fatalf("err = %v, want a *NoReplyError matching ErrNoReply", err)
	}
	return nr
}

// TestNoReplyRefused: with Probe, a port nothing listens on is told apart
// from silence, although the client's own socket is not connected.
func TestNoReplyRefused(t *testing.T) {
	addr := closedUDPPort(t)
	c := dialClient(t, addr, control.ClientOptions{Timeout: 50 * time.Millisecond, Retries: -1, Probe: true})
	_, err := c.Status(context.Background())
	nr := asNoReply(t, err)
	if nr.Probe != control.ProbeRefused {
		t.Errorf("Probe = %v, want refused", nr.Probe)
	}
	if nr.Device.String() != addr || nr.Verb != control.VerbStatus || nr.Attempts != 1 || nr.Signed {
		t.Errorf("fields %+v, want device %s, status, 1 attempt, unsigned", nr, addr)
	}
	if !strings.Contains(err.Error(), "nothing listens") {
		t.Errorf("message %q does not say that nothing listens", err)
	}
}

// TestNoReplySilent: a device that reads but never answers hears the
// commands and the probe, and the error says the probe met silence too.
func TestNoReplySilent(t *testing.T) {
	addr, got := quietDevice(t, func(netip.AddrPort, control.Command) bool { return false })
	c := dialClient(t, addr, control.ClientOptions{Timeout: 50 * time.Millisecond, Retries: 1, Probe: true})
	_, err := c.Ping(context.Background())
	nr := asNoReply(t, err)
	if nr.Probe != control.ProbeSilent || nr.Attempts != 2 {
		t.Errorf("Probe = %v after %d attempts, want silent after 2", nr.Probe, nr.Attempts)
	}
	if strings.Contains(err.Error(), "nothing listens") {
		t.Errorf("silence reported as a closed port: %v", err)
	}
	var ids []string
	for range 3 {
		select {
		case cmd := <-got:
			ids = append(ids, cmd.ID)
		case <-time.After(5 * time.Second):
			t.Fatalf("the device read only %q; want two attempts and a probe", ids)
		}
	}
	if ids[0] != ids[1] || ids[2] == ids[0] {
		t.Errorf("ids %q: want the attempts to share an id and the probe to have its own", ids)
	}
}

// TestNoReplyProbeAnswered: a daemon that answers the probe (here: only
// the probe, from its other socket) is reported as having answered.
func TestNoReplyProbeAnswered(t *testing.T) {
	var clientPort uint16
	ready := make(chan struct{})
	addr, _ := quietDevice(t, func(from netip.AddrPort, _ control.Command) bool {
		<-ready
		return from.Port() != clientPort
	})
	c := dialClient(t, addr, control.ClientOptions{Timeout: time.Second, Retries: -1, Probe: true})
	clientPort = c.LocalAddr().Port()
	close(ready)
	_, err := c.Ping(context.Background())
	if nr := asNoReply(t, err); nr.Probe != control.ProbeAnswered {
		t.Errorf("Probe = %v, want answered", nr.Probe)
	}
}

// TestNoReplyWithoutProbe: by default the client sends nothing beyond its
// attempts, and says so in Probe.
func TestNoReplyWithoutProbe(t *testing.T) {
	addr, got := quietDevice(t, func(netip.AddrPort, control.Command) bool { return false })
	c := dialClient(t, addr, control.ClientOptions{Timeout: 50 * time.Millisecond, Retries: -1})
	_, err := c.Ping(context.Background())
	if nr := asNoReply(t, err); nr.Probe != control.ProbeNotSent {
		t.Errorf("Probe = %v, want not sent", nr.Probe)
	}
	// The attempt was read before the timeout ran out, so a probe, had one
	// been sent, would be in the channel by now or very soon.
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the device never read the attempt")
	}
	select {
	case cmd := <-got:
		t.Errorf("the device read %+v after the only attempt", cmd)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestNoReplyRefusedIPv6: the probe works for an IPv6 device too.
func TestNoReplyRefusedIPv6(t *testing.T) {
	l, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	addr := l.LocalAddr().String()
	l.Close()
	c := dialClient(t, addr, control.ClientOptions{Timeout: 50 * time.Millisecond, Retries: -1, Probe: true})
	_, err = c.Ping(context.Background())
	if nr := asNoReply(t, err); nr.Probe != control.ProbeRefused {
		t.Errorf("Probe = %v, want refused", nr.Probe)
	}
}

// TestClientChecksVerb: a reply with the command's id but another verb (a
// spoofed "id=42 ping" answered before the victim's "id=42 stop all") is
// not taken as the command's success.
func TestClientChecksVerb(t *testing.T) {
	srv := listen(t)
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			cmd, err := control.ParseCommand(buf[:n])
			if err != nil {
				continue
			}
			r := control.Reply{OK: true, ID: cmd.ID, Verb: control.VerbPing}
			_, _ = srv.WriteToUDPAddrPort([]byte(r.String()), from)
		}
	}()
	c := dialClient(t, srv.LocalAddr().String(), control.ClientOptions{Timeout: 50 * time.Millisecond, Retries: 1})
	_, err := c.Do(context.Background(), control.Command{ID: "42", Verb: control.VerbStop, Target: "all"})
	if nr := asNoReply(t, err); nr.BadReplies != 2 {
		t.Errorf("%d replies of another verb counted, want 2", nr.BadReplies)
	}
	if r, err := c.Ping(context.Background()); err != nil || r.Verb != control.VerbPing {
		t.Errorf("ping: %+v, %v", r, err)
	}
}

// Start and stop targets with a host name are resolved by the client: the
// daemon takes addresses only.
func TestClientResolvesTargets(t *testing.T) {
	dev := netip.MustParseAddrPort("127.0.0.1:7600")
	for in, want := range map[string]string{
		"localhost:9000": "127.0.0.1:9000", ":9000": ":9000", "all": "all", "": "", "10.1.2.3:5": "10.1.2.3:5",
	} {
		got, err := control.ResolveTarget(context.Background(), in, dev)
		if err != nil || got != want {
			t.Errorf("ResolveTarget(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := control.ResolveTarget(context.Background(), "no-such-host.invalid:9000", dev); err == nil {
		t.Error("an unknown host resolved")
	}
}
