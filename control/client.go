package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/imustream/imustream/internal/rt"
)

// ClientOptions configures a Client. Zero fields take the documented
// defaults.
type ClientOptions struct {
	// Timeout is how long one attempt waits for the reply. It defaults to
	// 300 ms.
	Timeout time.Duration
	// Retries is how many times a command is sent again, with the same
	// request id, when no reply came. It defaults to 3; negative sends once.
	Retries int
	// OnData receives every binary datagram (telemetry) that arrives from
	// the device's host on this client's socket; replies are text. It runs
	// on the client's reader goroutine and must not keep b.
	OnData func(b []byte, from netip.AddrPort)
	// Key, when set, signs every command and accepts only replies signed
	// with it (docs/protocol.md). It defaults to nil: unsigned.
	Key *Key
	// From names this client in signed commands; the daemon keeps one
	// replay window per name. It defaults to the host name.
	From string
	// Probe, when set, makes Do diagnose a command that got no reply: it
	// sends one unsigned ping from a second socket, connected to the
	// device, and waits up to Timeout for what comes back (see Probe and
	// NoReplyError). The client's own socket cannot tell: it is not
	// connected, so that it also receives the stream, which the daemon
	// sends from other ports, and an unconnected UDP socket is not told
	// about ICMP errors. A daemon that hears the probe but does not answer
	// it counts it as one more dropped command. It defaults to false.
	Probe bool
}

// Client talks to a daemon's control port. One socket carries commands,
// replies and, after start, the stream itself: the daemon streams to the
// address its ReadFrom reported, which is this socket, so it works through
// NAT and firewalls that allow the reply path.
type Client struct {
	conn   *net.UDPConn
	device netip.AddrPort
	opts   ClientOptions
	prefix string
	seq    atomic.Uint64
	lastTS atomic.Uint64

	mu      sync.Mutex
	pending map[string]*request
	boot    string                    // the daemon's boot nonce, from hello; under mu
	nonces  map[string][NonceLen]byte // the nonce of each target's signed start; under mu
	done    chan struct{}
}

// request is a command waiting for its reply. The reader goroutine checks
// signatures itself, so forged replies are counted and dropped there and
// can never crowd the genuine one out of ch.
type request struct {
	ch       chan arrival
	verb     string
	plain    bool  // a hello: its reply is never signed
	tags     []Tag // one per attempt, under Client.mu
	unsigned int   // replies without a valid signature, or of another verb, under Client.mu
}

// arrival is a reply and when it came off the socket (rt.Stamp).
type arrival struct {
	r          Reply
	mono, wall int64
}

// ReplyError is a command the daemon answered with err.
type ReplyError struct{ Reply Reply }

func (e *ReplyError) Error() string {
	return "control: device refused: " + e.Reply.Verb + " " + e.Reply.Message
}

// ErrNoReply means no reply came after every retry. Do returns it as a
// *NoReplyError, which says what the client could find out about why.
var ErrNoReply = errors.New("control: no reply from device")

// Probe is what the ping that Do sends after no reply found out
// (ClientOptions.Probe).
type Probe int

const (
	// ProbeNotSent: no probe was sent: ClientOptions.Probe is off, replies
	// with a bad signature showed that the daemon listens, the context
	// ended, or the probe socket could not be opened.
	ProbeNotSent Probe = iota
	// ProbeSilent: nothing came back to the probe either. A daemon drops
	// what it does not accept without a word (a sender outside its allow
	// list, an unsigned or wrongly signed command), and so do firewalls
	// and lossy links; so does a host that rate-limits its ICMP errors.
	ProbeSilent
	// ProbeRefused: the device's host answered that nothing listens on
	// the port (ICMP port unreachable, seen as ECONNREFUSED).
	ProbeRefused
	// ProbeAnswered: the daemon answered the probe: the command's own
	// replies were lost, or came later than Timeout.
	ProbeAnswered
)

func (p Probe) String() string {
	switch p {
	case ProbeSilent:
		return "silent"
	case ProbeRefused:
		return "refused"
	case ProbeAnswered:
		return "answered"
	}
	return "not sent"
}

