package control

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/imustream/imustream/internal/packetloop"
	"github.com/imustream/imustream/internal/rt"
)

// DefaultAllow is the allow list when none is configured: this machine only.
var DefaultAllow = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
}

// Stream is what commands change: the set of destinations the daemon
// streams to. The control package declares it and the daemon adapts its
// sender to it, so this package knows nothing of the telemetry. Its methods
// must be safe for concurrent use (SetAllow runs on the reload goroutine).
//
// An error from Start or Stop that is a *CommandError is answered with its
// code and message; any other is logged and answered as a bad target.
type Stream interface {
	// Start subscribes the request's target, or refreshes it if it is
	// subscribed already.
	Start(StartRequest) (StartResult, error)
	// Stop ends target's stream, on a stop command.
	Stop(target netip.AddrPort) error
	// Disallow ends target's stream because the allow list no longer
	// admits it.
	Disallow(target netip.AddrPort) error
	// StopAll ends every stream that owner started ("" for every stream)
	// and reports how many there were.
	StopAll(owner string) int
	// Owner names who started target's stream: the sender name of its
	// signed start, "" for an unsigned one; ok is false when there is no
	// stream to target.
	Owner(target netip.AddrPort) (owner string, ok bool)
	// Targets lists the destinations streamed to.
	Targets() []netip.AddrPort
}

// StartRequest is a start command as the stream sees it.
type StartRequest struct {
	Target netip.AddrPort
	// Local is the address the start came to when the daemon listens on
	// the wildcard address (invalid otherwise): the stream should send
	// from it, the address the client talks to and takes datagrams from.
	Local netip.Addr
	// Lease 0 (none given) keeps a subscriber's lease and gives a new one
	// the stream's default.
	Lease time.Duration
	// Owner is the sender name of a signed start; it alone may refresh or
	// stop the stream it starts (docs/protocol.md). "" for an unsigned one.
	Owner string
	// Auth, for a signed start (always with a key), says how the stream's
	// datagrams are tagged (docs/protocol.md, "Authentication tag"): the
	// stream key derives from Key and Nonce. A refresh keeps the tag of
	// the stream it refreshes.
	Auth *StartAuth
}

// StartAuth is the shared key and the nonce of a signed start.
type StartAuth struct {
	Key   Key
	Nonce [NonceLen]byte
}

// NonceLen is the length of a signed start's nonce= (hex on the wire).
const NonceLen = 16

// StartResult is what the stream did.
type StartResult struct {
	Created bool           // a new subscriber, not a refresh
	Lease   time.Duration  // the lease in force, 0 for none
	Source  netip.AddrPort // the address the datagrams come from
	Tagged  bool           // the datagrams carry an authentication tag
}

// ServerConfig configures the command goroutine. Zero fields take the
// documented defaults.
type ServerConfig struct {
	Stream Stream // required
	// Status returns the fields the status reply starts with (the state of
	// the stream and the sensor); the server appends its own counters. It
	// defaults to none.
	Status func() []Field
	// Allow lists the networks commands are accepted from, and that
	// streams may go to. It defaults to DefaultAllow.
	Allow   []netip.Prefix
	Version string // named in status and ping replies
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Key, when set, makes the server accept only signed, fresh commands
	// and sign its replies (docs/protocol.md). It defaults to nil: the
	// allow list is the only check.
	Key *Key
}

// Counters of the command goroutine. Every packet is counted exactly once:
// Accepted + Repeated + NotAllowed + Oversized + Malformed + Replies +
// Unsigned + BadSig + Replayed + WrongBoot + SenderLimit = packets read.
type Counters struct {
	Accepted   uint64 // executed commands, including ones answered with err
	Repeated   uint64 // repeated request ids, answered from the cache
	NotAllowed uint64 // dropped silently: sender outside the allow list
	Replies    uint64 // dropped silently: a reply (ok …, err …), not a command
	Oversized  uint64 // dropped silently: longer than MaxCommandLen
	Malformed  uint64 // not a valid command (text may get a short err reply)
	// Dropped silently when a key is set:
	Unsigned    uint64 // no sig=
	BadSig      uint64 // wrong tag, or from=/ts= missing or invalid
	Replayed    uint64 // ts not above the last one accepted from that sender
	WrongBoot   uint64 // signed for another boot of the daemon
	SenderLimit uint64 // a new sender name while MaxSenders are known
}

