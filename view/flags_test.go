package view

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/imustream/imustream/receiver"
)

func TestNATSFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--nats", "nats://127.0.0.1:4222", "--subject", "imustream.pi.imu"}, true},
		{[]string{"--nats", "nats://127.0.0.1:4222", "--subject", "imustream.pi.imu", "--start-at", "all"}, true},
		{[]string{"--nats", "nats://127.0.0.1:4222"}, false},
		{[]string{"--nats", "nats://127.0.0.1:4222", "--subject", "imustream.pi.imu", "--start-at", "yesterday"}, false},
	} {
		var n NATSFlags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		n.RegisterFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		src, err := n.Source()
		if (err == nil) != tc.ok || err == nil && (src.URLs != n.URLs || src.Subject != n.Subject) {
			t.Errorf("%q: Source() = %+v, %v", tc.args, src, err)
		}
	}
}

// TestConfigRegisterFlags: --lease defaults to a recording's lease and
// sets Config.Lease.
func TestConfigRegisterFlags(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("view", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if c.Lease != receiver.DefaultLease {
		t.Errorf("default lease %s, want %s", c.Lease, receiver.DefaultLease)
	}
	if err := fs.Parse([]string{"--lease", "10s"}); err != nil || c.Lease != 10*time.Second {
		t.Errorf("--lease 10s: lease %s, err %v", c.Lease, err)
	}
}