// NoReplyError is ErrNoReply (errors.Is matches it) with what the client
// knows about the silence, for a caller to explain it in its own terms.
type NoReplyError struct {
	Device   netip.AddrPort
	Verb     string
	Attempts int           // commands sent, the first and every retry
	Timeout  time.Duration // waited after each
	// Signed is set when the commands were signed (ClientOptions.Key);
	// BadReplies counts the replies ignored then because their signature
	// was missing or wrong: a daemon answered, but not with this key.
	Signed     bool
	BadReplies int
	Probe      Probe
}

func (e *NoReplyError) Error() string {
	s := fmt.Sprintf("%v %s after %d %s of %s", ErrNoReply, e.Device, e.Attempts, plural(e.Attempts, "attempt", "attempts"), e.Timeout)
	switch {
	case e.Probe == ProbeRefused:
		return s + ": nothing listens on that port (ICMP port unreachable)"
	case e.Signed && e.BadReplies > 0:
		return s + fmt.Sprintf(" (%d %s without a valid signature ignored: does the daemon run with the same --key?)",
			e.BadReplies, plural(e.BadReplies, "reply", "replies"))
	case e.Probe == ProbeAnswered:
		return s + ": the daemon answered a ping afterwards, so its replies were lost or slower than that"
	case e.Signed:
		return s + " (the daemon drops commands it cannot authenticate without a reply: check that it runs with the same key, and that this sender's clock did not go back)"
	}
	return s
}

func (e *NoReplyError) Unwrap() error { return ErrNoReply }

// Explain says, in the terms of imustream's command lines, why the
// command got no reply, as far as the client found out: one line when the
// probe or the replies tell, else the likely causes, one a line.
func (e *NoReplyError) Explain() string {
	tries := fmt.Sprintf("%d attempts of %s", e.Attempts, e.Timeout)
	if e.Attempts == 1 {
		tries = fmt.Sprintf("1 attempt of %s", e.Timeout)
	}
	switch {
	case e.Probe == ProbeRefused:
		return fmt.Sprintf("nothing listens on %s (is `imustream run` running there?)\n", e.Device)
	case e.Signed && e.BadReplies > 0:
		return fmt.Sprintf("no reply from %s with a valid signature (%s): %d ignored; does the daemon run with the same --key?\n", e.Device, tries, e.BadReplies)
	case e.Probe == ProbeAnswered:
		return fmt.Sprintf("no reply from %s within %s, yet the daemon answered a ping right after: its replies are slow or lost on the way; try a longer --timeout\n", e.Device, tries)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "no reply from %s (%s). The daemon drops what it does not accept without a word; likely causes:\n", e.Device, tries)
	fmt.Fprintf(&b, "  - it is not running there, or a firewall drops UDP to port %d\n", e.Device.Port())
	fmt.Fprintf(&b, "  - this host is not on its allow list: start it with --allow CIDR naming this host (without --allow it obeys loopback only)\n")
	if e.Signed {
		fmt.Fprintf(&b, "  - it does not run with the same key as --key (it drops commands it cannot authenticate), or this host's clock went back\n")
	} else {
		fmt.Fprintf(&b, "  - it obeys only signed commands (it runs with --key): pass --key FILE, a copy of its key\n")
	}
	fmt.Fprintf(&b, "  - it listens on another port (run --listen): name it, --device HOST:PORT\n")
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// DefaultPort is the daemon's control port: Dial takes a device given by
// its host alone to mean this port.
const DefaultPort = 7600

// WithDefaultPort adds DefaultPort to a device address that names only the
// host: "pi" → "pi:7600", "::1" or "[::1]" → "[::1]:7600". Other strings
// are left for Dial to take or refuse.
func WithDefaultPort(device string) string {
	port := strconv.Itoa(DefaultPort)
	if a, err := netip.ParseAddr(device); err == nil {
		return netip.AddrPortFrom(a, DefaultPort).String()
	}
	if strings.HasPrefix(device, "[") && strings.HasSuffix(device, "]") {
		return device + ":" + port
	}
	if device != "" && !strings.Contains(device, ":") {
		return net.JoinHostPort(device, port)
	}
	return device
}

// Dial resolves device ("HOST:PORT", IPv6 as "[ADDR]:PORT"; a host alone
// means DefaultPort) and opens a client socket. Close it when done.
func Dial(device string, opts *ClientOptions) (*Client, error) {
	device = WithDefaultPort(device)
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	if o.Timeout == 0 {
		o.Timeout = 300 * time.Millisecond
	}
	if o.Retries == 0 {
		o.Retries = 3
	}
	if o.Key != nil {
		k := *o.Key
		o.Key = &k
		if o.From == "" {
			o.From = defaultFrom()
		}
		if err := checkFrom(o.From); err != nil {
			return nil, fmt.Errorf("control: sender name %q: %w", o.From, err)
		}
	}
	ua, err := net.ResolveUDPAddr("udp", device)
	if err != nil {
		return nil, fmt.Errorf("control: device %q: %w", device, err)
	}
	dev := ua.AddrPort()
	dev = netip.AddrPortFrom(dev.Addr().Unmap(), dev.Port())
	network := "udp4"
	if dev.Addr().Is6() {
		network = "udp6"
	}
	conn, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, fmt.Errorf("control: client socket: %w", err)
	}
	// A recorder on a busy PC must ride out scheduling gaps: 2 MiB holds
	// seconds of a 200 Hz stream (the kernel caps it at net.core.rmem_max).
	_ = conn.SetReadBuffer(2 << 20)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	c := &Client{
		conn:    conn,
		device:  dev,
		opts:    o,
		prefix:  hex.EncodeToString(rnd[:]),
		pending: make(map[string]*request),
		done:    make(chan struct{}),
	}
	go c.read()
	return c, nil
}

