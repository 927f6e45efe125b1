package receiver

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/imustream/imustream/timesync"
)

// WriteSync runs time exchanges with src, a few or for d, and writes what
// they say of the device's clock as imustream status prints it: its
// offset from this host's, the round trip, and the drift, which needs
// exchanges over 10 s or more.
func WriteSync(w io.Writer, src timesync.Source, d time.Duration) {
	e, ok := timesync.Measure(context.Background(), src, d)
	if !ok {
		fmt.Fprintf(w, "%-17s %s\n", "time_sync", "none: the daemon did not answer the time command")
		return
	}
	fmt.Fprintf(w, "%-17s %s (device − this host, CLOCK_MONOTONIC)\n", "time_offset", Nanos(e.OffsetAt(e.Ref)))
	fmt.Fprintf(w, "%-17s %s (smallest of %d exchanges)\n", "time_rtt", Nanos(e.RTT), e.Exchanges)
	if e.Drift == 0 && d < timesync.MinDriftSpan {
		fmt.Fprintf(w, "%-17s %s\n", "time_drift", "unknown: fitted over 10 s of exchanges (status --sync 12s; record shows it)")
		return
	}
	fmt.Fprintf(w, "%-17s %+.2f ppm\n", "time_drift", e.Drift*1e6)
}
