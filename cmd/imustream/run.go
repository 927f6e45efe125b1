package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/internal/config"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/sdnotify"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// DefaultListen is the daemon's control address unless --listen says
// otherwise.
const DefaultListen = daemon.DefaultListen

type daemonFlags struct {
	sim          bool
	seed         uint64
	sensor       sensorFlags
	cal          calibFlags
	sched        schedFlags
	listen       string
	allow        control.AllowList
	rate, batch  int
	defaultLease time.Duration
	logLevel     string
	config       string
	auth         authFlags
	simx         simFlags
	fusion       fusionFlags
	rig          rigFlags
	announce     bool
	announceName string
}

// parseDaemonFlags reads run's command line and then its config file,
// which sets what the command line did not. A reload calls it again.
func parseDaemonFlags(name string, args []string, stderr io.Writer) (*daemonFlags, error) {
	var f daemonFlags
	fs := newFlags(name, stderr)
	fs.BoolVar(&f.sim, "sim", false, "use the simulated sensor, no hardware needed (short for --sensor sim)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed `N` of the simulated sensor")
	f.sensor.register(fs)
	f.sensor.registerPressure(fs)
	f.sensor.registerFIFO(fs)
	f.sensor.registerMag(fs)
	f.cal.register(fs)
	fs.StringVar(&f.listen, "listen", DefaultListen, "control address `HOST:PORT` to receive commands on")
	fs.Var(&f.allow, "allow", "`CIDR` or address commands are accepted from and streams may go to; repeatable, or comma-separated (default: loopback only)")
	fs.IntVar(&f.rate, "rate", 200, fmt.Sprintf("sample rate in `HZ` (%d..%d)", sensor.MinRateHz, sensor.MaxRateHz))
	fs.IntVar(&f.batch, "batch", 1, fmt.Sprintf("samples per datagram, `N` in 1..%d", telemetry.MaxBatch))
	f.sched.register(fs)
	fs.DurationVar(&f.defaultLease, "default-lease", 0, "the lease, a `DURATION`, of a start without lease= (0: none)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `LEVEL`: debug, info, warn or error")
	fs.StringVar(&f.config, "config", "", "config `FILE` of key = value lines named as these flags; flags override it")
	f.auth.register(fs)
	f.simx.register(fs)
	f.fusion.register(fs, "off")
	f.rig.register(fs)
	fs.BoolVar(&f.announce, "announce", true, "announce the daemon on the LAN with DNS-SD over mDNS (_imustream._udp); --announce=false: silent")
	fs.StringVar(&f.announceName, "announce-name", "", "the `NAME` announced: NAME._imustream._udp.local, and NAME.local resolves to this host (default: the host name)")
	groupFlags(fs, "Sensor: sensor sim seed bus addr accel-range gyro-range dlpf pressure fifo mag calibration mount", simGroup, fusionGroup,
		"Network: listen allow default-lease announce announce-name", "Timing: rate batch rt-priority cpu spin mlock",
		"Security: key", "Rig: rig-listen rig-command rig-to rig-timeout rig-layout", "Logging/config: log-level config")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	if f.config != "" {
		if err := config.Load(fs, f.config, true); err != nil {
			return nil, cli.Usagef("%w", err)
		}
	}
	return &f, nil
}

func runDaemon(name string, args []string, _, stderr io.Writer) error {
	fp, err := parseDaemonFlags(name, args, stderr)
	if err != nil {
		return err
	}
	f := *fp
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return cli.Usagef("--log-level %q: want debug, info, warn or error", f.logLevel)
	}
	if err := checkRate(f.rate); err != nil {
		return err
	}
	if f.batch < 1 || f.batch > telemetry.MaxBatch {
		return cli.Usagef("--batch %d out of range 1..%d", f.batch, telemetry.MaxBatch)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg, err := f.daemonConfig(log)
	if err != nil {
		return err
	}
	sens, err := openDaemonSensor(&f, log)
	if err != nil {
		return err
	}
	cfg.Sensor = sens
	d, err := daemon.New(cfg)
	if err != nil {
		sens.Halt()
		if errors.Is(err, daemon.ErrConfig) {
			return cli.Usagef("%w", err)
		}
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// Before the daemon is ready: from then on a SIGHUP reloads instead
	// of killing.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { watchReload(ctx, hup, name, args, d, log) })
	err = d.Run(ctx)
	cancel()
	wg.Wait()
	return err
}

// daemonConfig is the daemon's configuration from the flags, less the
// sensor.
func (f *daemonFlags) daemonConfig(log *slog.Logger) (daemon.Config, error) {
	cfg := daemon.Config{
		Reloadable:   daemon.Reloadable{Allow: f.allow, KeyFile: f.auth.key},
		Listen:       f.listen,
		RateHz:       f.rate,
		Batch:        f.batch,
		DefaultLease: f.defaultLease,
		RTPriority:   f.sched.rtPriority,
		CPUs:         f.sched.cpu,
		Spin:         f.sched.spin,
		LockMemory:   f.sched.mlock,
		TuneRuntime:  true,
		Notifier:     sdnotify.FromEnv(),
		Version:      version,
		Logger:       log,
		Announce:     f.announce,
		AnnounceName: f.announceName,
	}
	if _, err := net.ResolveUDPAddr("udp", f.listen); err != nil {
		return cfg, cli.Usagef("--listen %q: %w", f.listen, err)
	}
	var err error
	cfg.Rig, err = f.rig.config()
	return cfg, err
}