// Device returns the daemon's control address.
func (c *Client) Device() netip.AddrPort { return c.device }

// LocalAddr returns the client socket's address.
func (c *Client) LocalAddr() netip.AddrPort { return c.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Close closes the socket and waits for the reader goroutine.
func (c *Client) Close() error {
	err := c.conn.Close()
	<-c.done
	return err
}

func (c *Client) read() {
	defer close(c.done)
	buf := make([]byte, 2048)
	var oob []byte
	if enableRxStamps(c.conn) {
		oob = make([]byte, rxStampOOB) // a time reply's T4: its arrival
	}
	for {
		n, oobn, _, from, err := c.conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ICMP errors surfacing on the socket
		}
		if from.Addr().Unmap() != c.device.Addr() {
			continue
		}
		b := buf[:n]
		if !IsText(b) {
			if c.opts.OnData != nil {
				c.opts.OnData(b, from)
			}
			continue
		}
		mono, wall := rt.Stamp() // a time reply's T4: before any parsing
		if kernel, ok := rxStamp(oob[:oobn]); ok {
			mono, wall = mono-(wall-kernel), kernel
		}
		body := b
		if signed, _, err := SplitSigned(b); err == nil {
			body = signed
		}
		r, err := ParseReply(body)
		if err != nil || r.ID == "" {
			continue
		}
		c.mu.Lock()
		req := c.pending[r.ID]
		var tags []Tag
		if req != nil {
			tags = req.tags
		}
		c.mu.Unlock()
		if req == nil {
			continue
		}
		// A reply of another verb is not this command's (a spoofed command
		// that reused the id); an err reply names a code, not a verb.
		if c.opts.Key != nil && !req.plain && !c.verify(b, tags) || r.OK && r.Verb != req.verb {
			c.mu.Lock()
			req.unsigned++ // forged, or a daemon without the key
			c.mu.Unlock()
			continue
		}
		select {
		case req.ch <- arrival{r, mono, wall}:
		default: // Do has a reply already; this is a duplicate
		}
	}
}

