package bench

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/daemon"
)

// TestSuiteCommands: each run of the suite is the command line the
// document lists for it.
func TestSuiteCommands(t *testing.T) {
	base := DefaultConfig()
	base.Duration = 20 * time.Second
	want := []string{
		"bench --duration 20s --baseline --floor",
		"bench --duration 20s --baseline --rt-priority 0 --floor",
		"bench --duration 20s --load 2 --baseline --floor",
		"bench --duration 20s --load 2 --baseline --cpu " + twoCPUs().String() + " --floor",
		"bench --duration 20s --load 2 --baseline --spin 50µs --floor",
		"bench --duration 20s --load 2 --flood 10000 --baseline --floor",
		"bench --duration 20s --load 2 --commands 2000 --baseline --floor",
		"bench --duration 20s --load 2 --baseline --rt-priority 0 --floor",
		"bench --duration 20s --rate 1000 --load 2 --baseline --floor",
		"bench --duration 20s --rate 8000 --batch 8 --load 2 --baseline",
	}
	runs := suite()
	if len(runs) != len(want) {
		t.Fatalf("%d runs, want %d", len(runs), len(want))
	}
	for i, s := range runs {
		c := s.config(base)
		if err := c.Check(); err != nil {
			t.Errorf("%s: %v", s.title, err)
		}
		if got := strings.Join(c.Args(), " "); got != want[i] {
			t.Errorf("%s: %q, want %q", s.title, got, want[i])
		}
	}
}

// TestArgsAll: every setting off its default is on the command line.
func TestArgsAll(t *testing.T) {
	c := Config{Duration: time.Minute, Warmup: 2 * time.Second, RateHz: 500, Batch: 4, Load: 1, FloodPPS: 10,
		Commands: 20, Baseline: true, RTPriority: 10, CPU: daemon.CPUs{List: []int{2, 3}}, Mlock: true,
		Spin: 20 * time.Microsecond, Floor: true, Cycles: 5}
	want := "bench --duration 1m0s --warmup 2s --rate 500 --batch 4 --load 1 --flood 10 --commands 20 --baseline " +
		"--rt-priority 10 --cpu 2,3 --mlock --spin 20µs --floor --cycles 5"
	if got := strings.Join(c.Args(), " "); got != want {
		t.Errorf("Args = %q, want %q", got, want)
	}
	d := DefaultConfig()
	if got := strings.Join(d.Args(), " "); got != "bench --duration 10s" {
		t.Errorf("DefaultConfig().Args() = %q", got)
	}
}

func TestCheck(t *testing.T) {
	c := DefaultConfig()
	if err := c.Check(); err != nil || c.Seconds != 10 || c.WarmupSecs != 1 {
		t.Errorf("defaults: %v, %v s, warm-up %v s; want no error, 10 s, 1 s", err, c.Seconds, c.WarmupSecs)
	}
	for _, tc := range []struct {
		set  func(c *Config)
		want string
	}{
		{func(c *Config) { c.Duration = 0 }, "--duration must be > 0"},
		{func(c *Config) { c.Warmup = -time.Second }, "--warmup ≥ 0"},
		{func(c *Config) { c.RateHz = 0 }, "--rate 0 out of range 1..10000"},
		{func(c *Config) { c.RateHz = 10001 }, "--rate 10001 out of range"},
		{func(c *Config) { c.Batch = 0 }, "--batch 0 out of range"},
		{func(c *Config) { c.RTPriority = 100 }, "--rt-priority 100 out of range 0..99"},
		{func(c *Config) { c.Spin = -time.Microsecond }, "--spin -1µs is negative"},
		{func(c *Config) { c.Load = 65 }, "--load 0..64"},
		{func(c *Config) { c.FloodPPS = -1 }, "--flood"},
		{func(c *Config) { c.Cycles = -1 }, "--cycles ≥ 0"},
	} {
		c := DefaultConfig()
		tc.set(&c)
		err := c.Check()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "bench: ") {
			t.Errorf("Check = %v; want a bench: ErrConfig saying %q", err, tc.want)
		}
	}
}

// TestChildArgs: the children parse the command lines the bench writes
// for them.
func TestChildArgs(t *testing.T) {
	b := baselineArgs{to: netip.MustParseAddrPort("127.0.0.1:4242"), rateHz: 1000, batch: 4, seed: 1}
	a := b.args()
	if a[0] != BaselineCommand {
		t.Errorf("baseline command line %q", a)
	}
	if got, err := parseBaselineArgs(a[1:], io.Discard); err != nil || got != b {
		t.Errorf("baseline: %q parsed as %+v, %v; want %+v", a, got, err, b)
	}
	f := floorArgs{rateHz: 200, ticks: 1180, rtPriority: 50, start: 123456789, cpu: daemon.CPUs{List: []int{0, 1}}, spin: 50 * time.Microsecond}
	a = f.args()
	if a[0] != FloorCommand {
		t.Errorf("floor command line %q", a)
	}
	if got, err := parseFloorArgs(a[1:], io.Discard); err != nil || !reflect.DeepEqual(got, f) {
		t.Errorf("floor: %q parsed as %+v, %v; want %+v", a, got, err, f)
	}
	for _, bad := range [][]string{{"--to", "127.0.0.1:1", "--batch", "0"}, {"--rate", "200"}, {"--to", "x"}} {
		if _, err := parseBaselineArgs(bad, io.Discard); !errors.Is(err, ErrConfig) {
			t.Errorf("baseline %q: %v, want ErrConfig", bad, err)
		}
	}
	for _, bad := range [][]string{{"--ticks", "1"}, {"--rate", "0"}, {"--cpu", "1,1"}, {"--spin", "-1us"}, {"extra"}} {
		if _, err := parseFloorArgs(bad, io.Discard); !errors.Is(err, ErrConfig) {
			t.Errorf("floor %q: %v, want ErrConfig", bad, err)
		}
	}
	// Child routes each hidden command to its entry point, whose own
	// checks refuse these lines.
	for _, name := range []string{BaselineCommand, FloorCommand} {
		if err := Child(context.Background(), name, []string{"--rate", "0"}, io.Discard, io.Discard); !errors.Is(err, ErrConfig) && !errors.Is(err, ErrNeedsLinux) {
			t.Errorf("Child %s with --rate 0: %v, want ErrConfig", name, err)
		}
	}
	if err := Child(context.Background(), "bench-nope", nil, io.Discard, io.Discard); err == nil {
		t.Error("Child of an unknown command: no error")
	}
}
