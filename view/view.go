package view

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/receiver"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// Sink takes each sample recorded, as receiver.RecordConfig.OnSample: it
// must return at once.
type Sink interface {
	Sample(h *telemetry.Header, seq uint32, s *sensor.Sample)
}

// Config is what a View does. Zero fields mean the defaults.
type Config struct {
	// Lease, Key, Device and Program are each run's, as in
	// receiver.RecordConfig.
	Lease           time.Duration
	Key             *control.Key
	Device, Program string
	// Hub paces the pages.
	Hub HubConfig
	// Sinks take every sample too (the Foxglove server).
	Sinks []Sink
	// Stopped starts the view without a run: the page's start button
	// starts one. It defaults to false: a run starts at once.
	Stopped bool
	// OnLive receives each run's progress every LiveEvery (default
	// 500 ms) and OnNote its notes, as receiver.RecordConfig's; OnRun
	// each run's result (nil when it did not start) and error as it
	// ends, but for a first start that fails, which Run returns. nil:
	// nothing.
	OnLive    func(receiver.Progress)
	LiveEvery time.Duration
	OnNote    func(receiver.Note)
	OnRun     func(*receiver.RecordResult, error)
	// OnRestart hears that the daemon ended the stream and the view
	// starts it again after the duration given. nil: nothing.
	OnRestart func(after time.Duration)
}

// View runs the stream for the pages: a receiver.Recording per run, its
// samples to the Hub and the Sinks.
type View struct {
	cfg  Config
	hub  *Hub
	cur  atomic.Pointer[receiver.Recording]
	want chan bool // the latest start/stop asked, 1 deep
	ran  atomic.Bool
	nats *NATSSource // NewNATS's: the stream read from NATS
}

// New returns a view; hand its Receive every datagram (the control
// client's OnData), serve its Handler, and Run it.
func New(cfg Config) *View {
	if cfg.LiveEvery <= 0 {
		cfg.LiveEvery = 500 * time.Millisecond
	}
	if cfg.Hub.Title == "" {
		cfg.Hub.Title = cfg.Device
	}
	return &View{cfg: cfg, hub: NewHub(cfg.Hub), want: make(chan bool, 1)}
}

// Hub is the view's hub.
func (v *View) Hub() *Hub { return v.hub }

// Handler serves the page and its WebSocket.
func (v *View) Handler() http.Handler {
	if v.cfg.Hub.ReadOnly != "" {
		return v.hub.Handler(nil) // no buttons: what a page sends is ignored
	}
	return v.hub.Handler(v.Control)
}

// Receive takes a datagram from the daemon for the current run; without
// one it is dropped.
func (v *View) Receive(b []byte, from netip.AddrPort) {
	if r := v.cur.Load(); r != nil {
		r.Receive(b, from)
	}
}

// Control asks for a start or a stop; it never waits.
func (v *View) Control(op Op) {
	on := op == OpStart
	for {
		select {
		case v.want <- on:
			return
		default:
		}
		select { // replace what is pending: the latest wins
		case <-v.want:
		default:
		}
	}
}

// Run serves the pages and runs the stream, one run per start, until ctx
// ends; it returns each run's result and what failed. When the first
// start fails (the daemon does not answer) Run returns at once with its
// error; a later run that does not start leaves the view stopped, and a
// page may start it again. A stream the daemon ends is started again
// after RestartAfter.
func (v *View) Run(ctx context.Context, dev receiver.Device) ([]*receiver.RecordResult, error) {
	if v.nats != nil {
		return nil, errors.New("view: a view of NATS runs with RunNATS")
	}
	if v.ran.Swap(true) {
		return nil, errors.New("view: a view runs once")
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	hubCtx, stopHub := context.WithCancel(ctx)
	defer stopHub()
	wg.Go(func() { v.hub.Run(hubCtx) })

	var results []*receiver.RecordResult
	var errs []error
	on := !v.cfg.Stopped
	for {
		if !on {
			select {
			case <-ctx.Done():
				return results, errors.Join(errs...)
			case on = <-v.want:
				continue
			}
		}
		res, asked, err := v.run(ctx, dev)
		if err != nil && res == nil && len(results) == 0 && len(errs) == 0 && ctx.Err() == nil {
			return nil, err // the first start failed: say so now
		}
		if v.cfg.OnRun != nil {
			v.cfg.OnRun(res, err)
		}
		if res != nil {
			results = append(results, res)
		}
		if err != nil && ctx.Err() == nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			return results, errors.Join(errs...)
		}
		on = false
		if res != nil && res.Ending == receiver.EndDaemon && !asked {
			// The daemon ended the stream nobody here stopped (it
			// restarted, or the lease ran out while this host was
			// starved): the pages still want it.
			if v.cfg.OnRestart != nil {
				v.cfg.OnRestart(RestartAfter)
			}
			select {
			case <-ctx.Done():
				return results, errors.Join(errs...)
			case on = <-v.want:
			case <-time.After(RestartAfter):
				on = true
			}
		}
	}
}

// RestartAfter is how long the view waits to start the stream again after
// the daemon ended it.
const RestartAfter = time.Second

// run is one run: until a stop (asked), ctx's end or the stream's end.
func (v *View) run(ctx context.Context, dev receiver.Device) (res *receiver.RecordResult, asked bool, err error) {
	samplers := append([]Sink{v.hub}, v.cfg.Sinks...)
	rc, err := receiver.NewRecording(receiver.RecordConfig{
		Lease: v.cfg.Lease, Key: v.cfg.Key, Device: v.cfg.Device, Program: v.cfg.Program,
		LiveEvery: v.cfg.LiveEvery,
		OnLive: func(p receiver.Progress) {
			v.hub.SetProgress(p)
			if v.cfg.OnLive != nil {
				v.cfg.OnLive(p)
			}
		},
		OnNote: v.cfg.OnNote,
		OnSample: func(h *telemetry.Header, seq uint32, s *sensor.Sample) {
			for _, k := range samplers {
				k.Sample(h, seq, s)
			}
		},
	})
	if err != nil {
		return nil, false, err
	}
	v.cur.Store(rc)
	v.hub.SetRunning(true)
	defer func() { v.cur.Store(nil); v.hub.SetRunning(false) }()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	type result struct {
		res *receiver.RecordResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := rc.Run(runCtx, dev)
		done <- result{res, err}
	}()
	for {
		select {
		case r := <-done:
			return r.res, asked, r.err
		case on := <-v.want:
			if !on {
				asked = true
				stop()
			}
		}
	}
}