// Server is the command goroutine: it blocks in ReadFrom on the control
// socket and changes the stream only through the subscriber set's atomics.
type Server struct {
	cfg    ServerConfig
	loop   *packetloop.Loop
	allow  atomic.Pointer[[]netip.Prefix]
	key    atomic.Pointer[Key]
	replay *ReplayState
	log    *slog.Logger
	start  time.Time
	cache  replyCache
	// dst is the address the command being handled came to, on a socket
	// of the wildcard address (see enablePktInfo); only Serve's goroutine
	// touches it. Invalid: replies leave from the socket's address.
	dst netip.Addr

	accepted, repeated, notAllowed, oversized, malformed, replies atomic.Uint64
	unsigned, badSig, replayed, wrongBoot, senderLimit            atomic.Uint64
	dropLog, failLog, infoLog                                     rateLimit
}

// NewServer checks cfg.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Stream == nil {
		return nil, errors.New("control: server needs a stream")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, start: time.Now(), replay: NewReplayState(), loop: packetloop.New("control", ErrServerClosed),
		dropLog: rateLimit{burst: 1}, failLog: rateLimit{burst: 1}, infoLog: rateLimit{burst: 20}}
	s.SetAllow(cfg.Allow)
	s.SetKey(cfg.Key)
	return s, nil
}

// SetAllow replaces the allow list and ends the streams to targets outside
// the new one; safe while serving (SIGHUP reload). It returns the targets
// whose streams it ended.
func (s *Server) SetAllow(p []netip.Prefix) []netip.AddrPort {
	if len(p) == 0 {
		p = DefaultAllow
	}
	p = append([]netip.Prefix(nil), p...)
	s.allow.Store(&p)
	// A start racing this finds the new list when it checks again after
	// subscribing (see execute), so no stream outside it survives.
	var ended []netip.AddrPort
	for _, t := range s.cfg.Stream.Targets() {
		if !s.allowed(t.Addr()) && s.cfg.Stream.Disallow(t) == nil {
			ended = append(ended, t)
		}
	}
	return ended
}

// SetKey replaces the command key (nil: no authentication); safe while
// serving. The replay windows belong to sender names, not keys, and stay.
func (s *Server) SetKey(k *Key) {
	if k != nil {
		own := *k // the caller's copy may change
		k = &own
	}
	s.key.Store(k)
}

// Authenticated reports whether commands must be signed.
func (s *Server) Authenticated() bool { return s.key.Load() != nil }

// Allow returns the allow list in force.
func (s *Server) Allow() []netip.Prefix { return *s.allow.Load() }

