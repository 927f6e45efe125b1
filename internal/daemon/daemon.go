// Package daemon assembles the imustream daemon: the sensor, the sender
// (package stream), the command goroutine (package control), and the small
// components around them (runtime tuning, systemd's watchdog). The CLI's run
// command turns flags and the config file into a Config and calls Run; the
// end-to-end tests do the same without a process.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/internal/sdnotify"
	"github.com/imustream/imustream/rig"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/stream"
	"github.com/imustream/imustream/telemetry"
)

// DefaultListen is the control address unless Config.Listen says
// otherwise: loopback, so a fresh install obeys no one on the network.
const DefaultListen = "127.0.0.1:7600" // control.DefaultPort on loopback

// ErrConfig marks a Config that cannot run; the CLI exits 2 on it.
var ErrConfig = errors.New("daemon: bad configuration")

// Reloadable is the part of the configuration that Reload changes while
// the daemon runs, without touching the stream.
type Reloadable struct {
	// Allow lists the networks commands are accepted from and streams may
	// go to. It defaults to control.DefaultAllow (loopback).
	Allow []netip.Prefix
	// KeyFile, when set, makes the daemon obey only commands signed with
	// the key in it (control.LoadKey), and tag the telemetry of the streams
	// signed starts ask for.
	KeyFile string
}

// Config configures a Daemon. Zero fields take the documented defaults.
type Config struct {
	Reloadable
	// Sensor is read every tick; required. Run halts it when it ends.
	Sensor sensor.Sensor
	// Listen is the control address HOST:PORT. It defaults to
	// DefaultListen. Ignored when Conn is set.
	Listen string
	// Conn is a control socket bound by the caller (tests, systemd socket
	// activation); the caller closes it after Run returns.
	Conn net.PacketConn
	// RateHz is the sample rate (sensor.CheckRate). It defaults to 200.
	RateHz int
	// Batch is the number of samples per datagram. It defaults to 1.
	Batch int
	// DefaultLease applies to a start without lease=; 0 means none.
	DefaultLease time.Duration
	// RTPriority, CPUs, Spin and LockMemory schedule the sender threads
	// (stream.Config). CPUs defaults to one thread on any CPU.
	RTPriority int
	CPUs       CPUs
	Spin       time.Duration
	LockMemory bool
	// TuneRuntime lets the daemon change process-wide Go runtime settings
	// for the sender (see tuning.go); the CLI sets it, tests need not.
	TuneRuntime bool
	// Clock defaults to rt.MonoClock.
	Clock rt.Clock
	// Notifier, when set, is told the daemon's state (systemd Type=notify);
	// it defaults to none. The CLI passes sdnotify.FromEnv().
	Notifier *sdnotify.Notifier
	// Version is named in ping and status replies.
	Version string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Rig is the rig front-end (rig.go); off by default.
	Rig RigConfig
	// Announce makes the daemon announce itself on the LAN with DNS-SD
	// over mDNS (announce.go) as AnnounceName (default: the host name).
	// It defaults to false; the CLI's --announce to true.
	Announce     bool
	AnnounceName string
}

