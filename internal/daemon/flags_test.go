package daemon

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/sensor/detect"
	"github.com/imustream/imustream/sensor/fusion"
	"github.com/imustream/imustream/sensor/sim"
)

func TestConfigRegisterFlags(t *testing.T) {
	var c Config
	var r RigFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	r.RegisterFlags(fs)
	if c.Listen != DefaultListen || c.RateHz != 200 || c.Batch != 1 || c.RTPriority != DefaultRTPriority || !c.CPUs.Auto || c.Spin != DefaultSpin || !c.Announce {
		t.Errorf("defaults: %+v", c)
	}
	if err := fs.Parse([]string{"--rate", "400", "--rt-priority", "0", "--cpu", "none", "--allow", "10.0.0.0/8", "--key", "k", "--rig-listen", ":0", "--rig-to", ":9000"}); err != nil {
		t.Fatal(err)
	}
	if c.RateHz != 400 || c.RTPriority != 0 || c.CPUs.Auto || len(c.Allow) != 1 || c.KeyFile != "k" {
		t.Errorf("after parsing: %+v", c)
	}
	rc, err := r.Config()
	if err != nil || rc.Listen != ":0" || rc.To == nil || rc.Timeout != r.Timeout {
		t.Errorf("RigFlags.Config() = %+v, %v", rc, err)
	}
	if err := fs.Set("rt-priority", "100"); err == nil {
		t.Error("--rt-priority 100 accepted")
	}
	r = RigFlags{To: ":9000", Timeout: time.Second}
	if _, err := r.Config(); err == nil {
		t.Error("--rig-to without --rig-listen accepted")
	}
}

// TestCheckFlags: the defaults pass; a rate, batch or listen address the
// daemon cannot use is refused by its flag's name.
func TestCheckFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{nil, ""},
		{[]string{"--rate", "10000", "--batch", "22"}, ""},
		{[]string{"--rate", "0"}, "--rate 0 Hz out of range"},
		{[]string{"--rate", "10001"}, "--rate 10001 Hz out of range"},
		{[]string{"--batch", "0"}, "--batch 0 out of range"},
		{[]string{"--batch", "23"}, "--batch 23 out of range"},
		{[]string{"--listen", "127.0.0.1:nope"}, `--listen "127.0.0.1:nope"`},
	} {
		var c Config
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		c.RegisterFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		err := c.CheckFlags()
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.err)
		}
	}
}

// TestCheckBatch: 84-byte records (a filter, or the simulator's
// magnetometer) fit 14 to a datagram; other streams are not checked here.
func TestCheckBatch(t *testing.T) {
	const tooMany = "--batch 15 with --fusion: at most 14 records of 84 bytes fit a datagram"
	for _, tc := range []struct {
		name  string
		c     SensorConfig
		batch int
		err   string
	}{
		{"plain", SensorConfig{}, 22, ""},
		{"chip magnetometer", SensorConfig{Detect: detect.Config{Mag: true}}, 22, ""},
		{"6-axis filter", SensorConfig{Fusion: fusion.Opts{Mode: fusion.SixAxis}}, 14, ""},
		{"6-axis filter", SensorConfig{Fusion: fusion.Opts{Mode: fusion.SixAxis}}, 15, tooMany},
		{"9-axis filter", SensorConfig{Fusion: fusion.Opts{Mode: fusion.NineAxis}}, 15, tooMany},
		{"simulated magnetometer", SensorConfig{Sim: true, SimOpts: sim.Opts{Mag: true}}, 15, tooMany},
		{"simulated magnetometer", SensorConfig{Sim: true, SimOpts: sim.Opts{Mag: true}}, 14, ""},
		{"simulated, no magnetometer", SensorConfig{Sim: true}, 22, ""},
	} {
		err := tc.c.CheckBatch(tc.batch)
		if got := fmt.Sprint(err); (err == nil) != (tc.err == "") || err != nil && got != tc.err {
			t.Errorf("%s, --batch %d: %v; want %q", tc.name, tc.batch, err, tc.err)
		}
	}
}
