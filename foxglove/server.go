package foxglove

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/imustream/imustream/foxglove/wsproto"
	"github.com/imustream/imustream/internal/dropq"
)

// ServerConfig configures a Server. Zero fields mean the defaults.
type ServerConfig struct {
	// Name is the server's name in Server Info.
	Name string
	// Queue is each client's queue, in messages. It defaults to 8192:
	// 8 s of a 1 kHz channel.
	Queue int
	// WriteTimeout bounds one write to a client; a client that takes
	// longer is disconnected. It defaults to 10 seconds.
	WriteTimeout time.Duration
}

// Server serves the Foxglove WebSocket protocol on its ServeHTTP. Publish
// never waits for a client.
type Server struct {
	cfg     ServerConfig
	session string

	mu       sync.Mutex
	channels []wsproto.Channel
	clients  map[*client]struct{}
	subs     map[uint32]int // channel → subscriptions to it, all clients
	closed   bool
	wg       sync.WaitGroup

	hasSubs atomic.Pointer[map[uint32]int] // a copy of subs for Publish's quick check

	stats struct {
		clients, published, dropped, badMessages atomic.Uint64
	}
}

// client is one connection.
type client struct {
	conn *websocket.Conn
	q    *dropq.Queue
	subs map[uint32]uint32 // subscription id → channel; under Server.mu
	byCh map[uint32]uint32 // channel → subscription id; under Server.mu
}

// NewServer returns a server with no channels.
func NewServer(cfg ServerConfig) *Server {
	if cfg.Queue <= 0 {
		cfg.Queue = 8192
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.Name == "" {
		cfg.Name = "imustream"
	}
	s := &Server{cfg: cfg, session: strconv.FormatInt(time.Now().UnixNano(), 10),
		clients: map[*client]struct{}{}, subs: map[uint32]int{}}
	s.hasSubs.Store(&map[uint32]int{})
	return s
}

// Advertise adds channels (their IDs must be new) and announces them to
// the connected clients.
func (s *Server) Advertise(chans ...wsproto.Channel) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range chans {
		if slices.ContainsFunc(s.channels, func(o wsproto.Channel) bool { return o.ID == c.ID }) {
			return fmt.Errorf("foxglove: channel id %d advertised twice", c.ID)
		}
	}
	s.channels = append(s.channels, chans...)
	msg := wsproto.Advertise(chans)
	for c := range s.clients {
		c.q.Push(msg)
	}
	return nil
}

// Subscribed reports whether any client subscribes to channel ch, so that
// a publisher can skip encoding what nobody reads.
func (s *Server) Subscribed(ch uint32) bool { return (*s.hasSubs.Load())[ch] > 0 }

// Publish sends payload on channel ch to every client subscribed to it,
// stamped recvNs. It copies payload and never waits: a full client queue
// loses its oldest message (counted in Stats().Dropped).
func (s *Server) Publish(ch uint32, recvNs uint64, payload []byte) {
	if !s.Subscribed(ch) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		sub, ok := c.byCh[ch]
		if !ok {
			continue
		}
		msg := wsproto.AppendMessageData(make([]byte, 0, wsproto.MessageDataHeaderLen+len(payload)), sub, recvNs, payload)
		if c.q.Push(msg) {
			s.stats.dropped.Add(1)
		}
		s.stats.published.Add(1)
	}
}

// Stats are the server's counters.
type Stats struct {
	Clients     uint64 // connections accepted
	Published   uint64 // messages queued to clients
	Dropped     uint64 // of those, dropped because a client was slow
	BadMessages uint64 // client messages that failed to parse or asked for what is not there
}

func (s *Server) Stats() Stats {
	return Stats{s.stats.clients.Load(), s.stats.published.Load(), s.stats.dropped.Load(), s.stats.badMessages.Load()}
}

// ErrServerClosed is ServeHTTP's refusal after Close.
var ErrServerClosed = errors.New("foxglove: server closed")