// allowed reports whether the allow list admits a, a sender or a target.
// A zone is ignored (fe80::2%eth0 is matched as fe80::2). A multicast or
// broadcast address is admitted only by an entry that is itself one (say
// 239.1.2.3/32 or 224.0.0.0/4), not by a wide network that happens to
// contain it: a stream to a group reaches every host in it.
func (s *Server) allowed(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	group := isGroup(a)
	for _, p := range *s.allow.Load() {
		if p.Contains(a) && (!group || isGroup(p.Addr())) {
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
		Replies:    s.replies.Load(),

		Unsigned:    s.unsigned.Load(),
		BadSig:      s.badSig.Load(),
		Replayed:    s.replayed.Load(),
		WrongBoot:   s.wrongBoot.Load(),
		SenderLimit: s.senderLimit.Load(),
	}
}

// ErrServerClosed is what Serve returns after Shutdown or the end of its
// context.
var ErrServerClosed = errors.New("control: server closed")

// Serve reads commands from conn and answers them, until ctx ends or
// Shutdown is called; it then returns ErrServerClosed. Errors that mean a
// bad packet are counted and skipped; only a broken socket ends the loop
// early, with that error. Serve does not close conn: the caller owns it
// (it may come from systemd's socket activation). A Server serves once.
func (s *Server) Serve(ctx context.Context, conn net.PacketConn) error {
	udp, _ := conn.(*net.UDPConn)        // reads without allocating
	buf := make([]byte, MaxCommandLen+1) // one more byte detects oversize
	// The kernel's arrival times make a time command's T2 independent of
	// how soon this goroutine wakes.
	var oob []byte
	if udp != nil && enableRxStamps(udp) {
		oob = make([]byte, rxStampOOB)
	}
	if udp != nil && enablePktInfo(udp) {
		oob = make([]byte, len(oob)+pktInfoOOB)
	}
	var from netip.AddrPort
	var rx [2]int64
	read := func() (n int, err error) {
		var oobn int
		if udp != nil {
			n, oobn, _, from, err = udp.ReadMsgUDPAddrPort(buf, oob)
		} else {
			var a net.Addr
			n, a, err = conn.ReadFrom(buf)
			from = netip.AddrPort{}
			if ua, ok := a.(*net.UDPAddr); ok {
				from = ua.AddrPort()
			}
		}
		rx = stamp() // a time command's T2, as close to the socket as can be
		if kernel, ok := rxStamp(oob[:oobn]); ok {
			rx = [2]int64{rx[0] - (rx[1] - kernel), kernel}
		}
		s.dst = pktDst(oob[:oobn])
		return n, err
	}
	return s.loop.Serve(ctx, conn, read, func(n int) { s.handle(buf[:n], from, rx) })
}

// Shutdown stops Serve: the command being handled, if any, is finished
// and answered, no further command is read, and Shutdown waits for Serve
// to return. It returns ctx.Err() if ctx ends first, nil otherwise. The
// streams are left as they are: ending them is the sender's job. The
// socket stays open for its owner to close.
func (s *Server) Shutdown(ctx context.Context) error { return s.loop.Shutdown(ctx) }

// stamp reads the daemon's two clocks at once, as the sender does for a
// sample's t_mono_ns and t_wall_ns.
func stamp() [2]int64 {
	mono, wall := rt.Stamp()
	return [2]int64{mono, wall}
}

func (s *Server) handle(pkt []byte, from netip.AddrPort, rx [2]int64) {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	// No reply to strangers: a spoofed source must not turn the daemon
	// into a reflector.
	if !s.allowed(from.Addr()) {
		s.drop(&s.notAllowed, "command from a sender outside the allow list dropped", from)
		return
	}
	if len(pkt) > MaxCommandLen {
		s.drop(&s.oversized, "oversized command dropped", from)
		return
	}
	if !IsText(pkt) {
		s.drop(&s.malformed, "binary datagram on the control port dropped", from)
		return
	}
	if IsReply(pkt) {
		// Answering a reply is how two daemons ping-pong forever.
		s.drop(&s.replies, "reply on the control port dropped", from)
		return
	}
	if bytes.Contains(pkt, []byte(VerbHello)) {
		// Unsigned even with a key: it is how a client learns the boot
		// nonce its signed commands must carry.
		if cmd, err := ParseCommand(pkt); err == nil && cmd.Verb == VerbHello {
			s.accepted.Add(1)
			s.replyLimited(from, nil, s.helloReply(cmd), len(pkt)+1)
			return
		}
	}
	body := pkt
	var sg *signer
	if key := s.key.Load(); key != nil {
		if sg = s.authenticate(key, pkt, from); sg == nil {
			return
		}
		body = sg.body
	}
	cmd, err := ParseCommand(body)
	if err != nil {
		s.malformed.Add(1)
		r := Reply{ID: cmd.ID, Verb: CodeBadRequest}
		var ce *CommandError
		if errors.As(err, &ce) {
			r.Verb, r.Message = ce.Code, ce.Message
		}
		s.replyLimited(from, sg, r, len(pkt))
		return
	}
	name := ""
	if sg != nil {
		name = sg.name
	}
	// Time replies are never cached: a repeat must read the clocks anew,
	// and ten exchanges a second must not push the starts and stops out.
	cached := cmd.ID != "" && cmd.Verb != VerbTime
	if cached {
		if r, ok := s.cache.get(name, from, cmd.ID, cmd.Verb); ok {
			s.repeated.Add(1)
			s.send(from, r, sg)
			return
		}
	}
	s.accepted.Add(1)
	r := s.execute(cmd, from, sg, rx)
	r.ID = cmd.ID
	b := r.body()
	if cached {
		s.cache.put(name, from, cmd.ID, cmd.Verb, b)
	}
	s.send(from, b, sg)
}

// signer is what an authenticated command leaves for its reply.
type signer struct {
	key  *Key
	tag  Tag
	name string
	body []byte // the signed bytes: the command without " sig=…"
}

// authenticate checks the tag and the replay window; it counts and drops
// (nil) anything that is not a fresh command signed with key. Nothing that
// fails here is answered: a reply would let anyone who can spoof an
// allowed address aim the daemon's replies at it.
func (s *Server) authenticate(key *Key, pkt []byte, from netip.AddrPort) *signer {
	body, tag, err := key.VerifyCommand(pkt)
	switch {
	case errors.Is(err, ErrUnsigned):
		s.drop(&s.unsigned, "unsigned command dropped", from)
		return nil
	case err != nil:
		s.drop(&s.badSig, "command with a wrong signature dropped", from)
		return nil
	}
	name, ts, boot, err := authArgs(body)
	if err != nil {
		s.drop(&s.badSig, "signed command without a valid from=, ts= and boot= dropped", from)
		return nil
	}
	now := s.mono()
	switch s.replay.check(name, boot, ts, now) {
	case replayed:
		s.drop(&s.replayed, "replayed command dropped", from)
		return nil
	case wrongBoot:
		s.drop(&s.wrongBoot, "command signed for another boot of the daemon dropped (a capture, or a client that has not said hello since the restart)", from)
		return nil
	case tooMany:
		s.drop(&s.senderLimit, "sender limit: a new sender name while "+strconv.Itoa(MaxSenders)+" are in use dropped", from)
		return nil
	}
	s.replay.accept(name, ts, now)
	return &signer{key: key, tag: tag, name: name, body: body}
}

// authArgs finds from=, ts= and boot=, each exactly once, in a signed
// command.
func authArgs(body []byte) (name string, ts uint64, boot string, err error) {
	var haveFrom, haveTS, haveBoot bool
	for _, f := range strings.Fields(string(body)) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "from":
			if haveFrom || checkFrom(v) != nil {
				return "", 0, "", ErrBadAuthArgs
			}
			name, haveFrom = v, true
		case "ts":
			n, err := strconv.ParseUint(v, 10, 64)
			if haveTS || err != nil || n == 0 {
				return "", 0, "", ErrBadAuthArgs
			}
			ts, haveTS = n, true
		case "boot":
			if haveBoot || !isHex(v, BootLen) {
				return "", 0, "", ErrBadAuthArgs
			}
			boot, haveBoot = v, true
		}
	}
	if !haveFrom || !haveTS || !haveBoot {
		return "", 0, "", ErrBadAuthArgs
	}
	return name, ts, boot, nil
}

