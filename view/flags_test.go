package view

import (
	"flag"
	"io"
	"testing"
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
