package bridge

import (
	"flag"
	"time"
)

// RegisterFlags adds the stream and publishing flags of imustream bridge
// to fs, bound to c, with the CLI's defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Prefix, "prefix", "imustream", "first subject `TOKEN`: subjects are TOKEN.DEVICE.imu and TOKEN.DEVICE.status")
	fs.StringVar(&c.Stream, "stream", "IMUSTREAM", "JetStream stream `NAME` to create or update ('': publish to an existing one)")
	fs.IntVar(&c.Replicas, "replicas", 1, "the stream's replicas, `N` in 1..5 (3 on a 3-node cluster)")
	fs.DurationVar(&c.MaxAge, "max-age", 24*time.Hour, "the stream keeps messages this `DURATION` (0: no limit)")
	fs.Int64Var(&c.MaxBytes, "max-bytes", 0, "the stream keeps this many `BYTES` at most (0: no limit)")
	fs.DurationVar(&c.Lease, "lease", 3*time.Second, "each stream's lease, a `DURATION`")
	fs.DurationVar(&c.FlushEvery, "flush", 20*time.Millisecond, "a message carries the datagrams of up to this `DURATION`")
	fs.IntVar(&c.QueueLen, "queue", 8192, "messages waiting for NATS, `N`; beyond them batches are dropped and counted")
}