// drop counts a packet dropped without a reply and logs it, at most once
// a second: a flood must not fill the journal, the counters stay exact.
func (s *Server) drop(c *atomic.Uint64, msg string, from netip.AddrPort) {
	c.Add(1)
	if !s.dropLog.allow(time.Now()) {
		return
	}
	k := s.Counters()
	s.log.Warn(msg, "from", from, "not_allowed", k.NotAllowed, "oversized", k.Oversized, "malformed", k.Malformed,
		"replies", k.Replies, "unsigned", k.Unsigned, "bad_sig", k.BadSig, "replayed", k.Replayed, "wrong_boot", k.WrongBoot, "sender_limit", k.SenderLimit)
}

// replyLimited answers with fewer than size bytes, or not at all: a
// command that does not parse gets a reply shorter than itself (junk with
// a spoofed source must not be amplified, and no exchange of malformed
// datagrams can go on by itself), a hello one no longer than itself. The
// message goes first, then the whole reply.
func (s *Server) replyLimited(to netip.AddrPort, sg *signer, r Reply, size int) {
	b := r.body()
	if wireLen(b, sg) >= size {
		r.Message = ""
		b = r.body()
	}
	if wireLen(b, sg) >= size {
		return
	}
	s.send(to, b, sg)
}

// wireLen is the length of a reply on the wire.
func wireLen(body string, sg *signer) int {
	if sg != nil {
		return len(body) + len(sigSep) + 2*TagLen + 1
	}
	return len(body) + 1
}

