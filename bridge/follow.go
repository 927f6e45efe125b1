package bridge

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/imustream/imustream/discovery"
)

// DeviceList is a repeatable flag of devices, each as ParseDevice takes it.
type DeviceList []Device

func (l *DeviceList) String() string { return fmt.Sprint(len(*l), " devices") }

// Set adds one device.
func (l *DeviceList) Set(s string) error {
	d, err := ParseDevice(s)
	if err == nil {
		*l = append(*l, d)
	}
	return err
}

// ReadFile adds the devices of the devices file path (ReadDevices). bad
// says that the error is the file's content, not its opening.
func (l *DeviceList) ReadFile(path string) (bad bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	ds, err := ReadDevices(f)
	if err != nil {
		return true, err
	}
	*l = append(*l, ds...)
	return false, nil
}

// AwaitStream is EnsureStream, tried again every second while a cluster
// elects its leader or the servers are not up yet, until it works or ctx
// ends.
func (b *Bridge) AwaitStream(ctx context.Context) error {
	for {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := b.EnsureStream(c)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
		select { // on ctx's end, the next try returns its error
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// LogStats logs the counters (Config.Logf) every interval until ctx ends.
func (b *Bridge) LogStats(ctx context.Context, every time.Duration) {
	each(ctx, every, func() {
		st := b.Stats()
		b.logf("bridge: %d samples, %d messages stored, %d sent again, %d dropped, %d queued, %d unacknowledged",
			st.Samples, st.Messages, st.Retries, st.Dropped, st.Queued, st.Pending)
	})
}

// each calls fn every interval until ctx ends.
func each(ctx context.Context, every time.Duration, fn func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// FollowDiscovered follows the daemons that announce themselves on the
// LAN (package discovery), each named by NameFor its instance, and stops
// following those that leave, until ctx ends. It logs each (Config.Logf).
func (b *Bridge) FollowDiscovered(ctx context.Context) {
	discovery.Watch(ctx, 5*time.Second, func(e discovery.Entry) {
		d := Device{Name: NameFor(e.Instance), Addr: e.Addr()}
		if err := b.Add(d); err != nil {
			b.logf("bridge: discovered %s at %s: %v", e.Instance, e.Addr(), err)
			return
		}
		b.logf("bridge: discovered %s at %s (%s, %s Hz): following it as %s", e.Instance, e.Addr(), e.TXT["sensor"], e.TXT["rate"], d.Name)
	}, func(e discovery.Entry) {
		b.Remove(NameFor(e.Instance))
		b.logf("bridge: %s is gone from the LAN; no longer followed", e.Instance)
	})
}
