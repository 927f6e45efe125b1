package bench

import (
	"flag"
	"fmt"

	"github.com/imustream/imustream/internal/cli"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// RegisterFlags adds imustream bench's flags to fs, bound to c; c's
// values (DefaultConfig) are the defaults of those that have one.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.Duration, "duration", c.Duration, "how long to measure (after the warm-up)")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "streaming before the measurement starts, left out of the figures")
	fs.IntVar(&c.RateHz, "rate", c.RateHz, fmt.Sprintf("sample rate in Hz (%d..%d)", sensor.MinRateHz, sensor.MaxRateHz))
	fs.IntVar(&c.Batch, "batch", c.Batch, fmt.Sprintf("samples per datagram (1..%d)", telemetry.MaxBatch))
	fs.IntVar(&c.Load, "load", 0, "CPU-bound busy processes to run during the measurement")
	fs.IntVar(&c.FloodPPS, "flood", 0, "control packets per second sent to the daemon from a disallowed address (127.0.0.2), every other second of the measurement")
	fs.BoolVar(&c.Rig, "rig", false, "run the daemon's rig front-end, with a rig sending its start packet every second and taking its samples (docs/rig.md)")
	fs.IntVar(&c.Commands, "commands", 0, "status commands per second sent to the daemon from an allowed address (127.0.0.1) during the measurement: its command goroutine allocates, so the daemon collects garbage")
	fs.BoolVar(&c.Baseline, "baseline", false, "also measure, at the same time, a plain time.Ticker loop doing the same job")
	fs.Var(&cli.IntRange{P: &c.RTPriority, Min: 0, Max: 99}, "rt-priority", "the daemon's --rt-priority (0: normal priority)")
	fs.Var(&c.CPU, "cpu", "the daemon's --cpu: auto, none or a list of CPUs")
	fs.BoolVar(&c.Mlock, "mlock", false, "pass --mlock to the daemon")
	fs.DurationVar(&c.Spin, "spin", c.Spin, "the daemon's --spin")
	fs.BoolVar(&c.Floor, "floor", false, "also measure, at the same time, the machine's floor: threads scheduled like the daemon's sender threads, half a period off its grid, that only wake up")
	fs.StringVar(&c.Peer, "peer", "", "also measure, at the same time, the streamer at PATH, e.g. a minimal C loop (docs/performance.md says what it must do)")
	fs.BoolVar(&c.FIFO, "fifo", false, "run the daemon's simulator in its FIFO mode (run --fifo on): samples timed by a sensor clock 50 ppm fast, collected every 5 ms")
	fs.IntVar(&c.Cycles, "cycles", c.Cycles, "start/stop cycles for the start → first datagram and stop → end latencies")
}
