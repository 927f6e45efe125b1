package bench

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// peerRun is the peer streamer (Config.Peer) and its stream.
type peerRun struct {
	p    *child
	rx   *tsConn
	addr netip.AddrPort // where it listens for start and stop
	rec  *streamRec
	done chan struct{} // closed when receive returns
}

// startPeer starts the peer listening on a free loopback port, starts its
// stream to a socket of the bench's own and a goroutine that records it.
func (s *session) startPeer(lo netip.AddrPort, frames int) error {
	prx, err := listenTS(lo)
	if err != nil {
		return err
	}
	s.onClose(func() { prx.Close() })
	addr, err := freePort()
	if err != nil {
		return err
	}
	args := []string{"-listen", addr.String(), "-period-us", strconv.Itoa(1_000_000 / s.c.RateHz),
		"-prio", strconv.Itoa(s.c.RTPriority)}
	p, err := startProcess("peer", s.c.Peer, args)
	if err != nil {
		return err
	}
	s.onClose(func() { p.stop(syscall.SIGKILL, time.Second) })
	pr := &peerRun{p: p, rx: prx, addr: addr, rec: newStreamRec(frames), done: make(chan struct{})}
	// The peer binds after it starts: "start" until its first datagram.
	for giveUp := time.Now().Add(5 * time.Second); ; {
		if err := pr.send("start"); err != nil {
			return err
		}
		b, _, ts, err := prx.read(time.Now().Add(100 * time.Millisecond))
		if err == nil {
			pr.rec.addPeer(b, ts)
			break
		}
		if !isTimeout(err) {
			return err
		}
		select {
		case <-p.done:
			return fmt.Errorf("bench: peer exited (%v):\n%s", p.err, p.stderrTail())
		default:
		}
		if time.Now().After(giveUp) {
			return fmt.Errorf("bench: no datagram from the peer %s 5 s after start:\n%s", s.c.Peer, p.stderrTail())
		}
	}
	s.peer = pr
	go pr.receive()
	return nil
}

func (pr *peerRun) send(cmd string) error {
	if _, err := pr.rx.WriteToUDPAddrPort([]byte(cmd+"\n"), pr.addr); err != nil {
		return fmt.Errorf("bench: peer %s: %w", cmd, err)
	}
	return nil
}

// receive records the peer's stream until rx is closed.
func (pr *peerRun) receive() {
	defer close(pr.done)
	for {
		b, _, ts, err := pr.rx.read(time.Time{})
		if err != nil {
			return
		}
		pr.rec.addPeer(b, ts)
	}
}

// end stops the peer's stream and its reader.
func (pr *peerRun) end() {
	_ = pr.send("stop")
	// The peer sends no end marker: what it sent before the stop has
	// arrived well within 50 ms on loopback.
	time.Sleep(50 * time.Millisecond)
	pr.rx.Close()
	<-pr.done
}

// freePort returns a loopback UDP address nobody listens on right now.
func freePort() (netip.AddrPort, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bench: %w", err)
	}
	defer c.Close()
	a, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok {
		return netip.AddrPort{}, errors.New("bench: no UDP address")
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(a.Port)), nil
}
