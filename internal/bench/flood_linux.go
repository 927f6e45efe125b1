package bench

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// flooder sends the command floods of Config.FloodPPS and Config.Commands
// to the daemon.
type flooder struct {
	// on says whether the hostile flood is on at a moment. It alternates
	// a second on, a second off, so that its effect is measured against
	// quiet seconds of the same run: two runs on a shared machine differ
	// by more than a flood does.
	on             func(time.Time) bool
	sent, commands atomic.Uint64
	cancel         context.CancelFunc
	wg             sync.WaitGroup
}

// startFloods starts the floods the configuration asks for; they run
// until flood.stop or close.
func (s *session) startFloods(ctx context.Context) error {
	f := &flooder{}
	phase0 := time.Now()
	f.on = func(t time.Time) bool { return t.Sub(phase0)/time.Second%2 == 0 }
	ctx, f.cancel = context.WithCancel(ctx)
	s.flood = f
	s.onClose(f.stop)
	for _, fl := range []struct {
		pps  int
		from net.IP
		msg  string
		sent *atomic.Uint64
		on   func(time.Time) bool
	}{
		// Hostile: a start the allow list must drop without a reply.
		{s.c.FloodPPS, net.IPv4(127, 0, 0, 2), "start lease=24h\n", &f.sent, f.on},
		// Allowed: answered, and the garbage of each reply collected.
		{s.c.Commands, net.IPv4(127, 0, 0, 1), "status\n", &f.commands, nil},
	} {
		if fl.pps == 0 {
			continue
		}
		fc, err := net.DialUDP("udp", &net.UDPAddr{IP: fl.from}, net.UDPAddrFromAddrPort(s.ctl))
		if err != nil {
			return fmt.Errorf("bench: flood socket: %w", err)
		}
		s.onClose(func() { fc.Close() })
		f.wg.Go(func() { flood(ctx, fc, fl.pps, []byte(fl.msg), fl.sent, fl.on) })
	}
	return nil
}

// stop stops the floods and waits for them.
func (f *flooder) stop() {
	f.cancel()
	f.wg.Wait()
}

// flood sends msg at pps while on (nil: always) until ctx ends, in bursts
// every millisecond so the rate holds whatever the sleep resolution.
func flood(ctx context.Context, c *net.UDPConn, pps int, msg []byte, sent *atomic.Uint64, on func(time.Time) bool) {
	last := time.Now()
	var onTime time.Duration
	n := uint64(0)
	for ctx.Err() == nil {
		now := time.Now()
		if on == nil || on(now) {
			onTime += now.Sub(last)
		}
		last = now
		due := uint64(onTime.Seconds() * float64(pps))
		for ; n < due; n++ {
			_, _ = c.Write(msg)
		}
		sent.Store(n)
		time.Sleep(time.Millisecond)
	}
}