// Do sends cmd, with a fresh request id unless it has one, and waits for
// the matching reply, resending the same id on timeout so a retry is never
// executed twice. With a key every attempt is signed afresh (a new ts: the
// daemon drops a byte-for-byte repeat as a replay) and only a reply signed
// for one of them counts. An err reply is returned as a *ReplyError.
func (c *Client) Do(ctx context.Context, cmd Command) (Reply, error) {
	if cmd.Verb == VerbStart || cmd.Verb == VerbStop {
		t, err := ResolveTarget(ctx, cmd.Target, c.device)
		if err != nil {
			return Reply{}, err
		}
		cmd.Target = t
	}
	if c.opts.Key != nil && cmd.Verb == VerbStart && cmd.Nonce == "" {
		n := c.nonce(cmd.Target)
		cmd.Nonce = hex.EncodeToString(n[:])
	}
	if cmd.ID == "" {
		cmd.ID = c.newID()
	}
	req, done := c.register(cmd)
	defer done()
	dst := net.UDPAddrFromAddrPort(c.device)
	t := time.NewTimer(c.opts.Timeout)
	defer t.Stop()
	attempts := max(c.opts.Retries, 0) + 1
	signed := c.opts.Key != nil && !req.plain
	for i := range attempts {
		line := []byte(cmd.String() + "\n")
		if signed {
			// Learn the boot nonce first, and again after a silent attempt:
			// the daemon may have restarted and dropped it as another boot's.
			boot := c.bootNonce()
			if boot == "" || i > 0 {
				boot, _ = c.hello(ctx)
			}
			cmd.From, cmd.TS, cmd.Boot = c.opts.From, c.nextTS(), boot
			body := []byte(cmd.String())
			tag := c.opts.Key.CommandTag(body)
			c.mu.Lock()
			req.tags = append(req.tags, tag)
			c.mu.Unlock()
			line = AppendSigned(nil, body, tag)
		}
		if _, err := c.conn.WriteToUDP(line, dst); err != nil {
			return Reply{}, fmt.Errorf("control: send %s: %w", cmd.Verb, err)
		}
		t.Reset(c.opts.Timeout)
		select {
		case a := <-req.ch:
			r := a.r
			if !r.OK {
				return r, &ReplyError{Reply: r}
			}
			return r, nil
		case <-t.C:
		case <-ctx.Done():
			return Reply{}, fmt.Errorf("control: %s: %w", cmd.Verb, ctx.Err())
		}
	}
	e := &NoReplyError{Device: c.device, Verb: cmd.Verb, Attempts: attempts, Timeout: c.opts.Timeout, Signed: c.opts.Key != nil}
	c.mu.Lock()
	e.BadReplies = req.unsigned
	c.mu.Unlock()
	if c.opts.Probe && e.BadReplies == 0 {
		e.Probe = c.probe(ctx)
	}
	return Reply{}, e
}

func (c *Client) newID() string { return c.prefix + "-" + strconv.FormatUint(c.seq.Add(1), 10) }

func (c *Client) bootNonce() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.boot
}

// register makes cmd's replies reach the returned request until done.
func (c *Client) register(cmd Command) (req *request, done func()) {
	req = &request{ch: make(chan arrival, 1), verb: cmd.Verb, plain: cmd.Verb == VerbHello}
	c.mu.Lock()
	c.pending[cmd.ID] = req
	c.mu.Unlock()
	return req, func() {
		c.mu.Lock()
		delete(c.pending, cmd.ID)
		c.mu.Unlock()
	}
}