func (s *Server) send(to netip.AddrPort, body string, sg *signer) {
	var b []byte
	if sg != nil {
		b = AppendSigned(make([]byte, 0, wireLen(body, sg)), []byte(body), sg.key.ReplyTag(sg.tag, []byte(body)))
	} else {
		b = append([]byte(body), '\n')
	}
	var err error
	if udp, ok := s.socket().(*net.UDPConn); ok && s.dst.IsValid() {
		_, _, err = udp.WriteMsgUDPAddrPort(b, pktSrc(s.dst), to)
	} else {
		_, err = s.socket().WriteTo(b, net.UDPAddrFromAddrPort(to))
	}
	if err != nil && s.failLog.allow(time.Now()) {
		s.log.Warn("control: reply failed", "to", to, "err", err)
	}
}

// rateLimit lets a burst of log lines through, then one per second. Each
// is used by the command goroutine alone.
type rateLimit struct {
	burst  int
	tokens int
	last   time.Time
}

func (l *rateLimit) allow(now time.Time) bool {
	if l.last.IsZero() {
		l.tokens, l.last = l.burst, now
	}
	if d := now.Sub(l.last); d >= time.Second {
		l.tokens = min(l.burst, l.tokens+int(d/time.Second))
		l.last = now
	}
	if l.tokens == 0 {
		return false
	}
	l.tokens--
	return true
}

// helloReply tells the boot nonce, and whether commands must be signed.
func (s *Server) helloReply(cmd Command) Reply {
	auth := "none"
	if s.Authenticated() {
		auth = "hmac-sha256"
	}
	return Reply{OK: true, ID: cmd.ID, Verb: VerbHello, Fields: []Field{{"boot", s.replay.Boot()}, {"auth", auth}}}
}

// Boot returns the boot nonce signed commands must carry.
func (s *Server) Boot() string { return s.replay.Boot() }

// mono is the time since the server started, ns: the replay windows'
// clock.
func (s *Server) mono() int64 { return int64(time.Since(s.start)) }

// refusal answers a command that failed with err: a *CommandError with its
// code and message, anything else (the Stream's own failure) as a bad
// target, logged.
func (s *Server) refusal(verb string, err error) Reply {
	var ce *CommandError
	if errors.As(err, &ce) {
		return Reply{Verb: ce.Code, Message: verb + ": " + ce.Message}
	}
	if s.failLog.allow(time.Now()) {
		s.log.Warn("control: command failed", "verb", verb, "err", err)
	}
	return Reply{Verb: CodeBadTarget, Message: verb + ": failed"}
}

func notAllowed(to netip.AddrPort) Reply {
	return Reply{Verb: CodeNotAllowed, Message: "start: " + to.String() + " is outside the allow list"}
}

