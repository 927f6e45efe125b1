package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

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

// daemonFlags are run's: most go straight into the daemon's Config.
type daemonFlags struct {
	cfg              daemon.Config
	sim              bool
	seed             uint64
	sensor           sensorFlags
	cal              calibFlags
	logLevel, config string
	simx             simFlags
	fusion           fusionFlags
	rig              rigFlags
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
	fs.StringVar(&f.cfg.Listen, "listen", DefaultListen, "control address `HOST:PORT` to receive commands on")
	fs.Var((*control.AllowList)(&f.cfg.Allow), "allow", "`CIDR` or address commands are accepted from and streams may go to; repeatable, or comma-separated (default: loopback only)")
	fs.IntVar(&f.cfg.RateHz, "rate", 200, fmt.Sprintf("sample rate in `HZ` (%d..%d)", sensor.MinRateHz, sensor.MaxRateHz))
	fs.IntVar(&f.cfg.Batch, "batch", 1, fmt.Sprintf("samples per datagram, `N` in 1..%d", telemetry.MaxBatch))
	registerSched(fs, &f.cfg)
	fs.DurationVar(&f.cfg.DefaultLease, "default-lease", 0, "the lease, a `DURATION`, of a start without lease= (0: none)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `LEVEL`: debug, info, warn or error")
	fs.StringVar(&f.config, "config", "", "config `FILE` of key = value lines named as these flags; flags override it")
	fs.StringVar(&f.cfg.KeyFile, "key", "", "key `FILE` (from imustream keygen): obey only commands signed with it; SIGHUP re-reads it")
	f.simx.register(fs)
	f.fusion.register(fs, "off")
	f.rig.register(fs)
	fs.BoolVar(&f.cfg.Announce, "announce", true, "announce the daemon on the LAN with DNS-SD over mDNS (_imustream._udp); --announce=false: silent")
	fs.StringVar(&f.cfg.AnnounceName, "announce-name", "", "the `NAME` announced: NAME._imustream._udp.local, and NAME.local resolves to this host (default: the host name)")
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
	f, err := parseDaemonFlags(name, args, stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return cli.Usagef("--log-level %q: want debug, info, warn or error", f.logLevel)
	}
	if err := checkRate(f.cfg.RateHz); err != nil {
		return err
	}
	if f.cfg.Batch < 1 || f.cfg.Batch > telemetry.MaxBatch {
		return cli.Usagef("--batch %d out of range 1..%d", f.cfg.Batch, telemetry.MaxBatch)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := f.cfg
	cfg.TuneRuntime, cfg.Notifier, cfg.Version, cfg.Logger = true, sdnotify.FromEnv(), version, log
	if _, err := net.ResolveUDPAddr("udp", cfg.Listen); err != nil {
		return cli.Usagef("--listen %q: %w", cfg.Listen, err)
	}
	if cfg.Rig, err = f.rig.config(); err != nil {
		return err
	}
	if cfg.Sensor, err = openDaemonSensor(f, log); err != nil {
		return err
	}
	d, err := daemon.New(cfg)
	if err != nil {
		cfg.Sensor.Halt()
		if errors.Is(err, daemon.ErrConfig) {
			return cli.Usagef("%w", err)
		}
		return err
	}
	ctx, stop := interrupted()
	defer stop()
	// Before the daemon is ready: from then on a SIGHUP reloads instead
	// of killing.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return d.RunReloading(ctx, hup, func() (daemon.Reloadable, error) { return reloadable(name, args) })
}

// registerSched adds the sender threads' real-time settings.
func registerSched(fs *flag.FlagSet, cfg *daemon.Config) {
	cfg.RTPriority, cfg.CPUs = daemon.DefaultRTPriority, daemon.CPUs{Auto: true}
	fs.Var(&cli.IntRange{P: &cfg.RTPriority, Min: 0, Max: 99}, "rt-priority",
		"SCHED_FIFO `PRIORITY` of the sender threads, 1..99, the rest of the daemon then runs at SCHED_FIFO 1; 0: normal priority. Falls back to normal priority, with a warning, when not permitted (needs CAP_SYS_NICE or LimitRTPRIO)")
	fs.Var(&cfg.CPUs, "cpu", "`CPUS` for the sender: auto (one thread on the last CPU the daemon may use, away from the Pi's interrupts on CPU 0, if it may use two or more; left unpinned without RT priority), "+
		"none (one thread on any CPU) or a list like 2,3 (a thread pinned to each, the first awake at a deadline does the tick, so one CPU held up does not delay the stream, for a wake-up of each thread per tick)")
	fs.DurationVar(&cfg.Spin, "spin", daemon.DefaultSpin, "at real-time priority, wake `DURATION` before each deadline and busy-wait the rest, so a wake-up delayed by less still starts the tick on time; costs up to this much CPU per tick, at most a tenth of the period; 0: sleep to the deadline")
	fs.BoolVar(&cfg.LockMemory, "mlock", false, "lock the daemon's memory (mlockall) so no tick waits for paging; needs CAP_IPC_LOCK or LimitMEMLOCK=infinity")
}

// reloadable is the allow list and key file in force after a reload: the
// command line's if it set them, else the config file's, read again.
// Other settings take effect at the next start.
func reloadable(name string, args []string) (daemon.Reloadable, error) {
	f, err := parseDaemonFlags(name, args, io.Discard)
	if err != nil {
		return daemon.Reloadable{}, err
	}
	return f.cfg.Reloadable, nil
}
