package rig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/packetloop"
)

// DefaultTimeout ends a rig's stream after this long without a start
// packet: three of the one-per-second packets lost in a row.
const DefaultTimeout = 3 * time.Second

// Owner is the owner name of the streams a rig starts (control.Stream's
// Owner): with a key, a signed stop from a controller needs admin=1 to end
// a rig's stream, as for any stream it did not start.
const Owner = "rig"

// Target is where a rig's samples go: an address, or only a port on the
// address the rig's packets come from (ParseTarget ":PORT").
type Target struct {
	Addr     netip.AddrPort // the port alone when PortOnly
	PortOnly bool
}

// ParseTarget reads HOST:PORT (a literal address) or :PORT.
func ParseTarget(s string) (Target, error) {
	if p, ok := cutPort(s); ok {
		return Target{Addr: netip.AddrPortFrom(netip.Addr{}, p), PortOnly: true}, nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" {
		return Target{}, fmt.Errorf("rig: target %q: want HOST:PORT with a literal address, or :PORT for the rig's own address", s)
	}
	return Target{Addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}, nil
}

func cutPort(s string) (uint16, bool) {
	if len(s) < 2 || s[0] != ':' {
		return 0, false
	}
	p, err := strconv.ParseUint(s[1:], 10, 16)
	return uint16(p), err == nil && p != 0
}

// For is the destination of the samples a rig at from asks for.
func (t Target) For(from netip.AddrPort) netip.AddrPort {
	if t.PortOnly {
		return netip.AddrPortFrom(from.Addr().Unmap().WithZone(""), t.Addr.Port())
	}
	return t.Addr
}

func (t Target) String() string {
	if t.PortOnly {
		return ":" + strconv.Itoa(int(t.Addr.Port()))
	}
	return t.Addr.String()
}

// Config configures a Server. Zero fields take the documented defaults.
type Config struct {
	// Stream is started and stopped by the rig's packets; the daemon
	// adapts it so that the stream's samples are in the rig's layout.
	// Required.
	Stream control.Stream
	// Command reads the rig's packets. It defaults to DefaultCommand.
	Command *Command
	// To is where samples go; required.
	To Target
	// Timeout is the lease each start packet refreshes: silence longer
	// than it ends the stream. It defaults to DefaultTimeout.
	Timeout time.Duration
	// Allowed says whether an address may command (a rig's source) and be
	// streamed to (the target): the daemon's allow list. It defaults to
	// control.DefaultAllow (loopback).
	Allowed func(netip.Addr) bool
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Counters of the rig front-end. Every packet read is counted in Packets
// and in exactly one of the others.
type Counters struct {
	Packets     uint64
	Disallowed  uint64 // from a sender, or for a target, outside the allow list
	WrongLength uint64 // not the command's length
	NotMatching uint64 // without the match bytes
	Start       uint64 // start packets (the first starts, the rest refresh)
	Stop        uint64 // stop packets
	Ignored     uint64 // a value that is neither start nor stop
	Failed      uint64 // start packets the stream refused (full, socket error)
	// Not packets:
	Sessions uint64 // streams started
	Timeouts uint64 // streams ended by silence longer than Timeout
}

// Server is the rig's command goroutine. It blocks in ReadFrom on the
// rig socket and changes the stream only through Config.Stream.
type Server struct {
	cfg  Config
	log  *slog.Logger
	loop *packetloop.Loop
	mu   sync.Mutex // guards active
	// active holds the targets of the streams this rig started that have
	// not ended yet.
	active map[netip.AddrPort]bool

	packets, disallowed, wrongLength, notMatching, start, stop, ignored, failed, sessions, timeouts atomic.Uint64
	dropLog                                                                                         limiter
}

// NewServer checks cfg.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Stream == nil {
		return nil, errors.New("rig: server needs a stream")
	}
	if cfg.To.Addr.Port() == 0 {
		return nil, errors.New("rig: server needs a target (HOST:PORT or :PORT)")
	}
	if cfg.Command == nil {
		c, err := ParseCommand(DefaultCommand)
		if err != nil {
			return nil, err
		}
		cfg.Command = c
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("rig: timeout %v is negative", cfg.Timeout)
	}
	if cfg.Allowed == nil {
		cfg.Allowed = func(a netip.Addr) bool {
			for _, p := range control.DefaultAllow {
				if p.Contains(a.Unmap().WithZone("")) {
					return true
				}
			}
			return false
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{cfg: cfg, log: cfg.Logger, active: map[netip.AddrPort]bool{}, loop: packetloop.New("rig", ErrServerClosed)}, nil
}

// ErrServerClosed is what Serve returns after Shutdown or the end of its
// context.
var ErrServerClosed = errors.New("rig: server closed")

// Serve reads rig packets from conn until ctx ends or Shutdown is called;
// it then returns ErrServerClosed. Bad packets are counted and skipped;
// only a broken socket ends the loop early, with that error. Serve does
// not close conn, and serves once.
func (s *Server) Serve(ctx context.Context, conn net.PacketConn) error {
	udp, _ := conn.(*net.UDPConn)
	buf := make([]byte, MaxPacketLen+1) // one more byte tells a longer packet
	var from netip.AddrPort
	read := func() (n int, err error) {
		if udp != nil {
			n, from, err = udp.ReadFromUDPAddrPort(buf)
			return n, err
		}
		var a net.Addr
		n, a, err = conn.ReadFrom(buf)
		from = netip.AddrPort{}
		if ua, ok := a.(*net.UDPAddr); ok {
			from = ua.AddrPort()
		}
		return n, err
	}
	return s.loop.Serve(ctx, conn, read, func(n int) { s.handle(buf[:n], from) })
}

// Shutdown stops Serve: the packet being handled is finished, no further
// one is read, and Shutdown waits for Serve to return. It returns
// ctx.Err() if ctx ends first. The streams are left as they are (the
// sender ends them); the socket stays open for its owner to close.
func (s *Server) Shutdown(ctx context.Context) error { return s.loop.Shutdown(ctx) }

func (s *Server) handle(pkt []byte, from netip.AddrPort) {
	s.packets.Add(1)
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	// Nothing is ever sent back to a rig packet's source but samples to
	// an allowed target: a spoofed source cannot aim anything.
	if !s.cfg.Allowed(from.Addr()) {
		s.drop(&s.disallowed, "rig packet from a sender outside the allow list dropped", from)
		return
	}
	act, err := s.cfg.Command.Decode(pkt)
	switch {
	case errors.Is(err, ErrWrongLength):
		s.drop(&s.wrongLength, "rig packet of the wrong length dropped", from, "len", len(pkt), "want", s.cfg.Command.Len)
		return
	case errors.Is(err, ErrNotMatching):
		s.drop(&s.notMatching, "rig packet without the match bytes dropped", from)
		return
	}
	to := s.cfg.To.For(from)
	switch act {
	case ActionStart:
		if !s.cfg.Allowed(to.Addr()) {
			s.drop(&s.disallowed, "rig start for a target outside the allow list dropped", from, "to", to)
			return
		}
		// Counted once acted on: Counters then never runs ahead of the
		// stream (the arm64 CI pass saw the stop counted, not yet made).
		s.startStream(from, to)
		s.start.Add(1)
	case ActionStop:
		s.stopStream(from, to)
		s.stop.Add(1)
	default:
		s.ignored.Add(1)
	}
}

func (s *Server) startStream(from, to netip.AddrPort) {
	res, err := s.cfg.Stream.Start(control.StartRequest{Target: to, Lease: s.cfg.Timeout, Owner: Owner})
	if err != nil {
		s.failed.Add(1)
		if s.dropLog.allow(time.Now()) {
			msg := "stream refused"
			var ce *control.CommandError
			if errors.As(err, &ce) {
				msg = ce.Message
			}
			s.log.Warn("rig start failed", "from", from, "to", to, "why", msg, "err", err)
		}
		return
	}
	s.mu.Lock()
	s.active[to] = true
	s.mu.Unlock()
	if res.Created {
		s.sessions.Add(1)
		s.log.Info("rig stream started", "reason", "start packet", "from", from, "to", to, "timeout", s.cfg.Timeout)
	}
}

func (s *Server) stopStream(from, to netip.AddrPort) {
	s.mu.Lock()
	active := s.active[to]
	delete(s.active, to)
	s.mu.Unlock()
	// A rig sends stop every second while idle: only a stop that ends a
	// stream is worth a line.
	if active && s.cfg.Stream.Stop(to) == nil {
		s.log.Info("rig stream stopped", "reason", "stop packet", "from", from, "to", to)
	}
}

// Ended tells the server that the stream to target ended for reason (the
// daemon hears it from the sender); expired says it ended by its lease,
// that is by silence longer than Timeout. It is safe to call for any
// target: streams this rig did not start are ignored.
func (s *Server) Ended(target netip.AddrPort, expired bool, reason string) {
	s.mu.Lock()
	active := s.active[target]
	delete(s.active, target)
	s.mu.Unlock()
	if !active {
		return
	}
	if expired {
		s.timeouts.Add(1)
		s.log.Info("rig stream stopped", "reason", "no start packet for longer than the timeout", "to", target, "timeout", s.cfg.Timeout)
		return
	}
	s.log.Info("rig stream stopped", "reason", reason, "to", target)
}

// Streaming reports whether a stream this rig started is on.
func (s *Server) Streaming() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.active) > 0
}