// Validate checks the settings that need no system resources.
func (c *Config) Validate() error {
	if c.Sensor == nil {
		return fmt.Errorf("%w: no sensor", ErrConfig)
	}
	if c.RateHz != 0 {
		if err := sensor.CheckRate(c.RateHz); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	if c.Batch < 0 || c.Batch > telemetry.MaxBatch {
		return fmt.Errorf("%w: batch %d out of range 1..%d", ErrConfig, c.Batch, telemetry.MaxBatch)
	}
	if c.DefaultLease < 0 {
		return fmt.Errorf("%w: default lease %v is negative", ErrConfig, c.DefaultLease)
	}
	return nil
}

// Daemon is one running daemon: a sender and a command server on one
// control socket.
type Daemon struct {
	cfg     Config
	log     *slog.Logger
	conn    net.PacketConn
	ownConn bool
	subs    *stream.Subscribers
	sender  *stream.Sender
	stream  *streamControl
	ends    chan stream.End
	srv     *control.Server
	rig     *rigFront // nil when off
	tuning  *tuning

	reloadMu sync.Mutex // one Reload at a time
}

// New checks cfg, binds the control socket (unless cfg.Conn is given) and
// builds the sender and the server; nothing runs until Run. On error
// nothing is left open, except the sensor, which stays the caller's.
func New(cfg Config) (*Daemon, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = rt.MonoClock{}
	}
	d := &Daemon{cfg: cfg, log: cfg.Logger}
	ok := false
	defer func() {
		if !ok {
			d.close()
		}
	}()
	key, err := control.LoadKeyIf(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	cpus, pinOnlyRT, err := cfg.CPUs.Resolve()
	if err != nil {
		return nil, err
	}
	d.subs = stream.NewSubscribers()
	d.ends = make(chan stream.End, 64)
	var sender *stream.Sender
	sender, err = stream.NewSender(stream.Config{Ends: d.ends,
		Sensor: cfg.Sensor, Subs: d.subs, RateHz: cfg.RateHz, Batch: cfg.Batch, Clock: cfg.Clock, Logger: cfg.Logger,
		RTPriority: cfg.RTPriority, CPUs: cpus, PinOnlyRealtime: pinOnlyRT, LockMemory: cfg.LockMemory,
		Spin: cfg.Spin, Pressure: HasPressure(cfg.Sensor), MagQuat: HasMagQuat(cfg.Sensor),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	d.sender = sender
	st := &streamControl{subs: d.subs, sender: sender, clock: cfg.Clock, sensor: cfg.Sensor, defLease: cfg.DefaultLease,
		pressure: HasPressure(cfg.Sensor), magQuat: HasMagQuat(cfg.Sensor), batch: sender.Stats().Batch}
	d.stream = st
	srv, err := control.NewServer(control.ServerConfig{
		Stream: st, Status: d.status, Allow: cfg.Allow,
		Version: cfg.Version, Logger: cfg.Logger, Key: key,
	})
	if err != nil {
		return nil, err
	}
	d.srv = srv
	if d.rig, err = d.newRig(st); err != nil {
		return nil, err
	}
	if cfg.TuneRuntime {
		d.tuning = &tuning{senderThreads: max(1, len(cpus))}
		if cfg.RTPriority > RuntimePriority {
			d.tuning.rtPrio = RuntimePriority
		}
	}
	if cfg.Conn != nil {
		d.conn = cfg.Conn
	} else {
		listen := cfg.Listen
		if listen == "" {
			listen = DefaultListen
		}
		laddr, err := net.ResolveUDPAddr("udp", listen)
		if err != nil {
			return nil, fmt.Errorf("%w: listen %q: %w", ErrConfig, listen, err)
		}
		conn, err := net.ListenUDP("udp", laddr)
		if err != nil {
			return nil, fmt.Errorf("daemon: control socket: %w", err)
		}
		d.conn, d.ownConn = conn, true
	}
	// Telemetry leaves from the address commands come to (see SetSource).
	d.subs.SetSource(d.Addr().Addr())
	ok = true
	return d, nil
}

// Addr returns the control socket's address.
func (d *Daemon) Addr() netip.AddrPort {
	if ua, ok := d.conn.LocalAddr().(*net.UDPAddr); ok {
		return ua.AddrPort()
	}
	return netip.AddrPort{}
}

// Stats returns the sender's counters.
func (d *Daemon) Stats() stream.Stats { return d.sender.Stats() }

// Targets lists the destinations streamed to.
func (d *Daemon) Targets() []netip.AddrPort { return d.stream.Targets() }

// Boot returns the boot nonce signed commands must carry.
func (d *Daemon) Boot() string { return d.srv.Boot() }

// Counters returns the command server's counters.
func (d *Daemon) Counters() control.Counters { return d.srv.Counters() }

// Run streams and serves commands until ctx ends or the control socket
// breaks. On the way out it stops reading commands, ends every stream with
// an end-of-stream datagram, stops the components, closes the socket it
// opened and halts the sensor; it returns nil after a shutdown by ctx.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.close()
	d.tuning.start()
	defer d.tuning.stop()
	log := d.log
	if d.tuning != nil && d.tuning.rtErr != nil {
		log.Warn("the daemon's threads other than the sender's stay at normal priority", "err", d.tuning.rtErr)
	}
	allowNote := "configured"
	if len(d.cfg.Allow) == 0 {
		allowNote = "default: loopback only; pass --allow CIDR to accept a control PC"
	}
	if d.rig != nil {
		log.Info("rig front-end listening", "rig_listen", d.RigAddr(), "rig_to", d.cfg.Rig.To.String(),
			"rig_layout", d.rig.layout.String(), "rig_size", d.rig.layout.Size)
	}
	log.Info("imustream daemon ready", "version", d.cfg.Version, "listen", d.conn.LocalAddr().String(),
		"sensor", d.cfg.Sensor.String(), "rate_hz", d.sender.Stats().RateHz, "batch", d.sender.Stats().Batch,
		"allow", control.AllowList(d.srv.Allow()).String(), "allow_source", allowNote, "auth", d.authNote())
	d.warnWide()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	logged := make(chan struct{})
	go func() { defer close(logged); d.logEnds() }()
	wg.Go(func() {
		errc <- d.sender.Run(ctx)
		close(d.ends) // the sender's last ends are in
	})
	wg.Go(func() { errc <- d.srv.Serve(ctx, d.conn) })
	if d.rig != nil {
		wg.Go(func() { errc <- d.rig.srv.Serve(ctx, d.rig.conn) })
	}
	if w := newWatchdog(d.cfg.Notifier, d.sender, d.subs, d.cfg.Clock, log); w != nil {
		wg.Go(func() { w.run(ctx) })
	}
	if a := newAnnouncer(d); a != nil {
		wg.Go(func() { a.run(ctx) })
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	// The server stops first, so no command starts a stream the sender
	// would not end; the sender then ends every stream once ctx is done.
	cancel()
	wg.Wait()
	<-logged
	st := d.sender.Stats()
	log.Info("imustream daemon stopped", "ticks", st.Ticks, "datagrams", st.Datagrams,
		"late", st.Late, "skipped", st.Skipped, "sensor_errors", st.SensorErrors, "send_errors", st.SendErrors)
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, control.ErrServerClosed) && !errors.Is(err, rig.ErrServerClosed) {
		return err
	}
	return nil
}

// logEnds logs every stream's end with its reason until the sender is
// done: the sender thread itself never writes a log line.
func (d *Daemon) logEnds() {
	for e := range d.ends {
		d.log.Info("stream ended", "to", e.Target, "reason", e.Reason.String(), "datagrams", e.Datagrams)
		d.rigEnded(e)
	}
}

// close releases what New opened.
func (d *Daemon) close() {
	if d.ownConn && d.conn != nil {
		d.conn.Close()
	}
	d.rig.close()
	if d.cfg.Sensor != nil {
		_ = d.cfg.Sensor.Halt()
	}
}

// Reload applies r while the daemon runs: the allow list (streams to
// targets outside the new one end) and the key. A key file that does not
// load, a key without the state directory given at start, or a reload that
// would turn authentication off leaves the running configuration as it
// is and returns why.
func (d *Daemon) Reload(r Reloadable) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	var key *control.Key
	switch {
	case r.KeyFile != "":
		k, err := control.LoadKey(r.KeyFile)
		if err != nil {
			return err
		}
		key = &k
	case d.srv.Authenticated():
		// Dropping authentication by a slip in a file is too easy.
		return errors.New("daemon: the configuration names no key: turning authentication off needs a restart")
	}
	d.srv.SetKey(key)
	ended := d.srv.SetAllow(r.Allow)
	auth := "none"
	if key != nil {
		auth = "hmac-sha256 (" + r.KeyFile + ")"
	}
	d.warnWide()
	d.log.Info("configuration reloaded", "allow", control.AllowList(d.srv.Allow()).String(), "auth", auth,
		"streams_ended", len(ended), "note", "allow and key only; other settings change at the next start")
	for _, t := range ended {
		d.log.Info("stream ended: target no longer allowed", "to", t)
	}
	return nil
}

// warnWide says loudly when the allow list admits every address.
func (d *Daemon) warnWide() {
	if l := control.AllowList(d.srv.Allow()); l.Wide() {
		d.log.Warn("the allow list admits every address (a /0): anyone who can reach the control port commands the daemon; name your control PC's network instead", "allow", l.String())
	}
}

func (d *Daemon) authNote() string {
	if !d.srv.Authenticated() {
		return "none: the allow list is the only check; pass --key to require signed commands"
	}
	return "hmac-sha256: signed commands (boot " + d.srv.Boot() + "), tagged telemetry for signed starts"
}