func (s *Server) execute(cmd Command, from netip.AddrPort, sg *signer, rx [2]int64) Reply {
	switch cmd.Verb {
	case VerbTime:
		tx := stamp()
		d := DeviceTimes{Rx: rx[0], Tx: tx[0], RxWall: rx[1], TxWall: tx[1]}
		return Reply{OK: true, Verb: cmd.Verb, Fields: d.Fields()}
	case VerbStart:
		to, err := s.target(cmd.Target, from)
		if err != nil {
			return s.refusal(cmd.Verb, err)
		}
		if !s.allowed(to.Addr()) {
			return notAllowed(to)
		}
		req := StartRequest{Target: to, Lease: cmd.Lease, Local: s.dst}
		if r, refused := s.notOwner(cmd, to, sg); refused {
			return r
		}
		if sg != nil {
			req.Owner = sg.name
			if cmd.Nonce == "" {
				return Reply{Verb: CodeBadRequest, Message: "start: a signed start needs nonce= (docs/protocol.md, Authentication tag)"}
			}
			req.Auth = &StartAuth{Key: *sg.key}
			_, _ = hex.Decode(req.Auth.Nonce[:], []byte(cmd.Nonce)) // checked by ParseCommand
		}
		res, err := s.cfg.Stream.Start(req)
		if err != nil {
			return s.refusal(cmd.Verb, err)
		}
		created, lease := res.Created, res.Lease
		// The allow list may have changed since the check above (SIGHUP);
		// SetAllow ends what it finds, this ends what it could not see.
		if !s.allowed(to.Addr()) {
			_ = s.cfg.Stream.Disallow(to)
			return notAllowed(to)
		}
		if created && s.infoLog.allow(time.Now()) {
			s.log.Info("stream started", "to", to, "by", from, "lease", lease)
		}
		leaseStr := "none"
		if lease > 0 {
			leaseStr = lease.String()
		}
		f := []Field{
			{"to", to.String()}, {"lease", leaseStr}, {"new", strconv.FormatBool(created)},
			{"subscribers", strconv.Itoa(len(s.cfg.Stream.Targets()))},
		}
		if res.Source.IsValid() {
			f = append(f, Field{"src", res.Source.String()})
		}
		if res.Tagged {
			f = append(f, Field{"tag", "hmac-sha256"})
		}
		return Reply{OK: true, Verb: cmd.Verb, Fields: f}
	case VerbStop:
		if cmd.Target == "all" {
			owner := ""
			if sg != nil && !cmd.Admin {
				owner = sg.name // only its own, unless admin=1
			}
			n := s.cfg.Stream.StopAll(owner)
			if s.infoLog.allow(time.Now()) {
				s.log.Info("all streams stopped", "by", from, "count", n)
			}
			return Reply{OK: true, Verb: cmd.Verb, Fields: []Field{{"stopped", strconv.Itoa(n)}}}
		}
		to, err := s.target(cmd.Target, from)
		if err != nil {
			return s.refusal(cmd.Verb, err)
		}
		if r, refused := s.notOwner(cmd, to, sg); refused {
			return r
		}
		if err := s.cfg.Stream.Stop(to); err != nil {
			return s.refusal(cmd.Verb, err)
		}
		if s.infoLog.allow(time.Now()) {
			s.log.Info("stream stopped", "to", to, "by", from)
		}
		return Reply{OK: true, Verb: cmd.Verb, Fields: []Field{{"to", to.String()}, {"stopped", "1"}}}
	case VerbStatus:
		return s.status()
	case VerbHello:
		return s.helloReply(cmd)
	default: // VerbPing; ParseCommand admits no other verb
		return Reply{OK: true, Verb: cmd.Verb, Fields: []Field{{"version", s.cfg.Version}}}
	}
}

// notOwner refuses a signed start or stop of a stream another sender name
// started, unless the command says admin=1. Without a key streams have no
// owner: anyone the allow list admits may stop any.
func (s *Server) notOwner(cmd Command, to netip.AddrPort, sg *signer) (Reply, bool) {
	if sg == nil || cmd.Admin {
		return Reply{}, false
	}
	owner, ok := s.cfg.Stream.Owner(to)
	if !ok || owner == sg.name || owner == "" {
		return Reply{}, false
	}
	return Reply{Verb: CodeNotOwner, Message: cmd.Verb + ": the stream to " + to.String() + " was started by " + owner + "; admin=1 acts on it anyway"}, true
}