// Counters returns a snapshot of the counters.
func (s *Server) Counters() Counters {
	return Counters{
		Packets: s.packets.Load(), Disallowed: s.disallowed.Load(), WrongLength: s.wrongLength.Load(),
		NotMatching: s.notMatching.Load(), Start: s.start.Load(), Stop: s.stop.Load(), Ignored: s.ignored.Load(),
		Failed: s.failed.Load(), Sessions: s.sessions.Load(), Timeouts: s.timeouts.Load(),
	}
}

// Status is the rig's part of the status reply.
func (s *Server) Status() []control.Field {
	c := s.Counters()
	state := "idle"
	if s.Streaming() {
		state = "streaming"
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	return []control.Field{
		{Key: "rig", Value: state},
		{Key: "rig_to", Value: s.cfg.To.String()},
		{Key: "rig_packets", Value: u(c.Packets)},
		{Key: "rig_start", Value: u(c.Start)},
		{Key: "rig_stop", Value: u(c.Stop)},
		{Key: "rig_sessions", Value: u(c.Sessions)},
		{Key: "rig_timeouts", Value: u(c.Timeouts)},
		{Key: "rig_wrong_length", Value: u(c.WrongLength)},
		{Key: "rig_not_matching", Value: u(c.NotMatching)},
		{Key: "rig_disallowed", Value: u(c.Disallowed)},
		{Key: "rig_ignored", Value: u(c.Ignored)},
		{Key: "rig_failed", Value: u(c.Failed)},
	}
}

func (s *Server) drop(c *atomic.Uint64, msg string, from netip.AddrPort, args ...any) {
	c.Add(1)
	if s.dropLog.allow(time.Now()) {
		s.log.Warn(msg, append([]any{"from", from}, args...)...)
	}
}

// limiter lets one log line a second through, so a flood of bad packets
// cannot fill the journal; the counters stay exact.
type limiter struct {
	mu   sync.Mutex
	last time.Time
}

func (l *limiter) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < time.Second {
		return false
	}
	l.last = now
	return true
}
