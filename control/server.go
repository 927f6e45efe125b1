package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/imustream/imustream/telemetry"
)

// DefaultAllow is the allow list when none is configured: this machine only.
var DefaultAllow = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
}

// ServerConfig configures the command goroutine. Zero fields take the
// documented defaults.
type ServerConfig struct {
	Conn   *net.UDPConn           // the control socket; required
	Subs   *telemetry.Subscribers // required
	Sender *telemetry.Sender      // required, for status
	// Allow lists the networks commands are accepted from, and that
	// streams may go to. It defaults to DefaultAllow.
	Allow []netip.Prefix
	// DefaultLease applies to a start without lease=; 0 means none.
	DefaultLease time.Duration
	Sensor       string // named in status replies
	Version      string // named in status and ping replies
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Resolve looks up a HOST of a start target; it defaults to
	// net.DefaultResolver with a one-second timeout.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// Counters of the command goroutine. Every packet is counted exactly once:
// Accepted + Repeated + NotAllowed + Oversized + Malformed = packets read.
type Counters struct {
	Accepted   uint64 // executed commands, including ones answered with err
	Repeated   uint64 // repeated request ids, answered from the cache
	NotAllowed uint64 // dropped silently: sender outside the allow list
	Oversized  uint64 // dropped silently: longer than MaxCommandLen
	Malformed  uint64 // not a valid command (text gets an err reply)
}

// Server is the command goroutine: it blocks in ReadFrom on the control
// socket and changes the stream only through the subscriber set's atomics.
type Server struct {
	cfg   ServerConfig
	allow atomic.Pointer[[]netip.Prefix]
	log   *slog.Logger
	start time.Time
	cache replyCache

	accepted, repeated, notAllowed, oversized, malformed atomic.Uint64
	lastDropLog                                          time.Time
}

// NewServer checks cfg.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Conn == nil || cfg.Subs == nil || cfg.Sender == nil {
		return nil, errors.New("control: server needs a socket, a subscriber set and a sender")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Resolve == nil {
		cfg.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	s := &Server{cfg: cfg, log: cfg.Logger, start: time.Now()}
	s.SetAllow(cfg.Allow)
	return s, nil
}

// SetAllow replaces the allow list; safe while serving (SIGHUP reload).
func (s *Server) SetAllow(p []netip.Prefix) {
	if len(p) == 0 {
		p = DefaultAllow
	}
	p = append([]netip.Prefix(nil), p...)
	s.allow.Store(&p)
}

// Allow returns the allow list in force.
func (s *Server) Allow() []netip.Prefix { return *s.allow.Load() }

func (s *Server) allowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range *s.allow.Load() {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Counters returns a snapshot of the counters.
func (s *Server) Counters() Counters {
	return Counters{
		Accepted:   s.accepted.Load(),
		Repeated:   s.repeated.Load(),
		NotAllowed: s.notAllowed.Load(),
		Oversized:  s.oversized.Load(),
		Malformed:  s.malformed.Load(),
	}
}

// Serve reads commands until the socket is closed, then returns nil.
// Errors that mean a bad packet are counted and skipped; only a broken
// socket ends the loop.
func (s *Server) Serve() error {
	buf := make([]byte, MaxCommandLen+1) // one more byte detects oversize
	for {
		n, from, err := s.cfg.Conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("control: read: %w", err)
		}
		s.handle(buf[:n], from)
	}
}

func (s *Server) handle(pkt []byte, from netip.AddrPort) {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	// No reply to strangers: a spoofed source must not turn the daemon
	// into a reflector.
	if !s.allowed(from.Addr()) {
		s.notAllowed.Add(1)
		s.logDrop("command from a sender outside the allow list dropped", from)
		return
	}
	if len(pkt) > MaxCommandLen {
		s.oversized.Add(1)
		s.logDrop("oversized command dropped", from)
		return
	}
	cmd, err := ParseCommand(pkt)
	if err != nil {
		s.malformed.Add(1)
		if errors.Is(err, ErrNotText) {
			return
		}
		code := CodeBadRequest
		if errors.Is(err, ErrUnknown) {
			code = CodeUnknownCommand
		}
		s.reply(from, Reply{ID: cmd.ID, Verb: code, Message: strings.TrimPrefix(err.Error(), "control: ")})
		return
	}
	if cmd.ID != "" {
		if r, ok := s.cache.get(from, cmd.ID); ok {
			s.repeated.Add(1)
			s.send(from, r)
			return
		}
	}
	s.accepted.Add(1)
	r := s.execute(cmd, from)
	r.ID = cmd.ID
	b := []byte(r.String())
	if cmd.ID != "" {
		s.cache.put(from, cmd.ID, b)
	}
	s.send(from, b)
}

func (s *Server) reply(to netip.AddrPort, r Reply) { s.send(to, []byte(r.String())) }

func (s *Server) send(to netip.AddrPort, b []byte) {
	if _, err := s.cfg.Conn.WriteToUDPAddrPort(b, to); err != nil {
		s.log.Warn("control: reply failed", "to", to, "err", err)
	}
}

// logDrop logs at most once a second: a flood must not fill the journal.
func (s *Server) logDrop(msg string, from netip.AddrPort) {
	if now := time.Now(); now.Sub(s.lastDropLog) >= time.Second {
		s.lastDropLog = now
		c := s.Counters()
		s.log.Warn(msg, "from", from, "not_allowed", c.NotAllowed, "oversized", c.Oversized)
	}
}

func errReply(verb, code string, err error) Reply {
	return Reply{Verb: code, Message: verb + ": " + strings.TrimPrefix(err.Error(), "telemetry: ")}
}

func (s *Server) execute(cmd Command, from netip.AddrPort) Reply {
	switch cmd.Verb {
	case VerbStart:
		to, err := s.target(cmd.Target, from)
		if err != nil {
			return errReply(cmd.Verb, CodeBadTarget, err)
		}
		if !s.allowed(to.Addr()) {
			return Reply{Verb: CodeNotAllowed, Message: "start: " + to.String() + " is outside the allow list"}
		}
		lease := cmd.Lease
		if lease == 0 {
			lease = s.cfg.DefaultLease
		}
		var expires int64
		if lease > 0 {
			expires = telemetry.MonoClock{}.Now() + int64(lease)
		}
		created, err := s.cfg.Subs.Start(to, expires)
		if err != nil {
			code := CodeBadTarget
			if errors.Is(err, telemetry.ErrFull) {
				code = CodeFull
			}
			return errReply(cmd.Verb, code, err)
		}
		if created {
			s.log.Info("stream started", "to", to, "by", from, "lease", lease)
		}
		leaseStr := "none"
		if lease > 0 {
			leaseStr = lease.String()
		}
		return Reply{OK: true, Verb: cmd.Verb, Fields: []Field{
			{"to", to.String()}, {"lease", leaseStr}, {"new", strconv.FormatBool(created)},
			{"subscribers", strconv.Itoa(len(s.cfg.Subs.List()))},
		}}
	case VerbStop:
		if cmd.Target == "all" {
			n := s.cfg.Subs.StopAll()
			s.log.Info("all streams stopped", "by", from, "count", n)
			return Reply{OK: true, Verb: cmd.Verb, Fields: []Field{{"stopped", strconv.Itoa(n)}}}
		}
		to, err := s.target(cmd.Target, from)
		if err != nil {
			return errReply(cmd.Verb, CodeBadTarget, err)
		}
		if err := s.cfg.Subs.Stop(to); err != nil {
			return errReply(cmd.Verb, CodeNotSubscribed, err)
		}
		s.log.Info("stream stopped", "to", to, "by", from)
		return Reply{OK: true, Verb: cmd.Verb, Fields: []Field{{"to", to.String()}, {"stopped", "1"}}}
	case VerbStatus:
		return s.status()
	default: // VerbPing; ParseCommand admits no other verb
		return Reply{OK: true, Verb: cmd.Verb, Fields: []Field{{"version", s.cfg.Version}}}
	}
}

// target resolves a start/stop target against the sender's address.
func (s *Server) target(t string, from netip.AddrPort) (netip.AddrPort, error) {
	if t == "" {
		return from, nil
	}
	host, portStr, err := net.SplitHostPort(t)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("target %q is not HOST:PORT or :PORT: %w", t, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, fmt.Errorf("target %q: port must be 1..65535", t)
	}
	if host == "" {
		return netip.AddrPortFrom(from.Addr(), uint16(port)), nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap().WithZone(""), uint16(port)), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	addrs, err := s.cfg.Resolve(ctx, host)
	if err != nil || len(addrs) == 0 {
		return netip.AddrPort{}, fmt.Errorf("target host %q does not resolve: %v", host, err)
	}
	// Prefer an address the allow list admits, so a dual-stack name works.
	for _, a := range addrs {
		if s.allowed(a) {
			return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
		}
	}
	return netip.AddrPortFrom(addrs[0].Unmap(), uint16(port)), nil
}

func (s *Server) status() Reply {
	st := s.cfg.Sender.Stats()
	c := s.Counters()
	state := "idle"
	if st.Streaming {
		state = "streaming"
	}
	subs := s.cfg.Subs.List()
	targets := make([]string, 0, len(subs))
	for _, sub := range subs {
		targets = append(targets, sub.Target.String())
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	return Reply{OK: true, Verb: VerbStatus, Fields: []Field{
		{"state", state},
		{"subscribers", strconv.Itoa(len(subs))},
		{"to", strings.Join(targets, ",")},
		{"session", fmt.Sprintf("%08x", st.Session)},
		{"seq", strconv.FormatUint(uint64(st.NextSeq), 10)},
		{"rate", strconv.Itoa(st.RateHz)},
		{"batch", strconv.Itoa(st.Batch)},
		{"sensor", s.cfg.Sensor},
		{"ticks", u(st.Ticks)},
		{"datagrams", u(st.Datagrams)},
		{"late", u(st.Late)},
		{"skipped", u(st.Skipped)},
		{"max_late_us", strconv.FormatInt(st.MaxLateNs/1000, 10)},
		{"sensor_errors", u(st.SensorErrors)},
		{"send_errors", u(st.SendErrors)},
		{"pruned", u(st.Pruned)},
		{"expired", u(st.Expired)},
		{"cmd_accepted", u(c.Accepted)},
		{"cmd_repeated", u(c.Repeated)},
		{"drop_not_allowed", u(c.NotAllowed)},
		{"drop_oversized", u(c.Oversized)},
		{"drop_malformed", u(c.Malformed)},
		{"uptime", time.Since(s.start).Round(time.Second).String()},
		{"version", s.cfg.Version},
	}}
}

// replyCache remembers the latest replies by sender and request id, so a
// retried command is answered again instead of executed again. Only the
// command goroutine touches it.
type replyCache struct {
	keys [64]cacheKey
	vals [64][]byte
	next int
}

type cacheKey struct {
	from netip.AddrPort
	id   string
}

func (c *replyCache) get(from netip.AddrPort, id string) ([]byte, bool) {
	k := cacheKey{from, id}
	for i := range c.keys {
		if c.keys[i] == k {
			return c.vals[i], true
		}
	}
	return nil, false
}

func (c *replyCache) put(from netip.AddrPort, id string, b []byte) {
	c.keys[c.next] = cacheKey{from, id}
	c.vals[c.next] = b
	c.next = (c.next + 1) % len(c.keys)
}
