package view

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/imustream/imustream/foxglove"
	"github.com/imustream/imustream/receiver"
)

// Site serves a View: its page, with the Foxglove WebSocket protocol at
// /foxglove, on one address, and Foxglove alone on another.
type Site struct {
	Fox     *foxglove.Server
	Page    net.Listener
	FoxOnly net.Listener // nil: none
	v       *View
	servers []*http.Server
}

// Listen binds the page's address and, unless foxAddr is "", Foxglove's
// own; nothing is served until Serve. Its errors name the flags (--http,
// --foxglove) of imustream view.
func Listen(pageAddr, foxAddr string, fox foxglove.ServerConfig) (*Site, error) {
	ln, err := net.Listen("tcp", pageAddr)
	if err != nil {
		return nil, fmt.Errorf("view: --http: %w", err)
	}
	s := &Site{Fox: foxglove.NewServer(fox), Page: ln}
	if foxAddr != "" {
		if s.FoxOnly, err = net.Listen("tcp", foxAddr); err != nil {
			ln.Close()
			return nil, fmt.Errorf("view: --foxglove: %w", err)
		}
	}
	return s, nil
}

// Where says where the page and Foxglove are, as view prints it.
func (s *Site) Where() string {
	w := fmt.Sprintf("view: open http://%s/ (Foxglove: ws://%s/foxglove", s.Page.Addr(), s.Page.Addr())
	if s.FoxOnly != nil {
		w += fmt.Sprintf(" or ws://%s", s.FoxOnly.Addr())
	}
	return w + ")"
}

// Serve serves v's page and Foxglove until Shutdown.
func (s *Site) Serve(v *View) {
	s.v = v
	mux := http.NewServeMux()
	mux.Handle("/foxglove", s.Fox)
	mux.Handle("/", v.Handler())
	s.servers = []*http.Server{{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go s.servers[0].Serve(s.Page)
	if s.FoxOnly != nil {
		s.servers = append(s.servers, &http.Server{Handler: s.Fox, ReadHeaderTimeout: 10 * time.Second})
		go s.servers[1].Serve(s.FoxOnly)
	}
}

// Shutdown closes Foxglove's connections and the servers, waiting up to
// 2 s for the requests in progress; before Serve it closes the listeners.
func (s *Site) Shutdown() {
	if s.servers == nil {
		s.Page.Close()
		if s.FoxOnly != nil {
			s.FoxOnly.Close()
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.Fox.Close()
	for _, srv := range s.servers {
		srv.Shutdown(ctx)
	}
}

// WriteSummary writes each run's summary, naming device, and what the
// pages and Foxglove clients were sent.
func (s *Site) WriteSummary(w io.Writer, device string, results []*receiver.RecordResult) {
	for _, res := range results {
		res.Summary.WriteText(w, device)
		fmt.Fprintf(w, "  ended          %s\n", res.Ended)
	}
	var hs HubStats
	if s.v != nil {
		hs = s.v.Hub().Stats()
	}
	fs := s.Fox.Stats()
	fmt.Fprintf(w, "view: %d page connections, %d frames sent, %d dropped for slow pages; Foxglove: %d clients, %d messages, %d dropped for slow clients\n",
		hs.Pages, hs.Frames-hs.Dropped, hs.Dropped, fs.Clients, fs.Published-fs.Dropped, fs.Dropped)
}

// ReportTo makes c's OnNote, OnRestart and OnRun write to w what
// imustream view says of them, each on a line of its own; with live,
// OnLive writes the progress over one line.
func (c *Config) ReportTo(w io.Writer, live bool) {
	c.OnNote = func(n receiver.Note) {
		switch n := n.(type) {
		case receiver.SessionGap:
			fmt.Fprintf(w, "\nview: %s\n", n)
		case receiver.RefreshFailed:
			fmt.Fprintf(w, "\nview: lease refresh failed: %v; no samples for %.1f s. Still trying\n", n.Err, n.Quiet.Seconds())
		case receiver.RefreshResumed:
			fmt.Fprintln(w, "\nview: the daemon answers again")
		}
	}
	c.OnRestart = func(after time.Duration) {
		fmt.Fprintf(w, "\nview: the daemon ended the stream; starting it again in %s\n", after)
	}
	c.OnRun = func(res *receiver.RecordResult, err error) {
		if res == nil && err != nil {
			fmt.Fprintf(w, "\nview: the stream did not start: %v; the page's Start tries again\n", err)
		}
	}
	if live {
		c.OnLive = func(p receiver.Progress) { fmt.Fprintf(w, "\r%s", p) }
	}
}