// hello asks for the daemon's boot nonce, once (Do's retries each come
// after a hello of their own). It is padded to the length of its reply,
// which the daemon sends only if it is no longer than the request.
func (c *Client) hello(ctx context.Context) (string, error) {
	// The reply adds "ok ", " boot=" and the nonce, " auth=hmac-sha256" to
	// the request's id and verb; the pad makes up for them, with room.
	n := len("ok ") + len(" boot=") + 2*BootLen + len(" auth=hmac-sha256") - len(" pad=") + 4
	cmd := Command{ID: c.newID(), Verb: VerbHello, Pad: strings.Repeat("x", n)}
	req, done := c.register(cmd)
	defer done()
	if _, err := c.conn.WriteToUDPAddrPort([]byte(cmd.String()+"\n"), c.device); err != nil {
		return "", fmt.Errorf("control: send hello: %w", err)
	}
	t := time.NewTimer(c.opts.Timeout)
	defer t.Stop()
	select {
	case a := <-req.ch:
		r := a.r
		boot, _ := r.Get("boot")
		if !r.OK || !isHex(boot, BootLen) {
			return "", fmt.Errorf("%w: hello answered %q", ErrBadReply, r.String())
		}
		c.mu.Lock()
		c.boot = boot
		c.mu.Unlock()
		return boot, nil
	case <-t.C:
		return "", ErrNoReply
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// nonce returns the nonce of signed starts to target, drawn at the first:
// a refresh repeats it, and the receiver derives the stream key from it.
func (c *Client) nonce(target string) [NonceLen]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nonces[target]
	if !ok {
		_, _ = rand.Read(n[:])
		if c.nonces == nil {
			c.nonces = map[string][NonceLen]byte{}
		}
		c.nonces[target] = n
	}
	return n
}

// StreamNonce returns the nonce the client's signed starts to target
// carried, for a receiver that checks the stream's tags (telemetry.StreamKey
// of the key and it); ok is false when there was none. target is as given
// to Start ("" for this client's own socket).
func (c *Client) StreamNonce(target string) (n [NonceLen]byte, ok bool) {
	t, err := ResolveTarget(context.Background(), target, c.device)
	if err != nil {
		return n, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok = c.nonces[t]
	return n, ok
}

// ResolveTarget looks up the host of a start or stop target HOST:PORT on
// this machine: the daemon takes IP addresses only (a lookup would stall
// its command goroutine). Of the addresses, the first of the device's
// family is taken. Other targets ("", ":PORT", "all", an address) are
// returned as they are.
func ResolveTarget(ctx context.Context, target string, device netip.AddrPort) (string, error) {
	host, port, err := net.SplitHostPort(target)
	if err != nil || host == "" {
		return target, nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return target, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no addresses")
	}
	if err != nil {
		return "", fmt.Errorf("control: target %s: host %q does not resolve: %w", target, host, err)
	}
	pick := addrs[0]
	for _, a := range addrs {
		if a.Unmap().Is4() == device.Addr().Is4() {
			pick = a
			break
		}
	}
	return net.JoinHostPort(pick.Unmap().String(), port), nil
}

func (c *Client) probe(ctx context.Context) Probe {
	network := "udp4"
	if c.device.Addr().Is6() {
		network = "udp6"
	}
	conn, err := net.DialUDP(network, nil, net.UDPAddrFromAddrPort(c.device))
	if err != nil {
		return ProbeNotSent
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	id := c.prefix + "-probe" + strconv.FormatUint(c.seq.Add(1), 10)
	if _, err := conn.Write([]byte(Command{ID: id, Verb: VerbPing}.String() + "\n")); err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return ProbeRefused // an error of an earlier datagram
		}
		return ProbeNotSent
	}
	_ = conn.SetReadDeadline(time.Now().Add(c.opts.Timeout))
	buf := make([]byte, 2048)
	for {
		n, err := conn.Read(buf)
		switch {
		case ctx.Err() != nil:
			return ProbeNotSent
		case errors.Is(err, syscall.ECONNREFUSED):
			return ProbeRefused
		case err != nil:
			return ProbeSilent // the deadline, or an error that says nothing
		}
		body := buf[:n]
		if signed, _, err := SplitSigned(body); err == nil {
			body = signed
		}
		if r, err := ParseReply(body); err == nil && r.ID == id {
			return ProbeAnswered
		}
	}
}

func (c *Client) verify(line []byte, tags []Tag) bool {
	for _, t := range tags {
		if _, err := c.opts.Key.VerifyReply(t, line); err == nil {
			return true
		}
	}
	return false
}

// nextTS returns the client's wall clock in µs, but always more than the
// last value it returned: two commands in the same microsecond, or a clock
// stepped back a little, still give increasing counters.
func (c *Client) nextTS() uint64 {
	for {
		last := c.lastTS.Load()
		ts := max(uint64(time.Now().UnixMicro()), last+1)
		if c.lastTS.CompareAndSwap(last, ts) {
			return ts
		}
	}
}

// defaultFrom is the sender name a client uses when none is given: the
// host name, cut to the characters and length a name allows.
func defaultFrom() string {
	h, _ := os.Hostname()
	b := make([]byte, 0, maxFromLen)
	for _, ch := range []byte(h) {
		if len(b) == maxFromLen {
			break
		}
		if !isIDChars(string(ch)) {
			ch = '-'
		}
		b = append(b, ch)
	}
	if len(b) == 0 {
		return "client"
	}
	return string(b)
}

// Start streams to target ("" for this client's own socket) with a lease
// (0 for none).
func (c *Client) Start(ctx context.Context, target string, lease time.Duration) (Reply, error) {
	return c.Do(ctx, Command{Verb: VerbStart, Target: target, Lease: lease})
}

// Stop ends the stream to target ("" for this client's socket, "all" for
// every stream).
func (c *Client) Stop(ctx context.Context, target string) (Reply, error) {
	return c.Do(ctx, Command{Verb: VerbStop, Target: target})
}

// Status asks for the daemon's state and counters.
func (c *Client) Status(ctx context.Context) (Reply, error) {
	return c.Do(ctx, Command{Verb: VerbStatus})
}

// Ping checks that the daemon answers.
func (c *Client) Ping(ctx context.Context) (Reply, error) {
	return c.Do(ctx, Command{Verb: VerbPing})
}