// ServeHTTP accepts a WebSocket that speaks Subprotocol and serves it
// until it closes or the server does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Any origin: Foxglove's web app, its desktop app and tools each send
	// another, and what they get is read-only (no capability lets a
	// client change anything here).
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsproto.Subprotocol}, InsecureSkipVerify: true})
	if err != nil {
		return // Accept answered the request
	}
	if conn.Subprotocol() != wsproto.Subprotocol {
		conn.Close(websocket.StatusPolicyViolation, "this server speaks "+wsproto.Subprotocol)
		return
	}
	conn.SetReadLimit(wsproto.MaxClientMessage)
	c := &client{conn: conn, q: dropq.New(s.cfg.Queue), subs: map[uint32]uint32{}, byCh: map[uint32]uint32{}}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close(websocket.StatusGoingAway, "server closed")
		return
	}
	s.clients[c] = struct{}{}
	s.wg.Add(1)
	c.q.Push(wsproto.ServerInfo(s.cfg.Name, s.session))
	if len(s.channels) > 0 {
		c.q.Push(wsproto.Advertise(s.channels))
	}
	s.mu.Unlock()
	s.stats.clients.Add(1)
	defer s.wg.Done()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		defer cancel()
		s.write(ctx, c)
	})
	s.read(ctx, c)
	cancel()
	s.drop(c)
	wg.Wait()
	conn.CloseNow()
}

// read handles the client's messages until the connection fails.
func (s *Server) read(ctx context.Context, c *client) {
	for {
		typ, b, err := c.conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			s.stats.badMessages.Add(1)
			c.q.Push(wsproto.Status(wsproto.StatusError, "this server takes no binary messages (no clientPublish or services)"))
			continue
		}
		m, err := wsproto.ParseClientMessage(b)
		if err != nil {
			s.stats.badMessages.Add(1)
			c.q.Push(wsproto.Status(wsproto.StatusError, "bad message: "+wsproto.Reason(err)))
			continue
		}
		s.handle(c, m)
	}
}

// handle acts on one parsed client message.
func (s *Server) handle(c *client, m wsproto.ClientMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.Op {
	case wsproto.OpSubscribe:
		for _, sub := range m.Subscriptions {
			switch _, dup := c.subs[sub.ID]; {
			case dup:
				s.refuse(c, fmt.Sprintf("subscription id %d is in use", sub.ID))
			case !slices.ContainsFunc(s.channels, func(ch wsproto.Channel) bool { return ch.ID == sub.ChannelID }):
				s.refuse(c, fmt.Sprintf("no channel %d", sub.ChannelID))
			default:
				if _, again := c.byCh[sub.ChannelID]; again {
					s.refuse(c, fmt.Sprintf("channel %d is already subscribed", sub.ChannelID))
					continue
				}
				c.subs[sub.ID], c.byCh[sub.ChannelID] = sub.ChannelID, sub.ID
				s.subs[sub.ChannelID]++
			}
		}
	case wsproto.OpUnsubscribe:
		for _, id := range m.SubscriptionIDs {
			ch, ok := c.subs[id]
			if !ok {
				s.refuse(c, fmt.Sprintf("no subscription %d", id))
				continue
			}
			delete(c.subs, id)
			delete(c.byCh, ch)
			s.subs[ch]--
		}
	default:
		s.refuse(c, "op "+strconv.Quote(m.Op)+" needs a capability this server does not have")
	}
	s.publishSubs()
}

// refuse tells the client what it asked for is not there; s.mu is held.
func (s *Server) refuse(c *client, why string) {
	s.stats.badMessages.Add(1)
	c.q.Push(wsproto.Status(wsproto.StatusWarning, why))
}

// publishSubs refreshes Publish's copy of the subscription counts; s.mu
// is held.
func (s *Server) publishSubs() {
	m := make(map[uint32]int, len(s.subs))
	for ch, n := range s.subs {
		if n > 0 {
			m[ch] = n
		}
	}
	s.hasSubs.Store(&m)
}

// drop forgets a client and its subscriptions.
func (s *Server) drop(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, c)
	for _, ch := range c.subs {
		s.subs[ch]--
	}
	c.subs, c.byCh = nil, nil
	s.publishSubs()
	c.q.Close()
}

// write sends the client's queue until ctx ends or a write fails.
func (s *Server) write(ctx context.Context, c *client) {
	var batch [][]byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.q.Done():
			return
		case <-c.q.Ready():
		}
		batch = c.q.Take(batch[:0])
		for i, m := range batch {
			typ := websocket.MessageText
			if len(m) > 0 && m[0] == wsproto.OpMessageData {
				typ = websocket.MessageBinary // JSON starts with '{'
			}
			wctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
			err := c.conn.Write(wctx, typ, m)
			cancel()
			batch[i] = nil
			if err != nil {
				return
			}
		}
	}
}

// Close disconnects every client and waits for their handlers; later
// connections are refused.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*websocket.Conn, 0, len(s.clients))
	for c := range s.clients {
		conns = append(conns, c.conn)
	}
	s.mu.Unlock()
	// Not under mu: a handler that ends takes it to forget its client.
	for _, c := range conns {
		go c.Close(websocket.StatusGoingAway, "server closed")
	}
	s.wg.Wait()
	return nil
}
