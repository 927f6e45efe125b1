package daemon

import (
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/rig"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// RegisterFlags adds the daemon's network, timing and security flags to
// fs, bound to c and set to the CLI's defaults; their names are the config
// file's keys too.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", DefaultListen, "control address `HOST:PORT` to receive commands on")
	fs.Var((*control.AllowList)(&c.Allow), "allow", "`CIDR` or address commands are accepted from and streams may go to; repeatable, or comma-separated (default: loopback only)")
	fs.IntVar(&c.RateHz, "rate", 200, fmt.Sprintf("sample rate in `HZ` (%d..%d)", sensor.MinRateHz, sensor.MaxRateHz))
	fs.IntVar(&c.Batch, "batch", 1, fmt.Sprintf("samples per datagram, `N` in 1..%d", telemetry.MaxBatch))
	c.RegisterSchedFlags(fs)
	fs.DurationVar(&c.DefaultLease, "default-lease", 0, "the lease, a `DURATION`, of a start without lease= (0: none)")
	fs.StringVar(&c.KeyFile, "key", "", "key `FILE` (from imustream keygen): obey only commands signed with it; SIGHUP re-reads it")
	fs.BoolVar(&c.Announce, "announce", true, "announce the daemon on the LAN with DNS-SD over mDNS (_imustream._udp); --announce=false: silent")
	fs.StringVar(&c.AnnounceName, "announce-name", "", "the `NAME` announced: NAME._imustream._udp.local, and NAME.local resolves to this host (default: the host name)")
}

// RegisterSchedFlags adds the sender threads' real-time settings.
func (c *Config) RegisterSchedFlags(fs *flag.FlagSet) {
	c.RTPriority, c.CPUs = DefaultRTPriority, CPUs{Auto: true}
	fs.Var(&cli.IntRange{P: &c.RTPriority, Min: 0, Max: 99}, "rt-priority",
		"SCHED_FIFO `PRIORITY` of the sender threads, 1..99, the rest of the daemon then runs at SCHED_FIFO 1; 0: normal priority. Falls back to normal priority, with a warning, when not permitted (needs CAP_SYS_NICE or LimitRTPRIO)")
	fs.Var(&c.CPUs, "cpu", "`CPUS` for the sender: auto (one thread on the last CPU the daemon may use, away from the Pi's interrupts on CPU 0, if it may use two or more; left unpinned without RT priority), "+
		"none (one thread on any CPU) or a list like 2,3 (a thread pinned to each, the first awake at a deadline does the tick, so one CPU held up does not delay the stream, for a wake-up of each thread per tick)")
	fs.DurationVar(&c.Spin, "spin", DefaultSpin, "at real-time priority, wake `DURATION` before each deadline and busy-wait the rest, so a wake-up delayed by less still starts the tick on time; costs up to this much CPU per tick, at most a tenth of the period; 0: sleep to the deadline")
	fs.BoolVar(&c.LockMemory, "mlock", false, "lock the daemon's memory (mlockall) so no tick waits for paging; needs CAP_IPC_LOCK or LimitMEMLOCK=infinity")
}

// RigFlags are the rig front-end's flags (docs/rig.md); Config turns them
// into a RigConfig.
type RigFlags struct {
	Listen, Command, To, Layout string
	Timeout                     time.Duration
}

// RegisterFlags adds the --rig-… flags to fs, bound to r.
func (r *RigFlags) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&r.Listen, "rig-listen", "", "UDP `HOST:PORT` for a rig's binary start/stop packets (off by default; senders on the allow list only)")
	fs.StringVar(&r.Command, "rig-command", rig.DefaultCommand, "the rig packet, a `SPEC`: len, offset and type (u8 u16 u32 u64 i8 i16 i32 i64 f32 f64) of the command field, start and stop values, order=le|be, match=OFFSET:HEX")
	fs.StringVar(&r.To, "rig-to", "", "where the rig's samples go: `HOST:PORT`, or :PORT for the rig's own address")
	fs.DurationVar(&r.Timeout, "rig-timeout", rig.DefaultTimeout, "end the rig's stream after this `DURATION` without a start packet")
	fs.StringVar(&r.Layout, "rig-layout", rig.DefaultLayout, "the rig's sample struct, a `SPEC`: simulink, labview or NAME:TYPE,… with order=le|be and every=N (see imustream rig-layout)")
}

// Config is the RigConfig of the flags (ParseRig).
func (r *RigFlags) Config() (RigConfig, error) {
	return ParseRig(r.Listen, r.Command, r.To, r.Layout, r.Timeout)
}

// CheckFlags refuses a --rate, --batch or --listen the daemon cannot use,
// before the sensor is opened. Its errors name the flags: they are the
// command line's (or the config file's).
func (c *Config) CheckFlags() error {
	if err := CheckRate(c.RateHz); err != nil {
		return err
	}
	if c.Batch < 1 || c.Batch > telemetry.MaxBatch {
		return fmt.Errorf("--batch %d out of range 1..%d", c.Batch, telemetry.MaxBatch)
	}
	if _, err := net.ResolveUDPAddr("udp", c.Listen); err != nil {
		return fmt.Errorf("--listen %q: %w", c.Listen, err)
	}
	return nil
}

// CheckRate refuses a --rate outside the range a sensor is read at.
func CheckRate(hz int) error {
	if sensor.CheckRate(hz) != nil {
		return fmt.Errorf("--rate %d Hz out of range %d..%d", hz, sensor.MinRateHz, sensor.MaxRateHz)
	}
	return nil
}
