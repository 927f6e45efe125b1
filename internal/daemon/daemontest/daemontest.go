// Package daemontest runs a real daemon in a test's process: the
// end-to-end tests of the daemon and of the receiver side use it.
package daemontest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/sensor/sim"
)

// Start runs the daemon cfg describes until the test ends or stop is
// called (stop waits for Run to return; it may be called more than once).
// Zero fields get test defaults: a listener on 127.0.0.1:0, 200 Hz, the
// simulated sensor (seed 7), version "test". With key, the daemon obeys
// only commands signed with it (the key file goes in a temporary
// directory).
func Start(t testing.TB, cfg daemon.Config, key *control.Key) (d *daemon.Daemon, stop func()) {
	t.Helper()
	if cfg.Listen == "" && cfg.Conn == nil {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.RateHz == 0 {
		cfg.RateHz = 200
	}
	if cfg.Sensor == nil {
		cfg.Sensor = sim.New(sim.Opts{Seed: 7})
	}
	if cfg.Version == "" {
		cfg.Version = "test"
	}
	if key != nil {
		cfg.KeyFile = filepath.Join(t.TempDir(), "key")
		if err := control.WriteKeyFile(cfg.KeyFile, *key); err != nil {
			t.Fatal(err)
		}
	}
	d, err := daemon.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := d.Run(ctx); err != nil {
			t.Errorf("daemon: Run: %v", err)
		}
	})
	stop = func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return d, stop
}
