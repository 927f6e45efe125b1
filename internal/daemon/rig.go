package daemon

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/rig"
	"github.com/imustream/imustream/stream"
)

// RigConfig configures the rig front-end (package rig, docs/rig.md). It is
// off unless Listen or Conn is set.
type RigConfig struct {
	// Listen is the UDP address HOST:PORT the rig's packets come to.
	Listen string
	// Conn is a rig socket bound by the caller (tests); the caller closes
	// it after Run returns.
	Conn net.PacketConn
	// Command reads the rig's packets. It defaults to rig.DefaultCommand.
	Command *rig.Command
	// To is where the rig's samples go; required when the front-end is on.
	To *rig.Target
	// Timeout ends the rig's stream after this long without a start
	// packet. It defaults to rig.DefaultTimeout.
	Timeout time.Duration
	// Layout is the rig's sample struct. It defaults to rig.DefaultLayout.
	Layout *rig.Layout
}

// ParseRig is the RigConfig of the daemon's --rig-… flags: off without
// listen. Errors wrap ErrConfig and name the flag.
func ParseRig(listen, command, to, layout string, timeout time.Duration) (RigConfig, error) {
	if listen == "" {
		if to != "" {
			return RigConfig{}, fmt.Errorf("%w: --rig-to needs --rig-listen", ErrConfig)
		}
		return RigConfig{}, nil
	}
	c := RigConfig{Listen: listen, Timeout: timeout}
	var err error
	if c.Command, err = rig.ParseCommand(command); err != nil {
		return c, fmt.Errorf("%w: --rig-command: %w", ErrConfig, err)
	}
	if c.Layout, err = rig.ParseLayout(layout); err != nil {
		return c, fmt.Errorf("%w: --rig-layout: %w", ErrConfig, err)
	}
	if to == "" {
		return c, fmt.Errorf("%w: --rig-listen needs --rig-to HOST:PORT or :PORT", ErrConfig)
	}
	t, err := rig.ParseTarget(to)
	if err != nil {
		return c, fmt.Errorf("%w: --rig-to: %w", ErrConfig, err)
	}
	c.To = &t
	if timeout <= 0 {
		return c, fmt.Errorf("%w: --rig-timeout %v: want a positive duration", ErrConfig, timeout)
	}
	return c, nil
}

// On reports whether the front-end is configured.
func (c RigConfig) On() bool { return c.Listen != "" || c.Conn != nil }

// rigFront is the running front-end: its server and socket.
type rigFront struct {
	srv     *rig.Server
	conn    net.PacketConn
	ownConn bool
	layout  *rig.Layout
}

// newRig builds the front-end when it is configured; nil when it is not.
func (d *Daemon) newRig(st *streamControl) (*rigFront, error) {
	c := d.cfg.Rig
	if !c.On() {
		return nil, nil
	}
	if c.To == nil {
		return nil, fmt.Errorf("%w: the rig front-end needs a target (--rig-to HOST:PORT or :PORT)", ErrConfig)
	}
	if c.Timeout < 0 {
		return nil, fmt.Errorf("%w: rig timeout %v is negative", ErrConfig, c.Timeout)
	}
	layout := c.Layout
	if layout == nil {
		l, err := rig.ParseLayout(rig.DefaultLayout)
		if err != nil {
			return nil, err
		}
		layout = l
	}
	srv, err := rig.NewServer(rig.Config{Stream: &rigStream{streamControl: st, layout: layout},
		Command: c.Command, To: *c.To, Timeout: c.Timeout, Allowed: d.srv.Allowed, Logger: d.log})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	f := &rigFront{srv: srv, conn: c.Conn, layout: layout}
	if f.conn == nil {
		laddr, err := net.ResolveUDPAddr("udp", c.Listen)
		if err != nil {
			return nil, fmt.Errorf("%w: rig listen %q: %w", ErrConfig, c.Listen, err)
		}
		conn, err := net.ListenUDP("udp", laddr)
		if err != nil {
			return nil, fmt.Errorf("daemon: rig socket: %w", err)
		}
		f.conn, f.ownConn = conn, true
	}
	return f, nil
}

// RigCounters returns the rig front-end's counters; ok is false when it
// is off.
func (d *Daemon) RigCounters() (c rig.Counters, ok bool) {
	if d.rig == nil {
		return c, false
	}
	return d.rig.srv.Counters(), true
}

// RigAddr returns the rig socket's address, "" when the front-end is off.
func (d *Daemon) RigAddr() string {
	if d.rig == nil {
		return ""
	}
	return d.rig.conn.LocalAddr().String()
}

// status is the status reply's first part: the stream's, then the rig's.
func (d *Daemon) status() []control.Field {
	f := d.stream.status()
	if d.rig != nil {
		f = append(f, d.rig.srv.Status()...)
	}
	return f
}

// rigEnded tells the front-end of a stream's end, so that it counts a
// timeout and logs the rig's stop with its reason.
func (d *Daemon) rigEnded(e stream.End) {
	if d.rig != nil {
		d.rig.srv.Ended(e.Target, e.Reason == stream.EndExpired, e.Reason.String())
	}
}

func (f *rigFront) close() {
	if f != nil && f.ownConn {
		f.conn.Close()
	}
}

// rigStream is the stream as the rig drives it: its starts subscribe in
// the rig's layout.
type rigStream struct {
	*streamControl
	layout *rig.Layout
}

func (r *rigStream) Start(req control.StartRequest) (control.StartResult, error) {
	sub, created, err := r.subs.StartEncoded(req.Target, req.Lease, r.defLease, r.clock.Now(), req.Owner, r.layout)
	switch {
	case errors.Is(err, stream.ErrFull):
		return control.StartResult{}, &control.CommandError{Code: control.CodeFull, Err: err,
			Message: fmt.Sprintf("subscriber limit reached (%d)", stream.MaxSubscribers)}
	case errors.Is(err, stream.ErrOtherFormat):
		return control.StartResult{}, &control.CommandError{Code: control.CodeBadTarget, Err: err,
			Message: "the rig's target already gets the native stream; stop it or give --rig-to another port"}
	case err != nil:
		return control.StartResult{}, err
	}
	return control.StartResult{Created: created, Lease: sub.Lease(), Source: sub.Source}, nil
}
