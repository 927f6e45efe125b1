package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/imustream/imustream/internal/rt"
	"github.com/imustream/imustream/internal/sdnotify"
	"github.com/imustream/imustream/stream"
)

// statusEvery is how often STATUS= is refreshed when systemd's watchdog
// is off.
const statusEvery = 2 * time.Second

// watchdog is the systemd component: it tells systemd (Type=notify) how the
// daemon is doing while it runs: READY=1 once it runs (the control socket
// is bound and both goroutines are started), a STATUS= line whenever the
// state changes, WATCHDOG=1 only while the sender is healthy, and
// STOPPING=1 at the end.
type watchdog struct {
	n      *sdnotify.Notifier
	sender *stream.Sender
	subs   *stream.Subscribers
	clock  rt.Clock
	log    *slog.Logger
}

// newWatchdog returns nil outside systemd (n nil): nothing to run.
func newWatchdog(n *sdnotify.Notifier, sender *stream.Sender, subs *stream.Subscribers, clock rt.Clock, log *slog.Logger) *watchdog {
	if n == nil {
		return nil
	}
	return &watchdog{n: n, sender: sender, subs: subs, clock: clock, log: log}
}

// run notifies until ctx ends.
func (w *watchdog) run(ctx context.Context) {
	wd, err := sdnotify.WatchdogInterval()
	if err != nil {
		w.log.Warn("systemd watchdog off", "err", err)
	}
	// Four checks per WatchdogSec: a single check that lands in a brief
	// hiccup does not cost a restart; only a stall of over half of
	// WatchdogSec does.
	every := statusEvery
	if wd > 0 {
		every = wd / 4
	}
	failed := false
	onErr := func(err error) {
		if !failed {
			failed = true
			w.log.Warn("cannot notify systemd", "err", err)
		}
	}
	if err := w.n.Notify("READY=1"); err != nil {
		onErr(err)
	}
	w.log.Debug("systemd notified", "watchdog", wd, "check_every", every)
	w.n.Watch(ctx, every, wd > 0, func() (bool, string) {
		return senderHealth(w.sender.Stats(), len(w.subs.List()), w.clock.Now(), w.sender.Period())
	}, onErr)
	_ = w.n.Notify("STOPPING=1\nSTATUS=stopping")
}

// stallAfter is how old the sender's last tick may be, while it streams,
// before the sender counts as stalled: two periods, and at least 100 ms so
// that a scheduling hiccup on a loaded Pi is not a stall.
func stallAfter(period int64) int64 { return max(2*period, int64(100*time.Millisecond)) }

// senderHealth judges the sender at monotonic time now. An idle sender
// (no subscribers) is healthy: it waits for a start command. A streaming
// sender is healthy while its last tick is recent; a sensor read or send
// that never returns makes it stalled.
func senderHealth(st stream.Stats, subscribers int, now, period int64) (bool, string) {
	if !st.Streaming {
		return true, fmt.Sprintf("idle, waiting for a start command; %d Hz", st.RateHz)
	}
	if age := now - st.LastTickMono; age > stallAfter(period) {
		return false, fmt.Sprintf("stalled: no tick for %v; watchdog not fed", time.Duration(age).Round(100*time.Millisecond))
	}
	s := fmt.Sprintf("streaming to %d subscribers at %d Hz", subscribers, st.RateHz)
	if subscribers == 1 {
		s = fmt.Sprintf("streaming to 1 subscriber at %d Hz", st.RateHz)
	}
	if st.SensorErrors > 0 {
		s += fmt.Sprintf("; %d sensor errors", st.SensorErrors)
	}
	return true, s
}
