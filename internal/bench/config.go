package bench

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

var (
	// ErrConfig marks a Config (or a child's command line) that cannot
	// run; the CLI exits 2 on it.
	ErrConfig = errors.New("bench: bad configuration")
	// ErrNeedsLinux is what the bench returns elsewhere: it needs kernel
	// receive timestamps and /proc.
	ErrNeedsLinux = errors.New("bench: needs Linux")
)

// Config is one bench run's settings, the flags of imustream bench, which
// Args writes back. DefaultConfig returns the defaults.
type Config struct {
	// Duration is how long to measure, after Warmup. It defaults to 10 s.
	Duration time.Duration `json:"-"`
	// Warmup is streaming before the measurement, left out of the timing
	// figures (not of the loss). It defaults to 1 s.
	Warmup time.Duration `json:"-"`
	// Seconds and WarmupSecs are Duration and Warmup in the JSON; Check
	// sets them.
	Seconds    float64 `json:"duration_s"`
	WarmupSecs float64 `json:"warmup_s"`
	// RateHz is the sample rate (sensor.CheckRate). It defaults to 200.
	RateHz int `json:"rate_hz"`
	// Batch is the number of samples per datagram. It defaults to 1.
	Batch int `json:"batch"`
	// Load is the number of CPU-bound processes (SpinCommand) run during
	// the measurement, 0..64.
	Load int `json:"load"`
	// FloodPPS is the rate of start commands sent to the daemon from a
	// disallowed address (127.0.0.2), every other second.
	FloodPPS int `json:"flood_pps"`
	// Commands is the rate of status commands sent to the daemon from an
	// allowed address (127.0.0.1): its replies allocate, so it collects
	// garbage.
	Commands int `json:"commands_pps"`
	// Rig runs the daemon with its rig front-end and, during the whole
	// run, a rig that sends the 19-byte start packet every second from an
	// allowed address and takes its samples: a second subscriber in the
	// simulink layout, and a command every second.
	Rig bool `json:"rig"`
	// Baseline also measures a time.Ticker loop (BaselineCommand) doing
	// the same job at the same time.
	Baseline bool `json:"baseline"`
	// RTPriority, CPU, Mlock and Spin are the daemon's --rt-priority,
	// --cpu, --mlock and --spin. They default to the daemon's defaults
	// (priority 50, CPUs auto, no mlock, no spin).
	RTPriority int           `json:"rt_priority"`
	CPU        daemon.CPUs   `json:"cpu"`
	Mlock      bool          `json:"mlock"`
	Spin       time.Duration `json:"spin_ns"`
	// Floor also measures the machine's floor (FloorCommand): threads
	// scheduled like the sender's, half a period off its grid, that only
	// wake up.
	Floor bool `json:"floor"`
	// Peer, when set, is the path of another streamer measured at the
	// same time, the way a minimal C loop is (docs/performance.md): it is
	// run as Peer -listen 127.0.0.1:PORT -period-us N -prio P (P is
	// RTPriority), streams to whoever sends it "start" until "stop", and
	// each datagram begins with a little-endian u32 seq and u64
	// CLOCK_REALTIME ns.
	Peer string `json:"peer,omitempty"`
	// Cycles is the number of start/stop cycles after the measurement,
	// for the start → first datagram and stop → end latencies. It
	// defaults to 50.
	Cycles int `json:"cycles"`
	// FIFO runs the daemon's simulator in its FIFO mode (run --fifo on):
	// the samples are timed by a simulated sensor clock and collected
	// every 5 ms.
	FIFO bool `json:"fifo,omitempty"`
}

// DefaultConfig returns the defaults of imustream bench.
func DefaultConfig() Config {
	return Config{
		Duration: 10 * time.Second, Warmup: time.Second, RateHz: 200, Batch: 1,
		RTPriority: 50, CPU: daemon.CPUs{Auto: true}, Cycles: 50,
	}
}

// Check says, wrapping ErrConfig, why c cannot run, and sets Seconds and
// WarmupSecs.
func (c *Config) Check() error {
	switch {
	case c.Duration <= 0 || c.Warmup < 0:
		return fmt.Errorf("%w: --duration must be > 0 and --warmup ≥ 0", ErrConfig)
	case sensor.CheckRate(c.RateHz) != nil:
		return fmt.Errorf("%w: --rate %d out of range %d..%d", ErrConfig, c.RateHz, sensor.MinRateHz, sensor.MaxRateHz)
	case c.Batch < 1 || c.Batch > telemetry.MaxBatch:
		return fmt.Errorf("%w: --batch %d out of range 1..%d", ErrConfig, c.Batch, telemetry.MaxBatch)
	case c.RTPriority < 0 || c.RTPriority > 99:
		return fmt.Errorf("%w: --rt-priority %d out of range 0..99", ErrConfig, c.RTPriority)
	case c.Spin < 0:
		return fmt.Errorf("%w: --spin %v is negative", ErrConfig, c.Spin)
	case c.Load < 0 || c.Load > 64 || c.FloodPPS < 0 || c.FloodPPS > 1_000_000 ||
		c.Commands < 0 || c.Commands > 1_000_000 || c.Cycles < 0:
		return fmt.Errorf("%w: --load 0..64, --flood and --commands 0..1000000, --cycles ≥ 0", ErrConfig)
	}
	c.Seconds, c.WarmupSecs = c.Duration.Seconds(), c.Warmup.Seconds()
	return nil
}

// Args returns the bench command line that repeats c, without the
// program's name and leaving out the defaults.
func (c *Config) Args() []string {
	d := DefaultConfig()
	a := []string{"bench", "--duration", c.Duration.String()}
	opt := func(set bool, flag string, value ...string) {
		if set {
			a = append(append(a, flag), value...)
		}
	}
	opt(c.Warmup != d.Warmup, "--warmup", c.Warmup.String())
	opt(c.RateHz != d.RateHz, "--rate", strconv.Itoa(c.RateHz))
	opt(c.Batch != d.Batch, "--batch", strconv.Itoa(c.Batch))
	opt(c.Load > 0, "--load", strconv.Itoa(c.Load))
	opt(c.FloodPPS > 0, "--flood", strconv.Itoa(c.FloodPPS))
	opt(c.Commands > 0, "--commands", strconv.Itoa(c.Commands))
	opt(c.Rig, "--rig")
	opt(c.Baseline, "--baseline")
	opt(c.RTPriority != d.RTPriority, "--rt-priority", strconv.Itoa(c.RTPriority))
	opt(!c.CPU.Auto, "--cpu", c.CPU.String())
	opt(c.Mlock, "--mlock")
	opt(c.Spin != d.Spin, "--spin", c.Spin.String())
	opt(c.Floor, "--floor")
	opt(c.Peer != "", "--peer", c.Peer)
	opt(c.Cycles != d.Cycles, "--cycles", strconv.Itoa(c.Cycles))
	opt(c.FIFO, "--fifo")
	return a
}
