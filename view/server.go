package view

import (
	"context"
	"embed"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/imustream/imustream/internal/dropq"
)

//go:embed assets
var assets embed.FS

// Assets are the page's files: index.html, app.js, uPlot's script,
// style sheet and license.
func Assets() fs.FS {
	sub, _ := fs.Sub(assets, "assets")
	return sub
}

// writeTimeout bounds one frame's write to a page; a page that takes
// longer is disconnected.
const writeTimeout = 10 * time.Second

// Handler serves the page at / and its WebSocket at /ws. Control
// messages from a page go to ctl.
//
// It answers only requests whose Host is an IP address or localhost: a
// web site whose name an attacker points at 127.0.0.1 (DNS rebinding)
// would otherwise be this page's origin and could press its buttons.
func (h *Hub) Handler(ctl func(Op)) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(Assets()))
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) { h.serveWS(w, r, ctl) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !LiteralHost(r.Host) {
			http.Error(w, "view: serves only http://IP:PORT/ or http://localhost:PORT/", http.StatusMisdirectedRequest)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// LiteralHost reports whether a request's Host names this machine without
// a DNS name that could be rebound: an IP address, or localhost.
func LiteralHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return strings.EqualFold(host, "localhost")
}

// serveWS runs one page's connection: frames out, control messages in.
func (h *Hub) serveWS(w http.ResponseWriter, r *http.Request, ctl func(Op)) {
	// Accept checks that the page comes from this server (Origin).
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(MaxControl)
	p := &page{q: dropq.New(h.cfg.Queue)}
	h.add(p)
	defer h.remove(p)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		defer cancel()
		for {
			typ, b, err := conn.Read(ctx)
			if err != nil {
				return
			}
			op, err := ParseControl(b)
			if typ != websocket.MessageText || err != nil {
				continue // a page of this server sends none such
			}
			if ctl != nil {
				ctl(op)
			}
		}
	})
	var batch [][]byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.q.Done():
			conn.Close(websocket.StatusGoingAway, "view stopped")
			return
		case <-p.q.Ready():
		}
		batch = p.q.Take(batch[:0])
		for i, m := range batch {
			wctx, wcancel := context.WithTimeout(ctx, writeTimeout)
			err := conn.Write(wctx, websocket.MessageText, m)
			wcancel()
			batch[i] = nil
			if err != nil {
				return
			}
		}
	}
}
