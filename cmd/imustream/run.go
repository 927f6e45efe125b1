package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/sdnotify"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// DefaultListen is the daemon's control address unless --listen says
// otherwise: loopback, so a fresh install obeys no one on the network.
const DefaultListen = "127.0.0.1:7600"

// prefixList is a repeatable --allow flag.
type prefixList []netip.Prefix

func (p prefixList) String() string {
	s := make([]string, len(p))
	for i, v := range p {
		s[i] = v.String()
	}
	return strings.Join(s, ",")
}

func (p *prefixList) Set(v string) error {
	for _, f := range strings.Split(v, ",") {
		pr, err := parsePrefix(strings.TrimSpace(f))
		if err != nil {
			return err
		}
		*p = append(*p, pr)
	}
	return nil
}

// parsePrefix takes a CIDR or a single address.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("%q is not a CIDR like 192.168.1.0/24 or an address", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR like 192.168.1.0/24 or an address", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

type daemonFlags struct {
	sim          bool
	seed         uint64
	sensor       sensorFlags
	cal          calibFlags
	sched        schedFlags
	listen       string
	allow        prefixList
	rate, batch  int
	defaultLease time.Duration
	logLevel     string
	config       string
	auth         authFlags
}

func runDaemon(name string, args []string, _, stderr io.Writer) error {
	var f daemonFlags
	fs := newFlags(name, stderr)
	fs.BoolVar(&f.sim, "sim", false, "use the simulated sensor, no hardware needed (short for --sensor sim)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the simulated sensor")
	f.sensor.register(fs)
	f.sensor.registerPressure(fs)
	f.cal.register(fs)
	fs.StringVar(&f.listen, "listen", DefaultListen, "control address HOST:PORT to receive commands on")
	fs.Var(&f.allow, "allow", "CIDR or address commands are accepted from and streams may go to; repeatable (default loopback only)")
	fs.IntVar(&f.rate, "rate", 200, "sample rate in Hz (1..10000)")
	fs.IntVar(&f.batch, "batch", 1, fmt.Sprintf("samples per datagram (1..%d)", telemetry.MaxBatch))
	f.sched.register(fs)
	fs.DurationVar(&f.defaultLease, "default-lease", 0, "lease for a start without lease= (0: none)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.config, "config", "", "config file of key = value lines named as these flags; flags override it")
	f.auth.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f.auth.noteCommandLine()
	if f.config != "" {
		if err := loadConfig(fs, f.config, true); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("%w: --log-level %q: want debug, info, warn or error", errUsage, f.logLevel)
	}
	if f.rate < 1 || f.rate > 10000 {
		return fmt.Errorf("%w: --rate %d Hz out of range 1..10000", errUsage, f.rate)
	}
	if f.batch < 1 || f.batch > telemetry.MaxBatch {
		return fmt.Errorf("%w: --batch %d out of range 1..%d", errUsage, f.batch, telemetry.MaxBatch)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	sens, err := openDaemonSensor(&f, log)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return serve(ctx, f, sens, log)
}

// serve runs the two goroutines until ctx ends.
func serve(ctx context.Context, f daemonFlags, sens sensor.Sensor, log *slog.Logger) error {
	defer sens.Halt()
	laddr, err := net.ResolveUDPAddr("udp", f.listen)
	if err != nil {
		return fmt.Errorf("%w: --listen %q: %w", errUsage, f.listen, err)
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer conn.Close()
	cpus, err := f.sched.cpus()
	if err != nil {
		return err
	}
	reserveProcs(len(cpus))
	quietGC()
	subs := telemetry.NewSubscribers()
	sender, err := telemetry.NewSender(telemetry.Config{
		Sensor: sens, Subs: subs, RateHz: f.rate, Batch: f.batch, Logger: log,
		RTPriority: f.sched.rtPriority, CPUs: cpus, PinOnlyRealtime: f.sched.cpu.auto, LockMemory: f.sched.mlock,
		Spin: f.sched.spin, Pressure: hasPressure(sens),
	})
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	key, replay, err := f.auth.open()
	if err != nil {
		return err
	}
	srv, err := control.NewServer(control.ServerConfig{
		Conn: conn, Subs: subs, Sender: sender, Allow: f.allow,
		DefaultLease: f.defaultLease, Sensor: sens.String(), Version: version, Logger: log,
		Key: key, Replay: replay,
	})
	if err != nil {
		return err
	}
	// Before "ready": from then on a SIGHUP reloads instead of killing.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	allowNote := "configured"
	if len(f.allow) == 0 {
		allowNote = "default: loopback only; pass --allow CIDR to accept a control PC"
	}
	log.Info("imustream daemon ready", "version", version, "listen", conn.LocalAddr().String(),
		"sensor", sens.String(), "rate_hz", f.rate, "batch", f.batch,
		"allow", prefixList(srv.Allow()).String(), "allow_source", allowNote, "auth", authNote(key, replay))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Go(func() { errc <- sender.Run(ctx) })
	wg.Go(func() { errc <- srv.Serve() })
	wg.Go(func() { watchReload(ctx, hup, f, srv, replay != nil, log) })
	wg.Go(func() { notifySystemd(ctx, sdnotify.FromEnv(), sender, subs, log) })
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	// Closing the socket unblocks ReadFrom; the sender ends every stream
	// with an end-of-stream datagram once ctx is done.
	cancel()
	conn.Close()
	wg.Wait()
	st := sender.Stats()
	log.Info("imustream daemon stopped", "ticks", st.Ticks, "datagrams", st.Datagrams,
		"late", st.Late, "skipped", st.Skipped, "sensor_errors", st.SensorErrors, "send_errors", st.SendErrors)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
