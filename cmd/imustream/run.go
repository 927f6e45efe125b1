package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/internal/config"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/sdnotify"
	"github.com/imustream/imustream/sensor/calib"
	"github.com/imustream/imustream/sensor/fusion"
	"github.com/imustream/imustream/sensor/sim"
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
	cal              calib.Flags
	logLevel, config string
	simx             sim.Opts
	fusion           fusion.Flags
	rig              daemon.RigFlags
}

// parseDaemonFlags reads run's command line and then its config file,
// which sets what the command line did not. A reload calls it again.
func parseDaemonFlags(name string, args []string, stderr io.Writer) (*daemonFlags, error) {
	var f daemonFlags
	fs := app.NewFlags(name, stderr)
	fs.BoolVar(&f.sim, "sim", false, "use the simulated sensor, no hardware needed (short for --sensor sim)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed `N` of the simulated sensor")
	f.sensor.register(fs)
	f.sensor.det.RegisterStreamFlags(fs)
	f.cal.RegisterFlags(fs)
	f.cfg.RegisterFlags(fs)
	fs.StringVar(&f.logLevel, "log-level", "info", "log `LEVEL`: debug, info, warn or error")
	fs.StringVar(&f.config, "config", "", "config `FILE` of key = value lines named as these flags; flags override it")
	f.simx.RegisterFlags(fs)
	f.fusion.RegisterFlags(fs, "off")
	f.rig.RegisterFlags(fs)
	app.GroupFlags(fs, "Sensor: sensor sim seed bus addr accel-range gyro-range dlpf pressure fifo mag calibration mount", sim.FlagGroup, fusion.FlagGroup,
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
	if err := f.cfg.CheckFlags(); err != nil {
		return cli.Usagef("%w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := f.cfg
	cfg.TuneRuntime, cfg.Notifier, cfg.Version, cfg.Logger = true, sdnotify.FromEnv(), version, log
	if cfg.Rig, err = f.rig.Config(); err != nil {
		return cli.Usagef("%w", err)
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