// target resolves a start/stop target against the sender's address.
func (s *Server) target(t string, from netip.AddrPort) (netip.AddrPort, error) {
	if t == "" {
		return from, nil
	}
	host, portStr, err := net.SplitHostPort(t)
	if err != nil {
		return netip.AddrPort{}, &CommandError{Code: CodeBadTarget, Err: ErrBadArg,
			Message: fmt.Sprintf("target %q is not HOST:PORT or :PORT", t)}
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, &CommandError{Code: CodeBadTarget, Err: ErrBadArg,
			Message: fmt.Sprintf("target %q: port must be 1..65535", t)}
	}
	if host == "" {
		return netip.AddrPortFrom(from.Addr(), uint16(port)), nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		// A name lookup could block this goroutine for seconds (a DNS
		// server that never answers): names are the client's to resolve.
		return netip.AddrPort{}, &CommandError{Code: CodeBadTarget, Err: ErrBadArg,
			Message: fmt.Sprintf("target host %q is not an IP address; the daemon does not resolve names (imustream start --to resolves them)", host)}
	}
	a = a.Unmap()
	if !a.Is6() || !(a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()) {
		a = a.WithZone("") // only link-local addresses need their interface
	}
	return netip.AddrPortFrom(a, uint16(port)), nil
}

func (s *Server) status() Reply {
	var fields []Field
	if s.cfg.Status != nil {
		fields = s.cfg.Status()
	}
	c := s.Counters()
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	auth := "none"
	if s.Authenticated() {
		auth = "hmac-sha256"
	}
	fields = append(fields,
		Field{"cmd_accepted", u(c.Accepted)},
		Field{"cmd_repeated", u(c.Repeated)},
		Field{"drop_not_allowed", u(c.NotAllowed)},
		Field{"drop_oversized", u(c.Oversized)},
		Field{"drop_malformed", u(c.Malformed)},
		Field{"drop_replies", u(c.Replies)},
		Field{"drop_socket", socketField(s.socket())},
		Field{"auth", auth},
		Field{"drop_unsigned", u(c.Unsigned)},
		Field{"drop_bad_sig", u(c.BadSig)},
		Field{"drop_replayed", u(c.Replayed)},
		Field{"drop_wrong_boot", u(c.WrongBoot)},
		Field{"drop_sender_limit", u(c.SenderLimit)},
		Field{"goroutines", strconv.Itoa(runtime.NumGoroutine())},
		Field{"uptime", time.Since(s.start).Round(time.Second).String()},
		Field{"version", s.cfg.Version},
	)
	return Reply{OK: true, Verb: VerbStatus, Fields: fields}
}

// socket returns the control socket, nil before Serve.
func (s *Server) socket() net.PacketConn { return s.loop.Conn() }

// SocketDrops returns the datagrams the kernel dropped from the control
// socket's full receive queue (a flood), which the server never saw; ok is
// false where the system does not say.
func (s *Server) SocketDrops() (n uint64, ok bool) { return socketDrops(s.socket()) }

func socketField(c net.PacketConn) string {
	if n, ok := socketDrops(c); ok {
		return strconv.FormatUint(n, 10)
	}
	return "unknown"
}

// replyCache remembers the latest replies by sender, request id and verb,
// so a retried command is answered again instead of executed again, and a
// command with another verb that reuses an id (a spoofed "id=42 ping"
// before the victim's "id=42 stop all") is executed, not answered with the
// other verb's reply. The sender is its address and, for signed commands,
// its name. Replies are kept unsigned: a signed retry carries a new tag,
// which the reply's tag must answer. Only the command goroutine touches it.
type replyCache struct {
	keys [64]cacheKey
	vals [64]string
	next int
}

type cacheKey struct {
	name     string
	from     netip.AddrPort
	id, verb string
}

func (c *replyCache) get(name string, from netip.AddrPort, id, verb string) (string, bool) {
	k := cacheKey{name, from, id, verb}
	for i := range c.keys {
		if c.keys[i] == k {
			return c.vals[i], true
		}
	}
	return "", false
}

func (c *replyCache) put(name string, from netip.AddrPort, id, verb string, b string) {
	c.keys[c.next] = cacheKey{name, from, id, verb}
	c.vals[c.next] = b
	c.next = (c.next + 1) % len(c.keys)
}
