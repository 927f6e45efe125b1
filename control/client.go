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
	"sync"
	"sync/atomic"
	"time"
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
	done    chan struct{}
}

// request is a command waiting for its reply. The reader goroutine checks
// signatures itself, so forged replies are counted and dropped there and
// can never crowd the genuine one out of ch.
type request struct {
	ch       chan Reply
	tags     []Tag // one per attempt, under Client.mu
	unsigned int   // replies without a valid signature, under Client.mu
}

// ReplyError is a command the daemon answered with err.
type ReplyError struct{ Reply Reply }

func (e *ReplyError) Error() string {
	return "control: device refused: " + e.Reply.Verb + " " + e.Reply.Message
}

// ErrNoReply means no reply came after every retry.
var ErrNoReply = errors.New("control: no reply from device")

// Dial resolves device ("HOST:PORT", IPv6 as "[ADDR]:PORT") and opens a
// client socket. Close it when done.
func Dial(device string, opts *ClientOptions) (*Client, error) {
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
	for {
		n, from, err := c.conn.ReadFromUDPAddrPort(buf)
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
		if c.opts.Key != nil && !c.verify(b, tags) {
			c.mu.Lock()
			req.unsigned++ // forged, or a daemon without the key
			c.mu.Unlock()
			continue
		}
		select {
		case req.ch <- r:
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
	if cmd.ID == "" {
		cmd.ID = c.prefix + "-" + strconv.FormatUint(c.seq.Add(1), 10)
	}
	req := &request{ch: make(chan Reply, 1)}
	c.mu.Lock()
	c.pending[cmd.ID] = req
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, cmd.ID)
		c.mu.Unlock()
	}()
	dst := net.UDPAddrFromAddrPort(c.device)
	t := time.NewTimer(c.opts.Timeout)
	defer t.Stop()
	attempts := max(c.opts.Retries, 0) + 1
	for range attempts {
		line := []byte(cmd.String() + "\n")
		if k := c.opts.Key; k != nil {
			cmd.From, cmd.TS = c.opts.From, c.nextTS()
			body := []byte(cmd.String())
			tag := k.CommandTag(body)
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
		case r := <-req.ch:
			if !r.OK {
				return r, &ReplyError{Reply: r}
			}
			return r, nil
		case <-t.C:
		case <-ctx.Done():
			return Reply{}, fmt.Errorf("control: %s: %w", cmd.Verb, ctx.Err())
		}
	}
	if c.opts.Key != nil {
		c.mu.Lock()
		unsigned := req.unsigned
		c.mu.Unlock()
		hint := "the daemon drops commands it cannot authenticate without a reply: check that it runs with the same key, and that this sender's clock did not go back"
		if unsigned > 0 {
			hint = fmt.Sprintf("%d replies without a valid signature ignored: does the daemon run with the same --key?", unsigned)
		}
		return Reply{}, fmt.Errorf("%w %s after %d attempts of %s (%s)", ErrNoReply, c.device, attempts, c.opts.Timeout, hint)
	}
	return Reply{}, fmt.Errorf("%w %s after %d attempts of %s", ErrNoReply, c.device, attempts, c.opts.Timeout)
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
