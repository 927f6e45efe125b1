package daemon

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
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
